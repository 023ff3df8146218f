"""The mel VAE of AudioLDM: a KL autoencoder (diffusers AutoencoderKL) over log-mel spectrograms."""

from collections.abc import Sequence

from vocalgen.pretransforms.kl_autoencoder import KLAutoencoder


class MelVAE(KLAutoencoder):
    """log-mel [B, 1, T, F] ↔ latents [B, latent_channels, T/d, F/d], d = 2**(len(multipliers) − 1).

    Recipe: 8 latent channels, base 128, multipliers [1, 2, 4], two res blocks per level
    (a 1024 × 64 mel → 8 × 256 × 16 latents).
    """

    size_names = "frames and bands"
    size_hint = "change the clip length (data field samples)"

    def __init__(self, latent_channels: int = 8, base_channels: int = 128, multipliers: Sequence[int] = (1, 2, 4),
                 layers_per_block: int = 2, norm_groups: int = 32, mid_attention: bool = True) -> None:
        super().__init__(1, latent_channels, base_channels, multipliers, layers_per_block, norm_groups, mid_attention,
                         "mel VAE")
