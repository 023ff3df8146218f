"""Variational heads: features → Gaussian posterior → latent sample."""

from abc import abstractmethod

import torch
from torch import nn

from vocalgen.errors import ConfigError
from vocalgen.interfaces import Adapter, Outputs
from vocalgen.pretransforms.kl_autoencoder import sample_posterior


class VariationalHead(Adapter):
    """features → {"condition": z, "mu", "logvar"} (each [B, latent_dim]); a subclass says how the features
    become μ and log σ² (`posterior`). Training samples z = μ + σ·ε; evaluation returns z = μ (deterministic
    generation)."""

    @abstractmethod
    def posterior(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def forward(self, condition: torch.Tensor) -> Outputs:
        mu, logvar = self.posterior(condition)
        logvar = logvar.clamp(-30.0, 20.0)
        z = sample_posterior(mu, logvar, self.training)
        return {"condition": z, "mu": mu, "logvar": logvar}


class VAEHead(VariationalHead):
    """features [B, in_dim] → z, μ, log σ² [B, latent_dim] through two linear layers."""

    def __init__(self, in_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.mu = nn.Linear(in_dim, latent_dim)
        self.logvar = nn.Linear(in_dim, latent_dim)

    def posterior(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """features [B, in_dim] → μ, log σ² [B, latent_dim]."""
        if features.shape[-1] != self.in_dim:
            raise ConfigError(
                f"adapter.in_dim={self.in_dim} but the encoder gives {features.shape[-1]} features; "
                "set adapter.in_dim to the encoder's output size."
            )
        return self.mu(features), self.logvar(features)
