"""NT-Xent / InfoNCE over named embedding pairs, each with its own (optionally learnable) temperature."""

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vocalgen.interfaces import Loss, Outputs


def nt_xent(queries: Tensor, keys: Tensor, temperature: Tensor | float, symmetric: bool = False) -> Tensor:
    """queries [B, D], keys [B, D] (L2-normalised, row i pairs with row i) → scalar loss.

    C = queries @ keys.T / τ; cross-entropy of each row towards its diagonal entry (and, when
    `symmetric`, the mean with the same over columns: CLAP's InfoNCE).
    """
    logits = queries @ keys.T / temperature
    targets = torch.arange(len(queries), device=queries.device)
    loss = F.cross_entropy(logits, targets)
    if symmetric:
        loss = 0.5 * (loss + F.cross_entropy(logits.T, targets))
    return loss


class ContrastiveLoss(Loss):
    """Mean of NT-Xent terms over `pairs` of output names, e.g. [["query", "key"]].

    Each pair has its own temperature τ (init `temperature`), learned as log τ when `learnable` and
    kept ≥ `min_temperature` (CLIP's bound: logits scaled by at most 100). Negatives are the batch's
    (under DDP, each process's own batch).
    Terms are reported as "<a>_<b>" and temperatures as "tau_<a>_<b>".
    """

    def __init__(self, pairs: Sequence[Sequence[str]] = (("query", "key"),), temperature: float = 0.07,
                 learnable: bool = False, symmetric: bool = False, min_temperature: float = 0.01) -> None:
        super().__init__()
        self.pairs = [tuple(pair) for pair in pairs]
        if not self.pairs or any(len(pair) != 2 for pair in self.pairs):
            raise ValueError(f"loss.pairs={pairs!r}: give a list of [query, key] output names.")
        self.symmetric = symmetric
        self.min_log_temperature = math.log(min_temperature)
        log_tau = torch.full((len(self.pairs),), math.log(temperature))
        if learnable:
            self.log_temperature = nn.Parameter(log_tau)
        else:
            self.register_buffer("log_temperature", log_tau)

    def forward(self, outputs: Outputs, step: int) -> Outputs:
        terms: Outputs = {}
        taus = self.log_temperature.clamp(min=self.min_log_temperature).exp()
        for (a, b), tau in zip(self.pairs, taus):
            terms[f"{a}_{b}"] = nt_xent(outputs[a], outputs[b], tau, self.symmetric)
            terms[f"tau_{a}_{b}"] = tau.detach()
        terms["loss"] = torch.stack([terms[f"{a}_{b}"] for a, b in self.pairs]).mean()
        return terms
