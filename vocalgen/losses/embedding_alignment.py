"""Direct alignment of paired embeddings: mean cosine distance or MSE (an alternative to NT-Xent)."""

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from vocalgen.interfaces import Loss, Outputs


class EmbeddingAlignmentLoss(Loss):
    """Mean over `pairs` of output names of 1 − cos(a, b) ("cosine") or ‖a − b‖² ("mse"), rows [B, D] paired."""

    def __init__(self, pairs: Sequence[Sequence[str]] = (("query", "key"),), kind: str = "cosine") -> None:
        super().__init__()
        if kind not in ("cosine", "mse"):
            raise ValueError(f"loss.kind={kind!r}: choose 'cosine' or 'mse'.")
        self.pairs = [tuple(pair) for pair in pairs]
        self.kind = kind

    def forward(self, outputs: Outputs, step: int) -> Outputs:
        terms: Outputs = {}
        for a, b in self.pairs:
            x, y = outputs[a], outputs[b]
            distance = 1 - F.cosine_similarity(x, y, dim=-1) if self.kind == "cosine" else (x - y).pow(2).sum(-1)
            terms[f"{a}_{b}"] = distance.mean()
        terms["loss"] = torch.stack([terms[f"{a}_{b}"] for a, b in self.pairs]).mean()
        return terms
