"""The image VAE of latent image diffusion: a KL autoencoder (diffusers AutoencoderKL) over RGB images,
built from its sizes or loaded from a local Stable Diffusion 1.x folder."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from vocalgen.errors import ConfigError
from vocalgen.pretransforms.kl_autoencoder import KLAutoencoder
from vocalgen.stable_diffusion_folder import check_same_architecture, check_stable_diffusion_folder, copy_weights


def height_width(size: int | Sequence[int]) -> tuple[int, int]:
    """An image size given as one int (a square) or (height, width) → (height, width)."""
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)


def vae_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ImageVAE size arguments that rebuild the AutoencoderKL of diffusers config `config`."""
    widths = list(config["block_out_channels"])
    multipliers = [width // widths[0] if width % widths[0] == 0 else width / widths[0] for width in widths]
    return {"latent_channels": config["latent_channels"], "base_channels": widths[0], "multipliers": multipliers,
            "layers_per_block": config["layers_per_block"], "norm_groups": config["norm_num_groups"],
            "mid_attention": config.get("mid_block_add_attention", True)}


class ImageVAE(KLAutoencoder):
    """images [B, 3, H, W] in [-1, 1] ↔ latents [B, latent_channels, H/d, W/d], d = 2**(len(multipliers) − 1).

    The defaults are Stable Diffusion 1.x's VAE: 4 latent channels, base 128, multipliers [1, 2, 4, 4], two
    res blocks per level (a 512 × 512 image → 4 × 64 × 64 latents). `pretrained`: a local SD 1.x folder whose
    `vae` is loaded (its sizes must be the arguments', so that the arguments alone rebuild it from a
    checkpoint). `scaling_factor` multiplies the latents a diffusion model sees (ImageLatentPretransform):
    None takes the folder's (0.18215 for SD 1.x), or 1.0 without one; kept in the state dict.
    """

    size_hint = "change the image size of the data field"

    def __init__(self, latent_channels: int = 4, base_channels: int = 128, multipliers: Sequence[int] = (1, 2, 4, 4),
                 layers_per_block: int = 2, norm_groups: int = 32, mid_attention: bool = True,
                 pretrained: str | None = None, scaling_factor: float | None = None) -> None:
        super().__init__(3, latent_channels, base_channels, multipliers, layers_per_block, norm_groups, mid_attention,
                         "image VAE")
        if pretrained:
            folder_scale = self.load_stable_diffusion(Path(pretrained))
            scaling_factor = folder_scale if scaling_factor is None else scaling_factor
        self.register_buffer("scaling_factor", torch.tensor(1.0 if scaling_factor is None else float(scaling_factor)))

    def load_stable_diffusion(self, folder: Path) -> float:
        """Copy the weights of `folder`/vae into this VAE once its sizes are this one's; returns its scaling factor."""
        from diffusers import AutoencoderKL

        path = check_stable_diffusion_folder(folder, ["vae"])
        loaded = AutoencoderKL.from_pretrained(path, subfolder="vae", local_files_only=True)
        check_same_architecture("ImageVAE", path / "vae", vae_arguments(self.model.config),
                                vae_arguments(loaded.config))
        copy_weights(self.model, loaded, "ImageVAE", path / "vae")
        return float(loaded.config.scaling_factor)

    def check_size(self, images: torch.Tensor) -> None:
        """ConfigError unless `images` is [B, 3, H, W] with H and W divisible by the downsampling."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ConfigError(f"the image VAE expects RGB images [B, 3, H, W], got shape {tuple(images.shape)}.")
        super().check_size(images)
