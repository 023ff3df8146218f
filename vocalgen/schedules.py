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


def warmup_cosine(optimizer: Optimizer, total_steps: int, steps_per_epoch: int, warmup_fraction: float = 0.05,
                  min_factor: float = 0.01) -> LambdaLR:
    """Per-step warm-up + cosine schedule over the run's `total_steps` optimizer steps
    (`steps_per_epoch` is part of the common scheduler signature; this schedule ignores it)."""
    factor = WarmupCosineFactor(total_steps, int(warmup_fraction * total_steps), min_factor)
    return LambdaLR(optimizer, factor)


class WarmupConstantFactor:
    """step → lr factor: linear warm-up to 1 over `warmup_steps`, then 1."""

    def __init__(self, warmup_steps: int) -> None:
        self.warmup_steps = max(warmup_steps, 1)

    def __call__(self, step: int) -> float:
        return min((step + 1) / self.warmup_steps, 1.0)


def warmup_constant(optimizer: Optimizer, total_steps: int, steps_per_epoch: int, warmup_steps: int = 2000) -> LambdaLR:
    """AudioLDM's schedule: linear warm-up over `warmup_steps` optimizer steps, then constant."""
    return LambdaLR(optimizer, WarmupConstantFactor(warmup_steps))


class EpochWarmupCosineHoldFactor:
    """step → lr factor by (fractional) epoch: linear from `start_factor` to 1 over `warmup_epochs`,
    cosine down to `end_factor` over the next `decay_epochs`, then constant."""

    def __init__(self, steps_per_epoch: int, start_factor: float, warmup_epochs: float, decay_epochs: float,
                 end_factor: float) -> None:
        self.steps_per_epoch = max(steps_per_epoch, 1)
        self.start_factor, self.end_factor = start_factor, end_factor
        self.warmup_epochs, self.decay_epochs = warmup_epochs, decay_epochs

    def __call__(self, step: int) -> float:
        epoch = step / self.steps_per_epoch
        if epoch < self.warmup_epochs:
            return self.start_factor + (1 - self.start_factor) * epoch / self.warmup_epochs
        progress = min((epoch - self.warmup_epochs) / max(self.decay_epochs, 1e-9), 1.0)
        return self.end_factor + (1 - self.end_factor) * 0.5 * (1 + math.cos(math.pi * progress))


def epoch_warmup_cosine_hold(optimizer: Optimizer, total_steps: int, steps_per_epoch: int,
                             start_factor: float = 1 / 3, warmup_epochs: float = 1.0, decay_epochs: float = 7.0,
                             end_factor: float = 1 / 3) -> LambdaLR:
    """The QVIM schedule (docs/recipes.md, "QVIM") with lr = the peak: 1e-4 → 3e-4 over epoch 1, cosine back to
    1e-4 over 7 epochs, then constant (factors 1/3 → 1 → 1/3 of optimizer.lr = 3e-4)."""
    return LambdaLR(optimizer, EpochWarmupCosineHoldFactor(steps_per_epoch, start_factor, warmup_epochs,
                                                           decay_epochs, end_factor))
