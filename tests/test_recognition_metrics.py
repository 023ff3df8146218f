"""Whether a CLAP recognises reconstructions: retrieval of each original among all, and the cosines."""

import pytest
import torch
import torch.nn.functional as F

from vocalgen.errors import ConfigError
from vocalgen.evaluation.autoencoding import recognition_metrics


def test_faithful_reconstructions_retrieve_their_originals() -> None:
    originals = F.normalize(torch.randn(6, 8, generator=torch.Generator().manual_seed(0)), dim=1)
    metrics = recognition_metrics(originals.clone(), originals)
    assert metrics["clap_mrr"] == 1.0 and metrics["clap_top1"] == 1.0
    assert metrics["clap_cosine_own"] == pytest.approx(1.0)
    assert metrics["clap_cosine_other"] == pytest.approx(float((originals @ originals.T).sum() - 6) / 30)
    assert metrics["chance_mrr"] == pytest.approx(sum(1 / k for k in range(1, 7)) / 6)


def test_reconstructions_that_all_sound_alike_rank_their_originals_by_chance_or_worse() -> None:
    originals = torch.eye(4)
    collapsed = F.normalize(torch.ones(4, 4), dim=1)  # every reconstruction equally close to every original
    metrics = recognition_metrics(collapsed, originals)
    assert metrics["clap_mrr"] == pytest.approx(0.25)  # ties count against the query: rank 4 each
    assert metrics["clap_cosine_own"] == pytest.approx(metrics["clap_cosine_other"])


def test_swapped_reconstructions_rank_second() -> None:
    originals = torch.eye(3)
    swapped = F.normalize(originals[[1, 0, 2]] * 2 + originals, dim=1)  # 0 and 1 sound more like each other
    assert recognition_metrics(swapped, originals)["clap_mrr"] == pytest.approx((0.5 + 0.5 + 1) / 3)


def test_one_clip_cannot_be_recognised() -> None:
    with pytest.raises(ConfigError, match="at least 2 clips"):
        recognition_metrics(torch.ones(1, 4), torch.ones(1, 4))
