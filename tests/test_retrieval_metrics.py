"""NT-Xent, MRR, NDCG and top-k against hand-computed values; the QVIM schedule and augmentation."""

import math

import pytest
import torch

from vocalgen.encoders.spec_augment import SpectrogramAugment, freq_mixstyle
from vocalgen.losses.contrastive import ContrastiveLoss, nt_xent
from vocalgen.metrics.ranking import mean_reciprocal_rank, ndcg, ranks_of_targets, top_k_accuracy
from vocalgen.metrics.retrieval_evaluator import RetrievalEvaluator, retrieval_scores
from vocalgen.schedules import EpochWarmupCosineHoldFactor

QUERIES = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
KEYS = torch.tensor([[1.0, 0.0], [0.6, 0.8]])


def test_nt_xent_matches_a_hand_computed_case() -> None:
    # τ = 1: row 0 logits [1, 0.6] → target 0; row 1 logits [0, 0.8] → target 1.
    expected = (math.log(1 + math.exp(-0.4)) + math.log(1 + math.exp(-0.8))) / 2
    assert nt_xent(QUERIES, KEYS, 1.0).item() == pytest.approx(expected, rel=1e-6)
    # Columns: column 0 logits [1, 0] → target 0; column 1 logits [0.6, 0.8] → target 1.
    columns = (math.log(1 + math.exp(-1.0)) + math.log(1 + math.exp(-0.2))) / 2
    assert nt_xent(QUERIES, KEYS, 1.0, symmetric=True).item() == pytest.approx((expected + columns) / 2, rel=1e-6)
    # τ = 0.5 doubles every logit.
    halved = (math.log(1 + math.exp(-0.8)) + math.log(1 + math.exp(-1.6))) / 2
    assert nt_xent(QUERIES, KEYS, 0.5).item() == pytest.approx(halved, rel=1e-6)


def test_learnable_temperature_receives_a_gradient_and_fixed_one_does_not() -> None:
    learnable = ContrastiveLoss(temperature=0.07, learnable=True)
    terms = learnable({"query": QUERIES, "key": KEYS}, step=0)
    terms["loss"].backward()
    assert learnable.log_temperature.grad is not None and learnable.log_temperature.grad.abs().item() > 0
    assert terms["tau_query_key"].item() == pytest.approx(0.07)
    fixed = ContrastiveLoss(temperature=0.07)
    assert not any(p.requires_grad for p in fixed.parameters())


def test_three_terms_average() -> None:
    outputs = {"a": QUERIES, "b": KEYS, "c": QUERIES}
    terms = ContrastiveLoss(pairs=[["a", "b"], ["b", "c"], ["a", "c"]], temperature=1.0)(outputs, step=0)
    assert terms["loss"].item() == pytest.approx((terms["a_b"] + terms["b_c"] + terms["a_c"]).item() / 3)


def test_ranks_mrr_and_top_k_on_a_hand_made_ranking() -> None:
    scores = torch.tensor([[0.9, 0.5, 0.1],    # true 0 → rank 1
                           [0.9, 0.5, 0.1],    # true 2 → rank 3
                           [0.2, 0.8, 0.8]])   # true 1, tied with 2 → rank 2 (ties count against)
    ranks = ranks_of_targets(scores, torch.tensor([0, 2, 1]))
    assert ranks.tolist() == [1, 3, 2]
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    assert top_k_accuracy(ranks, 1) == pytest.approx(1 / 3) and top_k_accuracy(ranks, 2) == pytest.approx(2 / 3)


def test_ndcg_on_a_hand_made_ranking() -> None:
    scores = torch.tensor([[0.1, 0.9, 0.5]])      # order: 1, 2, 0
    relevance = torch.tensor([[1.0, 0.0, 1.0]])   # gains in order: 0, 1, 1
    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg(scores, relevance) == pytest.approx(dcg / ideal)
    assert ndcg(scores, torch.zeros(1, 3)) == 0.0


def test_references_are_deduplicated_before_ranking() -> None:
    # Three imitations of two sounds: the shared reference counts once among the candidates.
    queries = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    keys = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    metrics = retrieval_scores(queries, keys, torch.tensor([7, 7, 3]), torch.tensor([0, 0, 1]), top_k=(1,))
    assert metrics["mrr"] == pytest.approx(1.0) and metrics["top1"] == 1.0 and metrics["ndcg"] == pytest.approx(1.0)
    swapped = retrieval_scores(queries, keys.flip(0), torch.tensor([7, 7, 3]), torch.tensor([0, 0, 1]))
    assert swapped["mrr"] < 1.0


def test_evaluator_accumulates_batches_and_names_metrics() -> None:
    evaluator = RetrievalEvaluator(name="a2t_", top_k=(1,), recall_names=True)
    for rows in (slice(0, 1), slice(1, 2)):
        evaluator.update({"query": QUERIES[rows], "key": QUERIES[rows]},
                         {"reference_id": torch.arange(2)[rows], "label": torch.arange(2)[rows]})
    assert evaluator.compute() == {"a2t_mrr": 1.0, "a2t_ndcg": 1.0, "a2t_recall1": 1.0}
    evaluator.reset()
    assert evaluator.compute() == {}


def test_qvim_schedule_follows_the_published_shape() -> None:
    factor = EpochWarmupCosineHoldFactor(steps_per_epoch=10, start_factor=1 / 3, warmup_epochs=1, decay_epochs=7,
                                         end_factor=1 / 3)
    assert factor(0) == pytest.approx(1 / 3)        # 1e-4 of a 3e-4 peak
    assert factor(5) == pytest.approx(2 / 3)
    assert factor(10) == pytest.approx(1.0)         # 3e-4 after the first epoch
    assert factor(45) == pytest.approx(2 / 3)       # half-way down the cosine
    assert factor(80) == pytest.approx(1 / 3) and factor(140) == pytest.approx(1 / 3)


def test_augmentation_is_training_only_and_keeps_shapes() -> None:
    torch.manual_seed(0)
    x = torch.randn(4, 1, 32, 50)
    augment = SpectrogramAugment(freq_mask=8, time_mask=10, max_shift=5, mixstyle_p=1.0)
    assert torch.equal(augment.eval()(x), x)
    y = augment.train()(x)
    assert y.shape == x.shape and not torch.equal(y, x)
    mixed = freq_mixstyle(x, alpha=0.4)
    assert mixed.shape == x.shape and torch.isfinite(mixed).all()
