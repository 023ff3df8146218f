"""Fréchet distance and the CLAP score against closed forms and hand-computed cases; the generation
evaluator's baselines on an echoing stand-in generator."""

import math

import numpy as np
import pytest
import torch

from vocalgen.metrics.clap_score import paired_cosine
from vocalgen.metrics.frechet import frechet_distance, frechet_distance_between, gaussian_statistics
from vocalgen.metrics.generation_evaluator import evaluate_generation

MU_A, MU_B = np.array([0.0, 0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.5, 1.0])
SIGMA_A, SIGMA_B = np.array([1.0, 1.0, 1.0, 0.5]), np.array([2.0, 1.0, 0.5, 0.5])


def closed_form() -> float:
    """‖μa − μb‖² + Σ(σa² + σb² − 2 σa σb) for diagonal covariances."""
    return float(((MU_A - MU_B) ** 2).sum() + (SIGMA_A**2 + SIGMA_B**2 - 2 * SIGMA_A * SIGMA_B).sum())


def test_gaussian_statistics_are_float64_mean_and_unbiased_covariance() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0]], dtype=torch.float32)
    mean, cov = gaussian_statistics(x)
    assert mean.dtype == cov.dtype == np.float64
    np.testing.assert_allclose(mean, [2.0, 4.0])
    np.testing.assert_allclose(cov, [[2.0, 4.0], [4.0, 8.0]])


def test_a_set_against_itself_is_zero() -> None:
    x = np.random.default_rng(0).normal(size=(300, 8))
    assert frechet_distance_between(x, x) == pytest.approx(0.0, abs=1e-8)
    # Fewer rows than dimensions: a singular covariance product, handled by the ε retry.
    few = np.random.default_rng(1).normal(size=(5, 16))
    assert frechet_distance_between(few, few) == pytest.approx(0.0, abs=1e-4)
    assert frechet_distance_between(torch.from_numpy(x).float(), torch.from_numpy(x).float()) == pytest.approx(
        0.0, abs=1e-5)


def test_diagonal_gaussians_match_the_closed_form() -> None:
    assert closed_form() == pytest.approx(2.5)
    value = frechet_distance(MU_A, np.diag(SIGMA_A**2), MU_B, np.diag(SIGMA_B**2))
    assert value == pytest.approx(closed_form(), rel=1e-10)
    assert frechet_distance(MU_A, np.diag(SIGMA_A**2), MU_A, np.diag(SIGMA_A**2)) == pytest.approx(0.0, abs=1e-12)


def test_large_samples_approach_the_closed_form() -> None:
    rng = np.random.default_rng(0)
    a = MU_A + SIGMA_A * rng.normal(size=(20000, 4))
    b = MU_B + SIGMA_B * rng.normal(size=(20000, 4))
    assert frechet_distance_between(a, b) == pytest.approx(closed_form(), abs=0.15)


def test_fd_is_symmetric_and_nonnegative_for_full_covariances() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(150, 6)) @ rng.normal(size=(6, 6)) + 0.3
    ab, ba = frechet_distance_between(a, b), frechet_distance_between(b, a)
    assert ab > 0 and ab == pytest.approx(ba, rel=1e-8)


def test_frechet_errors_name_the_problem() -> None:
    x = np.zeros((10, 4))
    with pytest.raises(ValueError, match="set a has 1 row"):
        frechet_distance_between(np.zeros((1, 4)), x)
    with pytest.raises(ValueError, match="set b has 0 row"):
        frechet_distance_between(x, np.zeros((0, 4)))
    with pytest.raises(ValueError, match=r"widths differ: a is \[10, 4\], b is \[10, 3\]"):
        frechet_distance_between(x, np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"set a has shape \[10\]"):
        frechet_distance_between(np.zeros(10), x)
    with pytest.raises(ValueError, match="at least 2 rows"):
        gaussian_statistics(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="imaginary part"):
        frechet_distance(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="cov_b has shape"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="cov_a has NaN"):
        frechet_distance(np.zeros(2), np.full((2, 2), np.nan), np.zeros(2), np.eye(2))


def test_paired_cosine_hand_case() -> None:
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    assert paired_cosine(a, b) == pytest.approx((1 + 1 / math.sqrt(2)) / 2)
    assert paired_cosine(a, -a) == pytest.approx(-1.0)
    assert paired_cosine(a.numpy(), a.numpy()) == pytest.approx(1.0)
    # Pairs, not all-against-all: swapping rows of one side changes the score.
    assert paired_cosine(a, b.flip(0)) == pytest.approx((1 / math.sqrt(2) + 0.0) / 2)


def test_paired_cosine_errors() -> None:
    with pytest.raises(ValueError, match=r"\[2, 2\] and \[3, 2\]"):
        paired_cosine(torch.zeros(2, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"\[4\] and \[4\]"):
        paired_cosine(torch.zeros(4), torch.zeros(4))


class EchoGenerator(torch.nn.Module):
    """"Generates" its condition as a one-channel signal [B, 1, D]; guidance 0 (without a ramp) a constant."""

    sample_rate = 8

    def __init__(self) -> None:
        super().__init__()
        self.seeds: list[int | None] = []

    def generate(self, condition: torch.Tensor, guidance: float = 1.0,
                 guidance_end: float | None = None, seed: int | None = None) -> torch.Tensor:
        self.seeds.append(seed)
        return (condition if guidance or guidance_end else torch.ones_like(condition))[:, None, :]


class EchoModule(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.generator = EchoGenerator()

    def condition(self, batch: dict) -> dict:
        return {"condition": batch["vector"]}


class EchoEmbedder:
    """Embeds a signal as itself (unit norm); the reference files are named by their one-hot row."""

    sample_rate, samples = 8, 8

    def embed_audio(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        return torch.nn.functional.normalize(audio[:, 0], dim=-1)

    def embed_files(self, paths: list) -> torch.Tensor:
        return torch.eye(8)[[int(path) for path in paths]]


def test_baselines_are_scored_against_each_items_own_condition_and_reference() -> None:
    vectors = torch.eye(8)
    batches = [{"vector": vectors[i:i + 4], "index": torch.arange(i, i + 4), "reference_id": torch.arange(i, i + 4),
                "label": torch.arange(i, i + 4)} for i in (0, 4)]
    module = EchoModule()
    scores = evaluate_generation(module, batches, [str(i) for i in range(8)], EchoEmbedder(), ["vector"],
                                 {"guidance": 1.0, "guidance_end": 3.0}, batch_size=3, device="cpu")
    assert scores["clap_score"] == pytest.approx(1.0) and scores["adherence_mrr"] == pytest.approx(1.0)
    assert scores["shuffled/clap_score"] == pytest.approx(0.0)  # another item's condition, scored against its own
    assert scores["shuffled/adherence_top1"] == 0.0
    assert scores["unconditional/clap_score"] == pytest.approx(1 / math.sqrt(8))  # no guidance ramp back to 3
    assert module.generator.seeds == [0, 3, 6] * 3  # seeded by row: every run shares its noise
