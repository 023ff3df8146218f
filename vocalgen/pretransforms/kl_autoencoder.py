"""A diffusers AutoencoderKL built from the few sizes vocalgen's VAEs expose (mel VAE, image VAE)."""

from collections.abc import Sequence

from torch import nn

from vocalgen.errors import ConfigError


def kl_autoencoder(channels: int, latent_channels: int, base_channels: int, multipliers: Sequence[int],
                   layers_per_block: int, norm_groups: int, mid_attention: bool, who: str) -> nn.Module:
    """AutoencoderKL over `channels`-channel inputs [B, channels, H, W] ↔ latents [B, latent_channels, H/d, W/d],
    d = 2**(len(multipliers) − 1), level widths base_channels × multipliers. ConfigError (naming `who`)
    when a width is not a multiple of norm_groups."""
    from diffusers import AutoencoderKL

    widths = [base_channels * m for m in multipliers]
    if any(width % norm_groups for width in widths):
        raise ConfigError(f"{who} widths {widths} must be multiples of norm_groups={norm_groups}.")
    return AutoencoderKL(
        in_channels=channels, out_channels=channels, latent_channels=latent_channels, block_out_channels=widths,
        down_block_types=["DownEncoderBlock2D"] * len(widths), up_block_types=["UpDecoderBlock2D"] * len(widths),
        layers_per_block=layers_per_block, norm_num_groups=norm_groups, mid_block_add_attention=mid_attention,
    )
