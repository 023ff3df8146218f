"""The KL autoencoders of latent diffusion (mel VAE, image VAE): a diffusers AutoencoderKL built from a few
sizes, and the Gaussian posterior sample they (and the QVAE head) train with."""

from collections.abc import Sequence

import torch
from torch import nn

from vocalgen.errors import ConfigError


def sample_posterior(mu: torch.Tensor, logvar: torch.Tensor, training: bool) -> torch.Tensor:
    """z = μ + σ·ε while training, μ otherwise (deterministic evaluation and generation); any shape."""
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if training else mu


class KLAutoencoder(nn.Module):
    """inputs [B, channels, H, W] ↔ latents [B, latent_channels, H/d, W/d], d = 2**(len(multipliers) − 1),
    through an AutoencoderKL (`model`) whose level widths are base_channels × multipliers. `who` names it
    in errors; a subclass says what H and W are (`size_names`) and how to change them (`size_hint`)."""

    size_names = "heights and widths"
    size_hint = "change the input size"

    def __init__(self, channels: int, latent_channels: int, base_channels: int, multipliers: Sequence[int],
                 layers_per_block: int, norm_groups: int, mid_attention: bool, who: str) -> None:
        super().__init__()
        from diffusers import AutoencoderKL

        widths = [base_channels * m for m in multipliers]
        if any(width % norm_groups for width in widths):
            raise ConfigError(f"{who} widths {widths} must be multiples of norm_groups={norm_groups}.")
        self.model = AutoencoderKL(
            in_channels=channels, out_channels=channels, latent_channels=latent_channels, block_out_channels=widths,
            down_block_types=["DownEncoderBlock2D"] * len(widths), up_block_types=["UpDecoderBlock2D"] * len(widths),
            layers_per_block=layers_per_block, norm_num_groups=norm_groups, mid_block_add_attention=mid_attention,
        )
        self.who = who
        self.latent_channels = latent_channels
        self.downsampling = 2 ** (len(widths) - 1)

    def check_size(self, inputs: torch.Tensor) -> None:
        """ConfigError unless the last two sizes of `inputs` are divisible by the downsampling."""
        if inputs.shape[-2] % self.downsampling or inputs.shape[-1] % self.downsampling:
            raise ConfigError(f"the {self.who} needs {self.size_names} divisible by {self.downsampling}, got "
                              f"{tuple(inputs.shape[-2:])}; {self.size_hint}.")

    def posterior(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """inputs [B, channels, H, W] → (mean, log-variance), each [B, latent_channels, H/d, W/d]."""
        self.check_size(inputs)
        distribution = self.model.encode(inputs).latent_dist
        return distribution.mean, distribution.logvar

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """latents [B, latent_channels, H/d, W/d] → outputs [B, channels, H, W]."""
        return self.model.decode(latents).sample
