"""NT-Xent (InfoNCE) at a fixed temperature as one term of a WeightedSum loss."""

import torch
from torch import nn

from vocalgen.interfaces import Outputs
from vocalgen.losses.contrastive import nt_xent


class NtXentTerm(nn.Module):
    """outputs[query] [B, D], outputs[key] [B, D] (unit norm, row i pairs with row i) → NT-Xent at τ = `temperature`
    (a scalar), queries against the batch's keys; `symmetric` adds the keys-against-queries direction (mean of both).

    The term form of vocalgen.losses.contrastive.ContrastiveLoss (which is a whole loss, with a learnable τ), for
    losses made of weighted terms such as CLAP2Diffusion's projector loss (conf/loss/clap2diffusion_projector.yaml).
    """

    def __init__(self, query: str = "query", key: str = "key", temperature: float = 0.07,
                 symmetric: bool = False) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"loss NT-Xent temperature={temperature}: give a positive τ (e.g. 0.07).")
        self.query, self.key = query, key
        self.temperature, self.symmetric = temperature, symmetric

    def forward(self, outputs: Outputs) -> torch.Tensor:
        return nt_xent(outputs[self.query], outputs[self.key], self.temperature, self.symmetric)
