"""KL divergence of a diagonal Gaussian posterior from N(0, I)."""

import torch
from torch import nn

from vocalgen.interfaces import Outputs


class GaussianKL(nn.Module):
    """outputs["mu"], outputs["logvar"] [B, …] (e.g. [B, D] or [B, C, H, W]) → KL summed over all but
    the batch dimension, averaged over B.

    `per_element_of`: an outputs key (e.g. "target") whose per-item element count divides the KL. Beside a
    reconstruction term averaged over elements (L1Distance), `weight · KL` then balances as Stable Diffusion's
    and AudioLDM's `weight · KL` does beside their reconstruction summed over each item's elements: the same
    objective divided by that count. Without it, a weight of 1e-6 weighs the KL 3·H·W times more than theirs.
    """

    def __init__(self, per_element_of: str | None = None) -> None:
        super().__init__()
        self.per_element_of = per_element_of

    def forward(self, outputs: Outputs) -> torch.Tensor:
        mu, logvar = outputs["mu"], outputs["logvar"]
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).flatten(1).sum(dim=1)).mean()
        if self.per_element_of is None:
            return kl
        return kl / outputs[self.per_element_of][0].numel()
