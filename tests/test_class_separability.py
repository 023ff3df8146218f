"""Class separability of embeddings: the between-class variance share and leave-one-out nearest-centroid accuracy."""

import pytest
import torch

from vocalgen.metrics.class_separability import ClassSeparabilityEvaluator, class_separability


def test_separate_classes_score_one_and_shared_means_score_zero() -> None:
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(3).repeat_interleave(10)
    apart = torch.eye(3)[labels] * 10 + 0.1 * torch.randn(30, 3, generator=generator)
    scores = class_separability(apart, labels)
    assert scores["centroid_accuracy"] == 1.0 and scores["class_share"] > 0.99
    # the classes' means coincide: every item is nearer to the other class once it leaves its own centroid
    mixed = class_separability(torch.tensor([[0.0], [10.0], [4.0], [6.0]]), torch.tensor([0, 0, 1, 1]))
    assert mixed == {"class_share": pytest.approx(0.0), "centroid_accuracy": 0.0}


def test_a_class_of_one_item_is_only_a_centroid() -> None:
    scores = class_separability(torch.tensor([[0.0], [0.2], [5.0]]), torch.tensor([0, 0, 1]))
    assert scores["centroid_accuracy"] == 1.0  # the two items of class 0, both right; class 1 not counted


def test_the_evaluator_joins_batches_and_names_its_metrics() -> None:
    evaluator = ClassSeparabilityEvaluator(embedding="audio_embedding", name="audio_")
    assert evaluator.compute() == {}
    for label in (0, 1):
        tokens = torch.full((4, 2, 3), float(label)) + 0.01 * torch.randn(4, 2, 3)
        evaluator.update({"audio_embedding": tokens}, {"label": torch.full((4,), label)})
    scores = evaluator.compute()
    assert set(scores) == {"audio_class_share", "audio_centroid_accuracy"} and scores["audio_centroid_accuracy"] == 1.0
    evaluator.reset()
    assert evaluator.compute() == {}
