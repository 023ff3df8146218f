"""The whole clip's summary added to every frame: a frame-wise decoder with a receptive field of a few hundred
milliseconds sees a short event (a 50-ms chirp imitated as a voice glide) much like other classes' events; the
clip's mean and maximum features say which kind of sound the clip is, and so which register its pitch lies in."""

import torch
from torch import nn


def clip_summary(features: torch.Tensor) -> torch.Tensor:
    """features [B, T, dim] → [B, 2 · dim]: their mean and maximum over time."""
    return torch.cat([features.mean(1), features.amax(1)], dim=-1)


class ClipContext(nn.Module):
    """features [B, T, dim] → the same plus a projection of their clip_summary, added to every frame [B, T, dim].
    The projection starts at zero, so a decoder starts as it would without the context."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.project = nn.Linear(2 * dim, dim)
        nn.init.zeros_(self.project.weight)
        nn.init.zeros_(self.project.bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features + self.project(clip_summary(features)).unsqueeze(1)
