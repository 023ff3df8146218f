"""`make bench` runs end to end on a tiny model and reports positive figures."""

from pathlib import Path

import pytest

from bench.run import main
from tests.conftest import tiny_overrides


def test_bench_reports_every_figure(tmp_path: Path, data_root: Path, capsys) -> None:
    figures = main(["--steps", "2", "--warmup", "1", "--repeats", "1", "--max-repeats", "2", "--clips", "8",
                    *tiny_overrides(tmp_path, data_root, run_dir=False)])
    assert len(figures) == 7 and all(value >= 0 for value in figures.values())
    assert figures["plain / Trainer pairs measured"] in (1, 2)
    printed = capsys.readouterr().out
    assert "ratio Trainer / plain, median of the pairs" in printed and "from the feature cache" in printed


def test_the_overhead_ratio_is_measured_in_pairs_until_their_spread_is_small() -> None:
    from bench.run import paired_ratio

    constant = iter([100.0] * 8).__next__
    disturbed = paired_ratio(constant, iter([70.0, 95.0, 96.0, 97.0]).__next__, min_pairs=2, max_pairs=8)
    assert disturbed["pairs"] == 3 and disturbed["ratio"] == pytest.approx(0.95)  # one slow pair holds nothing up
    assert disturbed["spread"] == pytest.approx(0.01 / 0.95) and disturbed["framework"] == 96.0
    constant = iter([100.0] * 8).__next__
    noisy = paired_ratio(constant, iter([80.0, 100.0, 90.0, 70.0]).__next__, min_pairs=2, max_pairs=4)
    assert noisy["pairs"] == 4 and noisy["spread"] > 0.02  # gives up after max_pairs, saying how noisy


def test_bench_reports_retrieval_figures_for_qvim(tmp_path: Path, data_root: Path) -> None:
    figures = main(["--experiment", "qvim_cpu", "--steps", "2", "--warmup", "1", "--repeats", "1", "--clips", "8",
                    *tiny_overrides(tmp_path, data_root, run_dir=False, experiment="qvim_cpu")])
    cold, warm = figures["retrieval clips/s, read + embed"], figures["retrieval clips/s, from the embedding cache"]
    assert 0 < cold < warm


def test_latent_bench_compares_the_cache_and_times_generation(tmp_path: Path, data_root: Path) -> None:
    from bench.latent import main as latent_main
    from tests.conftest import EXPERIMENT_TINY, TINY_UNET

    common = [o for o in tiny_overrides(tmp_path, data_root, run_dir=False, experiment=None)
              if not o.startswith("data.batch_size")]
    stage = [f"clap_cpu:{o}" for o in EXPERIMENT_TINY["clap_cpu"]]
    stage += [f"{name}_cpu:{o}" for name in ("mel_vae", "vocoder") for o in EXPERIMENT_TINY[name]]
    figures = latent_main(["--system", "audioldm", "--steps", "2", "--warmup", "1", "--clips", "1",
                           *[f"--common={o}" for o in common], *[f"--stage={o}" for o in stage], *TINY_UNET,
                           "data.batch_size=4", "sampling.steps=2"])
    assert len(figures) == 4 and all(value > 0 for value in figures.values())


def test_latent_bench_times_iadb_at_three_step_counts(tmp_path: Path) -> None:
    from bench.latent import main as latent_main
    from tests.conftest import COMMON_TINY
    from tests.test_iadb_experiments import FRAMES, LOOPS, TINY_ENCODEC, TINY_IADB

    common = [f"paths.output_dir={tmp_path}", f"data.root={tmp_path}/loops", f"data.synthetic={LOOPS}",
              f"data.fields.audio_24k.samples={FRAMES * 320}", *[o for o in COMMON_TINY if "batch_size" not in o]]
    stage = [f"encodec_cpu:{o}" for o in [*TINY_ENCODEC, "data.fields.beat_phase=null"]]
    figures = latent_main(["--system", "iadb", "--steps", "2", "--warmup", "1", "--clips", "1",
                           *[f"--common={o}" for o in common], *[f"--stage={o}" for o in stage], *TINY_IADB,
                           "data.batch_size=4"])
    assert {f"generation, seconds of audio per second, {n} steps" for n in (10, 50, 100)} <= set(figures)
    assert all(value > 0 for value in figures.values())
