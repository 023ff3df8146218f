"""`make bench` runs end to end on a tiny model and reports positive figures."""

from pathlib import Path

from bench.run import main
from tests.conftest import tiny_overrides


def test_bench_reports_every_figure(tmp_path: Path, data_root: Path, capsys) -> None:
    figures = main(["--steps", "2", "--warmup", "1", "--repeats", "1", "--clips", "8",
                    *tiny_overrides(tmp_path, data_root, run_dir=False)])
    assert len(figures) == 5 and all(value > 0 for value in figures.values())
    printed = capsys.readouterr().out
    assert "ratio Trainer / plain" in printed and "from the feature cache" in printed


def test_bench_reports_retrieval_figures_for_qvim(tmp_path: Path, data_root: Path) -> None:
    figures = main(["--experiment", "qvim_cpu", "--steps", "2", "--warmup", "1", "--repeats", "1", "--clips", "8",
                    *tiny_overrides(tmp_path, data_root, run_dir=False, experiment="qvim_cpu")])
    cold, warm = figures["retrieval clips/s, read + embed"], figures["retrieval clips/s, from the embedding cache"]
    assert 0 < cold < warm
