"""Ranking metrics over a score matrix: queries [Q, R] against deduplicated references."""

import torch
from torch import Tensor


def ranks_of_targets(scores: Tensor, targets: Tensor) -> Tensor:
    """scores [Q, R], targets [Q] (column of each query's true reference) → 1-based ranks [Q].

    Ties count against the query: a true reference scored equal to another ranks below it.
    """
    true_scores = scores.gather(1, targets.unsqueeze(1))
    return (scores >= true_scores).sum(dim=1)


def mean_reciprocal_rank(ranks: Tensor) -> float:
    """ranks [Q] (1-based) → mean of 1 / rank."""
    return (1.0 / ranks.double()).mean().item()


def top_k_accuracy(ranks: Tensor, k: int) -> float:
    """ranks [Q] → fraction of queries whose true reference is among the first k."""
    return (ranks <= k).double().mean().item()


def ndcg(scores: Tensor, relevance: Tensor) -> float:
    """scores [Q, R], relevance [Q, R] (graded, ≥ 0) → mean NDCG over the full ranking.

    Queries without any relevant reference count as 0.
    """
    order = scores.argsort(dim=1, descending=True)
    gains = relevance.double().gather(1, order)
    discounts = 1.0 / torch.log2(torch.arange(scores.shape[1], dtype=torch.float64) + 2.0)
    dcg = (gains * discounts).sum(dim=1)
    ideal = (relevance.double().sort(dim=1, descending=True).values * discounts).sum(dim=1)
    return torch.where(ideal > 0, dcg / ideal.clamp_min(1e-12), torch.zeros_like(dcg)).mean().item()
