"""Learning-rate schedules as LambdaLR factors (configured with `_partial_: true`)."""

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


class WarmupCosineFactor:
    """step → lr factor: linear warm-up to 1, then cosine down to `min_factor` at `total_steps`."""

    def __init__(self, total_steps: int, warmup_steps: int, min_factor: float) -> None:
        self.total_steps = max(total_steps, 1)
        self.warmup_steps = min(warmup_steps, self.total_steps)
        self.min_factor = min_factor

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        progress = min((step - self.warmup_steps) / max(self.total_steps - self.warmup_steps, 1), 1.0)
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


def warmup_cosine(optimizer: Optimizer, total_steps: int, warmup_fraction: float = 0.05,
                  min_factor: float = 0.01) -> LambdaLR:
    """Per-step warm-up + cosine schedule over the run's `total_steps` optimizer steps."""
    factor = WarmupCosineFactor(total_steps, int(warmup_fraction * total_steps), min_factor)
    return LambdaLR(optimizer, factor)
