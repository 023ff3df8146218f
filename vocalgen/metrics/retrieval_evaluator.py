"""Epoch-level retrieval evaluation: collect query/key embeddings, rank deduplicated keys."""

import torch
from torch import Tensor

from vocalgen.interfaces import Batch, Outputs
from vocalgen.metrics.epoch_parts import Gather, join_parts
from vocalgen.metrics.ranking import mean_reciprocal_rank, ndcg, ranks_of_targets, top_k_accuracy


def unique_keys(keys: Tensor, key_ids: Tensor) -> tuple[Tensor, Tensor]:
    """keys [N, D] with ids [N] → (first key of each distinct id [R, D], those ids [R], sorted)."""
    ids, inverse = torch.unique(key_ids, return_inverse=True)
    first = torch.full((len(ids),), len(key_ids), dtype=torch.long)
    first.scatter_reduce_(0, inverse, torch.arange(len(key_ids)), reduce="amin")
    return keys[first], ids


def retrieval_scores(queries: Tensor, keys: Tensor, key_ids: Tensor, labels: Tensor,
                     top_k: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """The challenge protocol: every query against the deduplicated keys.

    queries [N, D] and keys [N, D] are row-aligned pairs; key_ids [N] name each row's key (rows
    sharing an id share a key); labels [N] are class ids, "same class" being NDCG's relevance.
    Returns {"mrr", "ndcg", "top1", "top5", …}.
    """
    distinct, ids = unique_keys(keys, key_ids)
    scores = queries.float() @ distinct.float().T
    targets = torch.searchsorted(ids, key_ids)
    ranks = ranks_of_targets(scores, targets)
    key_labels = torch.zeros(len(ids), dtype=labels.dtype)
    key_labels[targets] = labels
    relevance = (labels.unsqueeze(1) == key_labels.unsqueeze(0)).double()
    metrics = {"mrr": mean_reciprocal_rank(ranks), "ndcg": ndcg(scores, relevance)}
    metrics.update({f"top{k}": top_k_accuracy(ranks, k) for k in top_k})
    return metrics


class RetrievalEvaluator:
    """Accumulates outputs[query] and outputs[key] [B, D] with batch["reference_id"] and
    batch["label"] over a validation epoch; `compute` ranks them (see `retrieval_scores`).

    `name` prefixes the metrics (e.g. "a2t_" → "val/a2t_recall1"); `recall_names` reports top-k
    as "recall@k"-style names ("recall1") instead of "top1".
    """

    def __init__(self, query: str = "query", key: str = "key", name: str = "",
                 top_k: tuple[int, ...] = (1, 5, 10), recall_names: bool = False) -> None:
        self.query, self.key, self.name = query, key, name
        self.top_k = tuple(top_k)
        self.recall_names = recall_names
        self.parts: dict[str, list[Tensor]] = {}

    def reset(self) -> None:
        self.parts = {}

    def update(self, outputs: Outputs, batch: Batch) -> None:
        fields = {"query": outputs[self.query], "key": outputs[self.key],
                  "key_id": batch["reference_id"], "label": batch["label"]}
        for name, value in fields.items():
            self.parts.setdefault(name, []).append(value.detach())

    def compute(self, gather: Gather | None = None) -> dict[str, float]:
        if not self.parts:
            return {}
        joined = join_parts(self.parts, gather)
        metrics = retrieval_scores(joined["query"], joined["key"], joined["key_id"], joined["label"], self.top_k)
        if self.recall_names:
            metrics = {name.replace("top", "recall"): value for name, value in metrics.items()}
        return {f"{self.name}{name}": value for name, value in metrics.items()}
