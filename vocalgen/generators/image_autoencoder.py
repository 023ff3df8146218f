"""Training the image VAE (`+experiment=image_vae`): image → posterior → reconstruction."""

from collections.abc import Sequence
from typing import Any

import torch

from vocalgen.interfaces import Batch, Generator, Outputs
from vocalgen.outputs import ImageOutput
from vocalgen.pretransforms.image_vae import ImageVAE, height_width
from vocalgen.pretransforms.kl_autoencoder import sample_posterior


class ImageVAEAutoencoder(Generator):
    """batch[image_field] [B, 3, H, W] in [-1, 1] → {"prediction": the reconstruction, "target": the image
    (both [B, 3, H, W]), "mu", "logvar": the posterior [B, C, H/d, W/d]}. Training samples z = μ + σ·ε,
    evaluation uses μ.

    `generate(images [B, 3, H, W])` → the reconstruction [B, 3, H, W] in [-1, 1]; `image_size` (H, W, or
    one int for squares) is the data's, what the sample images are written at.
    """

    def __init__(self, vae: ImageVAE, image_size: int | Sequence[int], image_field: str = "image") -> None:
        super().__init__()
        self.vae = vae
        self.image_size = height_width(image_size)
        self.image_field = self.target_field = image_field

    @property
    def output(self) -> ImageOutput:
        """Images [3, H, W] in [-1, 1]."""
        return ImageOutput(*self.image_size)

    def training_forward(self, batch: Batch, condition: torch.Tensor) -> Outputs:
        images = batch[self.image_field]
        mu, logvar = self.vae.posterior(images)
        z = sample_posterior(mu, logvar, self.training)
        return {"prediction": self.vae.decode(z), "target": images, "mu": mu, "logvar": logvar}

    def generate(self, condition: torch.Tensor, **sampling: Any) -> torch.Tensor:
        return self.vae.decode(self.vae.posterior(condition)[0]).clamp(-1.0, 1.0)
