"""Aligning a training target in time with its query: a vocal imitation starts later or earlier than the sound it
imitates (an unknown lag per imitation), so a decoder that works in the imitation's time cannot know where the
target's short events lie; trained on the target moved to the imitation's timing, it can place them where the
imitation has them."""

import torch
from torch.nn import functional as F


def best_lags(query_active: torch.Tensor, target_active: torch.Tensor, max_lag: int) -> torch.Tensor:
    """query_active, target_active [B, T] (bool: frames where each is sounding or pitched) → lags [B] (long) in
    −max_lag … max_lag: the delay of the target that makes the most of its active frames meet active frames of the
    query (ties go to the lag nearest 0; an item whose target or query has no active frame gets 0)."""
    query, target = query_active.float(), target_active.float()
    lags = torch.arange(-max_lag, max_lag + 1, device=query.device)
    # [B, lags, T]: row j is the target delayed by lags[j] (zero-filled, as `delayed` would give it)
    shifted = F.pad(target, (max_lag, max_lag)).unfold(-1, target.shape[-1], 1).flip(1)
    overlaps = (shifted * query.unsqueeze(1)).sum(-1)
    scores = overlaps - 1e-3 * lags.abs()      # less than one frame of overlap: only breaks ties
    return lags[scores.argmax(-1)]


def delayed(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """x [B, ..., N] and shifts [B] (long, in x's last-axis steps) → x with each item moved later by its shift
    (earlier where negative), zero-filled where nothing moves in."""
    steps = x.shape[-1]
    source = torch.arange(steps, device=x.device) - shifts.view(-1, 1)                           # [B, N]
    inside = (source >= 0) & (source < steps)
    source = source.clamp(0, steps - 1).view(shifts.shape[0], *[1] * (x.dim() - 2), steps).expand_as(x)
    return x.gather(-1, source) * inside.view(source.shape[0], *[1] * (x.dim() - 2), steps)
