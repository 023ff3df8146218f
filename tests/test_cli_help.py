"""Each command explains itself: --help with examples and the experiments or pipelines to pick, console
scripts for every entry point, and Hydra's shell completion through them."""

import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import run_main
from vocalgen.config import CONFIG_DIR, PROJECT_ROOT

ENTRY_POINTS = {"vocalgen.train": "+experiment=qvae_cpu", "vocalgen.pipeline": "+pipeline=audioldm_refined_cpu",
                "vocalgen.generate": "checkpoint=RUN_ID", "vocalgen.evaluate": "checkpoint=RUN_ID",
                "vocalgen.retrieve": "query=my_imitation.wav"}


@pytest.mark.parametrize("module", sorted(ENTRY_POINTS))
def test_help_names_the_command_and_shows_worked_examples(module: str) -> None:
    shown = run_main(module, ["--help"])
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{module}: ") and shown.stdout.count(f"python -m {module} ") >= 3
    assert ENTRY_POINTS[module] in shown.stdout and "--shell-completion" in shown.stdout


def test_the_train_and_pipeline_help_list_every_experiment_and_pipeline() -> None:
    train, pipeline = (run_main(module, ["--help"]).stdout for module in ("vocalgen.train", "vocalgen.pipeline"))
    for name in (path.stem for path in (CONFIG_DIR / "experiment").glob("*.yaml")):
        assert name in train, name
    for name in (path.stem for path in (CONFIG_DIR / "pipeline").glob("*.yaml")):
        assert name in pipeline, name


def test_every_entry_point_is_a_console_script_installed_beside_python() -> None:
    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts) == {name.replace(".", "-") for name in ENTRY_POINTS}
    for name in scripts:
        assert (Path(sys.executable).parent / name).is_file(), f"{name}: reinstall with make install"


def test_shell_completion_through_a_console_script_offers_the_experiments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMP_LINE", "vocalgen-train +experiment=qvae")
    offered = run_main("vocalgen.train", ["-sc", "query=bash"])
    assert {"+experiment=qvae", "+experiment=qvae_cpu"} <= set(offered.stdout.split()), offered.stdout
