"""Clean-ups of a decoded pitch contour before synthesis: short octave slips (median_pitch), longer stretches in
the wrong octave (held_octave) and a clip in the wrong octave (octave_towards a predicted register)."""

import torch
from torch.nn import functional as F

from vocalgen.errors import ConfigError


def odd_window(frames: int, key: str) -> None:
    """Refuse an even window: a median over it would need a tie rule."""
    if frames > 1 and frames % 2 == 0:
        raise ConfigError(f"sampling.{key} must be an odd number of frames (or 1: off), got {frames}.")


def median_pitch(f0: torch.Tensor, frames: int) -> torch.Tensor:
    """f0 [B, T] in Hz, 0 where unvoiced → each voiced frame's f0 replaced by the median (in octaves) of a window of
    `frames` frames centred on it (odd; ≤ 1: unchanged), the window shrunk symmetrically where the frame is nearer
    than frames // 2 to the end of its voiced stretch (so the window never leaves the stretch and holds an odd
    count); unvoiced frames stay 0. Inside a stretch an octave slip shorter than half the window is removed and a
    steady glide is kept exactly; the first and last frames of a stretch keep their own pitch."""
    if frames <= 1:
        return f0
    odd_window(frames, "pitch_median")
    voiced, length = f0 > 0, f0.shape[-1]
    index = torch.arange(length, device=f0.device).expand_as(f0)
    gap_before = torch.where(voiced, -1, index).cummax(-1).values
    gap_after = torch.where(voiced, length, index).flip(-1).cummin(-1).values.flip(-1)
    reach = torch.minimum(index - gap_before, gap_after - index) - 1      # frames to the stretch's nearer end
    log_f0 = torch.log2(f0.clamp(min=1e-6))
    smoothed = f0
    for half in range(1, frames // 2 + 1):
        windows = F.pad(log_f0, (half, half), mode="replicate").unfold(-1, 2 * half + 1, 1)
        smoothed = torch.where(voiced & (reach.clamp(max=frames // 2) == half), 2.0 ** windows.median(-1).values,
                               smoothed)
    return smoothed


def voiced_octaves(f0: torch.Tensor) -> torch.Tensor:
    """f0 [B, T] in Hz, 0 where unvoiced → log2 f0 [B, T], NaN where unvoiced (for nan-medians over voiced frames)."""
    return torch.where(f0 > 0, torch.log2(f0.clamp(min=1e-6)), torch.nan)


def clip_register(f0: torch.Tensor) -> torch.Tensor:
    """f0 [B, T] in Hz (0 unvoiced) → [B]: the median of the voiced frames' pitch in octaves, in Hz (0 for an item
    with no voiced frame)."""
    median = voiced_octaves(f0).nanmedian(-1).values
    return torch.where(median.isnan(), torch.zeros_like(median), 2.0 ** torch.nan_to_num(median))


def scattered_share(f0: torch.Tensor, octaves: float = 0.75) -> torch.Tensor:
    """f0 [B, T] in Hz, 0 where unvoiced → [B]: the share of each item's voiced frames lying more than `octaves`
    from the median of its voiced frames (in octaves): near 0 where the frames agree on one register, large where
    they split between octaves (0 for an item with no voiced frame)."""
    far = (voiced_octaves(f0) - torch.log2(clip_register(f0)).unsqueeze(-1)).abs() > octaves   # NaN compares False
    return far.float().sum(-1) / (f0 > 0).float().sum(-1).clamp(min=1)


def held_octave(f0: torch.Tensor, frames: int) -> torch.Tensor:
    """f0 [B, T] in Hz, 0 where unvoiced → each voiced frame moved by the whole number of octaves that brings it
    nearest the median (in octaves) of the voiced frames within frames // 2 of it (odd; ≤ 1: unchanged), across
    unvoiced gaps; unvoiced frames stay 0. A stretch in the wrong octave shorter than half the voiced frames around
    it returns to their octave, its chroma and its motion kept; a glide spanning less than an octave over the
    window is unchanged (its frames lie within half an octave of the median). A window of 2T − 1 frames or more
    covers the whole clip from every frame: then the one median is the clip's (clip_register), no windows built."""
    if frames <= 1:
        return f0
    odd_window(frames, "octave_hold")
    half = frames // 2
    if half >= f0.shape[-1] - 1:
        return octave_towards(f0, clip_register(f0).unsqueeze(-1))
    windows = F.pad(voiced_octaves(f0), (half, half), value=torch.nan).unfold(-1, frames, 1)   # [B, T, frames]
    return octave_towards(f0, 2.0 ** windows.nanmedian(-1).values)


def octave_towards(f0: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """f0 [B, T] in Hz, 0 where unvoiced, and a reference pitch in Hz broadcastable to it (e.g. [B, 1]; 0 or NaN:
    none) → each voiced frame moved by the whole number of octaves that brings it nearest the reference (within
    half an octave of it), its chroma kept; unvoiced frames and frames without a reference unchanged."""
    voiced = f0 > 0
    octaves = torch.round(torch.nan_to_num(torch.log2(reference / f0.clamp(min=1e-6)), posinf=0.0, neginf=0.0))
    return torch.where(voiced, f0 * 2.0**octaves, f0)
