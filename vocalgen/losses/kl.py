"""KL divergence of a diagonal Gaussian posterior from N(0, I)."""

import torch
from torch import nn

from vocalgen.interfaces import Outputs


class GaussianKL(nn.Module):
    """outputs["mu"], outputs["logvar"] [B, …] (e.g. [B, D] or [B, C, H, W]) → KL summed over all but
    the batch dimension, averaged over B."""

    def forward(self, outputs: Outputs) -> torch.Tensor:
        mu, logvar = outputs["mu"], outputs["logvar"]
        return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).flatten(1).sum(dim=1)).mean()
