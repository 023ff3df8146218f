"""The random source of a generator's sampling: a seeded one when a seed is given."""

import torch


def seeded_generator(seed: int | None) -> torch.Generator | None:
    """A CPU torch.Generator seeded with `seed` (draws repeat exactly), or None (the global generator)."""
    return torch.Generator().manual_seed(seed) if seed is not None else None
