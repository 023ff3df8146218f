"""Variational head that keeps the encoder's time axis: one small Gaussian latent per feature frame."""

import torch
from torch import nn

from vocalgen.adapters.vae_head import VariationalHead
from vocalgen.errors import ConfigError


class FramewiseVAEHead(VariationalHead):
    """feature map [B, C, F', T'] (an unpooled spectrogram backbone, e.g. MobileNetV3 with pool=False) →
    z [B, latent_dim], latent_dim = T' · frame_dim: per time frame, the C · F' features (channels and frequency
    rows) give μ and log σ² of `frame_dim` dimensions (1×1 convolutions, shared over frames), flattened
    frame-major. The latent stays a vector, so every decoder of a global latent takes it unchanged; what it
    gains is the imitation's timing (where a global mean pools it away).

    in_channels: C · F' (960 · 4 for mn10 on 128 mel bands); frames: T' (ceil(mel frames / 32)).
    """

    def __init__(self, in_channels: int, frames: int, latent_dim: int) -> None:
        if latent_dim % frames:
            raise ConfigError(f"adapter.latent_dim={latent_dim} must be a multiple of adapter.frames={frames} "
                              "(latent_dim = frames × the latent size per frame).")
        super().__init__()
        self.in_dim = in_channels
        self.frames = frames
        self.mu = nn.Conv1d(in_channels, latent_dim // frames, 1)
        self.logvar = nn.Conv1d(in_channels, latent_dim // frames, 1)

    def posterior(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """features [B, C, F', T'] → μ, log σ² [B, T' · frame_dim]."""
        if features.dim() != 4:
            raise ConfigError(f"adapter FramewiseVAEHead needs an unpooled feature map [B, C, F', T'], got "
                              f"{tuple(features.shape)}; set encoder.backbone.pool=false.")
        frames = features.flatten(1, 2)
        if frames.shape[1:] != (self.in_dim, self.frames):
            raise ConfigError(
                f"adapter expects C·F' = {self.in_dim} features in {self.frames} frames but the encoder gives "
                f"{frames.shape[1]} in {frames.shape[2]}; set adapter.in_channels and adapter.frames (frames = "
                "ceil(input frames / 32) for MobileNetV3)."
            )
        return self.mu(frames).transpose(1, 2).flatten(1), self.logvar(frames).transpose(1, 2).flatten(1)
