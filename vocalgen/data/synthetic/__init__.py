"""Embedded synthetic datasets: procedural sounds and vocal imitations of them (VimSketch layout),
and procedural music loops (loops layout)."""

from .build import ensure_synthetic_dataset
from .loops import ensure_synthetic_loops

__all__ = ["ensure_synthetic_dataset", "ensure_synthetic_loops"]
