"""Integrators of the α-(de)blending ODE dx/dα = D(x, α), α from 0 (noise) to 1 (data).

IADB's own sampler is Euler on a uniform grid: one network call a step. Heun (the trapezoidal
predictor-corrector) evaluates D again at the predicted end of each step and averages the two slopes: two
calls a step, second-order accurate, so fewer steps reach the same path; its last step stays Euler (no call
at α = 1, where D is not trained to be reliable), as in Karras et al. 2022. `calls(sampler, steps)` says
what a setting costs in network calls.
"""

from collections.abc import Callable

import torch

from vocalgen.errors import ConfigError

Direction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x [B, …], α [B]) → dx/dα [B, …]
SAMPLERS = ("euler", "heun")


def calls(sampler: str, steps: int) -> int:
    """Network calls of `steps` steps of `sampler` (a guided call counts once, whatever its batch)."""
    check_sampler(sampler)
    return steps if sampler == "euler" else 2 * steps - 1


def check_sampler(sampler: str) -> None:
    """ConfigError unless `sampler` is one of SAMPLERS."""
    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler={sampler!r}: choose one of {list(SAMPLERS)}.")


def integrate(direction: Direction, x: torch.Tensor, steps: int, sampler: str = "euler") -> torch.Tensor:
    """x at α = 0 [B, …] → x at α = 1, in `steps` uniform steps of `sampler` (euler or heun)."""
    check_sampler(sampler)
    if steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}.")
    batch = x.shape[0]
    for t in range(steps):
        start, end = t / steps, (t + 1) / steps
        slope = direction(x, torch.full((batch,), start, device=x.device))
        predicted = x + (end - start) * slope
        if sampler == "heun" and t < steps - 1:
            corrected = direction(predicted, torch.full((batch,), end, device=x.device))
            predicted = x + (end - start) * 0.5 * (slope + corrected)
        x = predicted
    return x
