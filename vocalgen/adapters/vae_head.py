"""Variational head: features → Gaussian posterior → latent sample."""

import torch
from torch import nn

from vocalgen.errors import ConfigError
from vocalgen.interfaces import Adapter, Outputs
from vocalgen.pretransforms.kl_autoencoder import sample_posterior


class VAEHead(Adapter):
    """features [B, in_dim] → {"condition": z [B, latent_dim], "mu", "logvar" [B, latent_dim]}.

    Training samples z = μ + σ·ε; evaluation returns z = μ (deterministic generation).
    """

    def __init__(self, in_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.mu = nn.Linear(in_dim, latent_dim)
        self.logvar = nn.Linear(in_dim, latent_dim)

    def forward(self, condition: torch.Tensor) -> Outputs:
        if condition.shape[-1] != self.in_dim:
            raise ConfigError(
                f"adapter.in_dim={self.in_dim} but the encoder gives {condition.shape[-1]} features; "
                "set adapter.in_dim to the encoder's output size."
            )
        mu = self.mu(condition)
        logvar = self.logvar(condition).clamp(-30.0, 20.0)
        z = sample_posterior(mu, logvar, self.training)
        return {"condition": z, "mu": mu, "logvar": logvar}
