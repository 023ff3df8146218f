"""The mel VAE of AudioLDM: a KL autoencoder (diffusers AutoencoderKL) over log-mel spectrograms."""

from collections.abc import Sequence

import torch
from torch import nn

from vocalgen.errors import ConfigError
from vocalgen.pretransforms.kl_autoencoder import kl_autoencoder


class MelVAE(nn.Module):
    """log-mel [B, 1, T, F] ↔ latents [B, latent_channels, T/d, F/d], d = 2**(len(multipliers) − 1).

    Recipe: 8 latent channels, base 128, multipliers [1, 2, 4], two res blocks per level
    (a 1024 × 64 mel → 8 × 256 × 16 latents).
    """

    def __init__(self, latent_channels: int = 8, base_channels: int = 128, multipliers: Sequence[int] = (1, 2, 4),
                 layers_per_block: int = 2, norm_groups: int = 32, mid_attention: bool = True) -> None:
        super().__init__()
        self.model = kl_autoencoder(1, latent_channels, base_channels, multipliers, layers_per_block, norm_groups,
                                    mid_attention, "mel VAE")
        self.latent_channels = latent_channels
        self.downsampling = 2 ** (len(multipliers) - 1)

    def posterior(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mel [B, 1, T, F] → (mean, log-variance), each [B, latent_channels, T/d, F/d]."""
        if mel.shape[-2] % self.downsampling or mel.shape[-1] % self.downsampling:
            raise ConfigError(f"the mel VAE needs frames and bands divisible by {self.downsampling}, got "
                              f"{tuple(mel.shape[-2:])}; change the clip length (data field samples).")
        distribution = self.model.encode(mel).latent_dist
        return distribution.mean, distribution.logvar

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """latents [B, latent_channels, T/d, F/d] → log-mel [B, 1, T, F]."""
        return self.model.decode(latents).sample
