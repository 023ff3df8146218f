"""How well embeddings keep their items' classes apart: the between-class share of their variance and a
leave-one-out nearest-centroid accuracy (e.g. whether a projector's audio tokens still tell the sounds apart)."""

import torch
from torch import Tensor

from vocalgen.interfaces import Batch, Outputs
from vocalgen.metrics.epoch_parts import Gather, join_parts


def class_separability(embeddings: Tensor, labels: Tensor) -> dict[str, float]:
    """embeddings [N, D], labels [N] → {"class_share": between-class sum of squares / total sum of squares
    (0: the classes' means coincide, 1: every item sits on its class mean), "centroid_accuracy": the share
    of items nearest (Euclidean) to their own class's centroid computed without them}. Classes with one
    item take part as centroids only."""
    x = embeddings.double() - embeddings.double().mean(dim=0)
    classes, index = torch.unique(labels, return_inverse=True)
    counts = torch.bincount(index, minlength=len(classes)).double()
    sums = torch.zeros(len(classes), x.shape[1], dtype=x.dtype).index_add_(0, index, x)
    centroids = sums / counts.unsqueeze(1)
    total = (x ** 2).sum()
    between = (counts * (centroids ** 2).sum(dim=1)).sum()
    distances = torch.cdist(x, centroids)
    rows = torch.arange(len(x))
    own_count = counts[index]
    keep = own_count > 1
    own_centroid = (sums[index] - x) / (own_count - 1).clamp(min=1).unsqueeze(1)
    distances[rows, index] = (x - own_centroid).norm(dim=1)
    correct = (distances.argmin(dim=1) == index) & keep
    return {"class_share": float(between / total.clamp(min=1e-12)),
            "centroid_accuracy": float(correct.sum() / keep.sum().clamp(min=1))}


class ClassSeparabilityEvaluator:
    """Accumulates outputs[embedding] [B, D] with batch["label"] over an epoch; `compute` →
    {"<name>class_share", "<name>centroid_accuracy"} (see class_separability)."""

    def __init__(self, embedding: str = "query", name: str = "") -> None:
        self.embedding, self.name = embedding, name
        self.parts: dict[str, list[Tensor]] = {}

    def reset(self) -> None:
        self.parts = {}

    def update(self, outputs: Outputs, batch: Batch) -> None:
        self.parts.setdefault("embedding", []).append(outputs[self.embedding].detach().flatten(1))
        self.parts.setdefault("label", []).append(batch["label"].detach())

    def compute(self, gather: Gather | None = None) -> dict[str, float]:
        if not self.parts:
            return {}
        joined = join_parts(self.parts, gather)
        metrics = class_separability(joined["embedding"], joined["label"])
        return {f"{self.name}{name}": value for name, value in metrics.items()}
