"""From one latent vector to a sequence of frames: the time axis that a decoder from a global latent needs."""

import math

import torch
from torch import nn
from torch.nn import functional as F


class LatentFrames(nn.Module):
    """latent [B, latent_dim] → frames [B, channels, frames]: a linear map to ceil(frames / stride) seed frames,
    interpolated linearly to `frames` (every frame a smooth function of the latent and of its position)."""

    def __init__(self, latent_dim: int, frames: int, channels: int, stride: int) -> None:
        super().__init__()
        self.frames = frames
        self.seed_shape = (channels, math.ceil(frames / stride))
        self.seed = nn.Linear(latent_dim, channels * self.seed_shape[1])

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        seeds = self.seed(latent).view(latent.shape[0], *self.seed_shape)
        return F.interpolate(seeds, size=self.frames, mode="linear", align_corners=True)
