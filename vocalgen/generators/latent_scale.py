"""The latent scale of latent generators: 1 / std of the first training batch's latents."""

import torch
import torch.distributed as dist


@torch.no_grad()
def measure_latent_scale(scale: torch.Tensor, latents: torch.Tensor) -> None:
    """Fill the buffer `scale` with 1 / std of `latents` [B, …] (the std averaged over processes
    under DDP, so every rank scales alike)."""
    std = latents.float().std()
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(std)
        std /= dist.get_world_size()
    scale.fill_(1.0 / float(std.clamp(min=1e-8)))
