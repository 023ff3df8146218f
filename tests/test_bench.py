"""`make bench` runs end to end on a tiny model and reports positive figures, one row per measurement and a
column per variant."""

import re
from pathlib import Path

import pytest

from bench.run import main
from tests.conftest import tiny_overrides

PAIRED = r"\d\.\d{3} ± \d+\.\d%, [12] pairs"  # a median of pairs, its spread and their number


def rows_by_measure(rows: list) -> dict[str, dict]:
    return {row.measure.strip(): row.values for row in rows}


def test_bench_reports_every_figure(tmp_path: Path, data_root: Path, capsys) -> None:
    rows = rows_by_measure(main(["--steps", "2", "--warmup", "1", "--repeats", "1", "--max-repeats", "2", "--clips",
                                 "8", "--variants", "fp32,bf16,compiled",
                                 *tiny_overrides(tmp_path, data_root, run_dir=False), "compile_parts=[]"]))
    trained = rows["train samples/s, Trainer + MLflow"]  # nothing named to compile: the compiled variant is left out
    assert set(trained) == {"fp32", "bf16"} and all(value > 0 for value in trained.values())
    over_plain = rows["÷ plain step (fp32 loop, no speed options; first column: median of pairs)"]
    overhead = rows["Trainer / plain loop, median of pairs (aim ≥ 0.98)"]["fp32"]
    assert re.fullmatch(PAIRED, overhead) and over_plain["bf16"] > 0
    assert over_plain["fp32"] == overhead  # qvae_cpu's fp32 is the plain step itself: one set of pairs gives both
    on_the_fly, cached = rows["data clips/s, on the fly → feature cache"]["fp32"]
    assert on_the_fly > 0 and cached > 0
    printed = capsys.readouterr().out
    assert re.search(r"measure +fp32 +bf16", printed) and "feature cache" in printed


def test_the_table_aligns_variants_and_marks_what_was_not_measured() -> None:
    from bench.report import Row, format_table

    table = format_table("heading", [Row("qvae", "train", {"fp32": 12.345, "bf16": 30.0}),
                                     Row("qvae", "cache", {"fp32": (10.0, 2500.0)})], ["fp32", "bf16", "compiled"])
    lines = table.splitlines()
    assert lines[1] == "vocalgen bench: heading"
    assert lines[4].split() == ["qvae", "train", "12.3", "30", "–"]
    assert lines[5].split() == ["qvae", "cache", "10", "→", "2500", "–", "–"]
    assert lines[4].index("12.3") + len("12.3") == lines[5].index("10 → 2500") + len("10 → 2500")  # right-aligned


def test_unknown_variants_and_systems_are_refused_with_the_choices() -> None:
    from bench.run import parse_variants
    from bench.table import parse_systems

    assert parse_variants("fp32,compiled") == ["fp32", "compiled"]
    with pytest.raises(SystemExit, match=r"--variants 'fp16'.*\['fp32', 'bf16', 'compiled'\]"):
        parse_variants("fp16")
    with pytest.raises(SystemExit, match=r"--systems 'qvae,ldm'.*'audioldm'"):
        parse_systems("qvae,ldm")


def test_the_overhead_ratio_is_measured_in_pairs_until_their_spread_is_small() -> None:
    from bench.run import paired_ratio

    constant = iter([100.0] * 8).__next__
    disturbed = paired_ratio(constant, iter([70.0, 95.0, 96.0, 97.0]).__next__, min_pairs=2, max_pairs=8)
    assert disturbed["pairs"] == 3 and disturbed["ratio"] == pytest.approx(0.95)  # one slow pair holds nothing up
    assert disturbed["spread"] == pytest.approx(0.01 / 0.95) and disturbed["framework"] == 95.0  # the median run
    constant = iter([100.0] * 8).__next__
    noisy = paired_ratio(constant, iter([80.0, 100.0, 90.0, 70.0]).__next__, min_pairs=2, max_pairs=4)
    assert noisy["pairs"] == 4 and noisy["spread"] > 0.02  # gives up after max_pairs, saying how noisy


def test_bench_reports_retrieval_figures_for_qvim(tmp_path: Path, data_root: Path) -> None:
    rows = rows_by_measure(main(["--experiment", "qvim_cpu", "--steps", "2", "--warmup", "1", "--repeats", "1",
                                 "--max-repeats", "2", "--clips", "8", "--variants", "fp32",
                                 *tiny_overrides(tmp_path, data_root, run_dir=False, experiment="qvim_cpu")]))
    cold, warm = rows["retrieval clips/s, read + embed → embedding cache"]["fp32"]
    assert 0 < cold < warm
    # qvim_cpu's fp32 is channels-last: its speed-up over the plain step has pairs of its own
    assert re.fullmatch(PAIRED, rows["÷ plain step (fp32 loop, no speed options; first column: median of pairs)"]
                        ["fp32"])


def test_latent_bench_compares_the_cache_and_times_generation(tmp_path: Path, data_root: Path) -> None:
    from bench.latent import main as latent_main
    from tests.conftest import EXPERIMENT_TINY, TINY_UNET

    common = [o for o in tiny_overrides(tmp_path, data_root, run_dir=False, experiment=None)
              if not o.startswith("data.batch_size")]
    stage = [f"clap_cpu:{o}" for o in EXPERIMENT_TINY["clap_cpu"]]
    stage += [f"{name}_cpu:{o}" for name in ("mel_vae", "vocoder") for o in EXPERIMENT_TINY[name]]
    rows = latent_main(["--system", "audioldm", "--steps", "2", "--warmup", "1", "--clips", "1", "--variants", "fp32",
                        *[f"--common={o}" for o in common], *[f"--stage={o}" for o in stage], *TINY_UNET,
                        "data.batch_size=4", "sampling.steps=2"])
    assert [row.measure for row in rows] == ["train samples/s, pre-encoded latent cache",
                                             "speed-up of the latent cache over encoding every batch",
                                             "generation, s of audio / s, 50 steps, 1 clips"]
    assert all(value > 0 for row in rows for value in row.values.values())


def test_latent_bench_times_iadb_at_three_step_counts(tmp_path: Path) -> None:
    from bench.latent import main as latent_main
    from tests.conftest import COMMON_TINY
    from tests.test_iadb_experiments import FRAMES, LOOPS, TINY_ENCODEC, TINY_IADB

    common = [f"paths.output_dir={tmp_path}", f"data.root={tmp_path}/loops", f"data.synthetic={LOOPS}",
              f"data.fields.audio_24k.samples={FRAMES * 320}", *[o for o in COMMON_TINY if "batch_size" not in o]]
    stage = [f"encodec_cpu:{o}" for o in [*TINY_ENCODEC, "data.fields.beat_phase=null"]]
    rows = latent_main(["--system", "iadb", "--steps", "2", "--warmup", "1", "--clips", "1", "--variants",
                        "fp32,compiled", *[f"--common={o}" for o in common], *[f"--stage={o}" for o in stage],
                        *TINY_IADB, "data.batch_size=4"])
    generation = {row.measure: row.values for row in rows if row.measure.startswith("generation")}
    assert list(generation) == [f"generation, s of audio / s, {n} steps, 1 clips" for n in (10, 50, 100)]
    assert all(set(values) == {"fp32", "compiled"} and min(values.values()) > 0 for values in generation.values())


def test_the_precision_bench_runs_both_precisions_and_compares_their_curves(tmp_path: Path, data_root: Path,
                                                                           capsys) -> None:
    from bench.precision import COLUMNS, smoothed
    from bench.precision import main as precision_main

    overrides = [o for o in tiny_overrides(tmp_path, data_root, run_dir=False) if "limit_train_batches" not in o]
    (row,) = precision_main(["--experiments", "qvae_cpu", "--steps", "6", "--warmup", "2", *overrides])
    assert row.system == "qvae_cpu" and row.measure == "6 steps" and set(row.values) == set(COLUMNS)
    fp32_first, fp32_last = row.values["fp32 loss, first → last 5"]
    bf16_first, _ = row.values["bf16 loss, first → last 5"]
    assert fp32_first == pytest.approx(bf16_first, rel=0.1)  # same seed and data: bf16 starts where fp32 does
    assert fp32_last > 0 and row.values["bf16 / fp32 s a step"] > 0
    assert "largest gap / mean fp32 loss" in capsys.readouterr().out
    assert smoothed([1.0, 3.0, 5.0, 7.0], width=2).tolist() == [1.0, 2.0, 4.0, 6.0]


STUB_UNET = '''
import torch
from torch import nn


class UNetBTConditioner(nn.Module):
    """Records the shapes it is called with; returns x scaled by a learnable weight."""

    calls = []

    def __init__(self, channels, time_emb_dim, start_channels_base2, n_layers, kernel_size_base2, n_groups):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))

    def forward(self, x, t, y):
        UNetBTConditioner.calls.append((tuple(x.shape), tuple(t.shape), tuple(y.shape)))
        return x * self.weight
'''


def test_the_published_unet_bench_feeds_the_published_shapes_and_names_a_wrong_folder(tmp_path: Path,
                                                                                       monkeypatch) -> None:
    import sys

    from bench.published_unet import comparison_rows, published_unet

    with pytest.raises(SystemExit, match=r"--ladmg-src .*: no models/unet_bt_conditioner.py"):
        published_unet(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "unet_bt_conditioner.py").write_text(STUB_UNET)
    monkeypatch.delitem(sys.modules, "models", raising=False)
    monkeypatch.delitem(sys.modules, "models.unet_bt_conditioner", raising=False)
    rows = rows_by_measure(comparison_rows(tmp_path, ["fp32"], batch=2, frames=64, train_steps=1, warmup=1,
                                           sampling_steps=2, sampling_batch=1,
                                           overrides=["generator.denoiser.base_channels=8",
                                                      "generator.denoiser.max_channels=16"]))
    assert str(tmp_path) not in sys.path  # put back after the import
    stub = sys.modules["models.unet_bt_conditioner"].UNetBTConditioner
    assert set(stub.calls) == {((2, 128, 64), (2, 1, 1), (2, 1, 64)), ((1, 128, 64), (1, 1, 1), (1, 1, 64))}
    assert set(rows["train clips/s, batch 2"]) == {"published fp32", "vocalgen fp32"}
    assert rows["÷ published (aim ≥ 1.5)"]["published fp32"] == 1.0
    assert all(value > 0 for value in rows["sampling, s of audio / s, 2 Euler steps, batch 1"].values())
