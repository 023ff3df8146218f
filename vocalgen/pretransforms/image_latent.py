"""The frozen pretransform of latent image diffusion: RGB images ↔ scaled image-VAE latents."""

from collections.abc import Sequence

import torch

from vocalgen.errors import ConfigError
from vocalgen.fingerprint import weights_fingerprint
from vocalgen.interfaces import Pretransform
from vocalgen.outputs import ImageOutput
from vocalgen.pretransforms.image_vae import ImageVAE, height_width


class ImageLatentPretransform(Pretransform):
    """images [B, 3, H, W] in [-1, 1] ↔ latents [B, C, H/d, W/d] × vae.scaling_factor through a trained
    image VAE: the `vae` of an image_vae checkpoint's generator, or one loaded from a Stable Diffusion
    folder. Encoding takes the posterior mean; decoding clamps to [-1, 1]. Frozen and always in eval mode.

    `image_size` (H, W, or one int for squares) is what it decodes to, `latent_shape` (C, H/d, W/d) what a
    generator samples. `sample_rate` is 0: it makes no audio.
    """

    sample_rate = 0

    def __init__(self, vae: ImageVAE, image_size: int | Sequence[int]) -> None:
        super().__init__()
        height, width = height_width(image_size)
        if height % vae.downsampling or width % vae.downsampling:
            raise ConfigError(f"pretransform.image_size={image_size} must be divisible by the image VAE's "
                              f"downsampling {vae.downsampling}.")
        self.vae = vae
        self.image_size = (height, width)
        self.latent_channels = vae.latent_channels
        self.latent_shape = (vae.latent_channels, height // vae.downsampling, width // vae.downsampling)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "ImageLatentPretransform":
        return super().train(False)

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """images [B, 3, H, W] in [-1, 1] → scaled latents [B, C, H/d, W/d]."""
        return self.vae.posterior(images)[0] * self.vae.scaling_factor

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """scaled latents [B, C, H/d, W/d] → images [B, 3, H, W] in [-1, 1]."""
        return self.vae.decode(latents / self.vae.scaling_factor).clamp(-1.0, 1.0)

    @property
    def fingerprint(self) -> str:
        return weights_fingerprint(self)

    @property
    def output(self) -> ImageOutput:
        """What `decode` makes: RGB images of `image_size`."""
        return ImageOutput(*self.image_size)
