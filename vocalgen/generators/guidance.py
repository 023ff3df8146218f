"""Classifier-free guidance, shared by the diffusion and α-blending generators."""

from collections.abc import Sequence

import torch


def guide(unconditional: torch.Tensor, conditional: torch.Tensor, scale: float) -> torch.Tensor:
    """u + w · (c − u): scale 0 gives the unconditional prediction, 1 the conditional one."""
    return guide_in_order([unconditional, conditional], [scale])


def guide_in_order(predictions: Sequence[torch.Tensor], scales: Sequence[float]) -> torch.Tensor:
    """Guidance by several conditions in turn: predictions p_0 (none), p_1 (the first), p_2 (the first
    two), … → p_0 + Σ_k w_k · (p_k − p_{k−1}); e.g. text then audio, each with its own scale."""
    result = predictions[0]
    for k, scale in enumerate(scales, start=1):
        result = result + scale * (predictions[k] - predictions[k - 1])
    return result


def guidance_schedule(start: float, end: float | None, steps: int) -> list[float]:
    """The guidance scale at each of `steps` sampling steps: constant `start`, or ramped linearly
    from `start` to `end` (e.g. QVIM-LDM's 1 → 3)."""
    if end is None or steps == 1:
        return [float(start)] * steps
    return [start + (end - start) * i / (steps - 1) for i in range(steps)]


def drop_conditions(condition: torch.Tensor, null: torch.Tensor, probability: float) -> torch.Tensor:
    """condition [B, …] with each row replaced by `null` (broadcastable to one row) with `probability`."""
    if probability <= 0:
        return condition
    keep = torch.rand(condition.shape[0], device=condition.device) >= probability
    keep = keep.view(-1, *([1] * (condition.dim() - 1)))
    return torch.where(keep, condition, null.to(condition.dtype).expand_as(condition))
