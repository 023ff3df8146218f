"""Embedded synthetic dataset in the VimSketch layout: procedural sounds and vocal imitations of them."""

from .build import ensure_synthetic_dataset

__all__ = ["ensure_synthetic_dataset"]
