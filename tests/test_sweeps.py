"""Through the command line: multirun sweeps grouped in MLflow, a failing job, Optuna, DDP and submitit.
The command runs in this process (run_main) except DDP, which relaunches its own command line."""

from pathlib import Path

import pytest

from tests.conftest import all_runs, run_cli, run_main, tiny_overrides

pytestmark = pytest.mark.slow


def train_cli(tmp_path: Path, data_root: Path, *args: str, new_process: bool = False):
    flags = [a for a in args if a.startswith("-")]
    overrides = [a for a in args if not a.startswith("-")]
    command = [*flags, "+experiment=qvae_cpu", *tiny_overrides(tmp_path, data_root, False),
               f"hydra.sweep.dir={tmp_path}/sweep", *overrides]
    result = (run_cli if new_process else run_main)("vocalgen.train", command)
    return result, all_runs(tmp_path)


def split_parents(runs: list) -> tuple[list, list]:
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return [r for r in runs if r not in children], children


def test_multirun_gives_one_run_per_job_under_a_parent(tmp_path: Path, data_root: Path) -> None:
    result, runs = train_cli(tmp_path, data_root, "-m", "optimizer.lr=1e-3,2e-3")
    assert result.returncode == 0, result.stderr[-3000:]
    (parent,), children = split_parents(runs)
    assert len(children) == 2 and {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert sorted(c.data.params["optimizer/lr"] for c in children) == ["0.001", "0.002"]
    assert all(c.info.status == "FINISHED" and c.data.tags["experiment"] == "qvae" for c in children)
    assert {c.info.run_name for c in children} == {"qvae #0", "qvae #1"}
    assert all(c.data.tags["vocalgen.overrides"].endswith(f"optimizer.lr={c.data.params['optimizer/lr']}")
               for c in children)


def test_a_joblib_sweep_keeps_the_good_job_when_one_fails(tmp_path: Path, data_root: Path) -> None:
    # n_jobs=1: joblib's launcher and its failure handling without two workers importing torch for ~25 s
    result, runs = train_cli(tmp_path, data_root, "-m", "optimizer.lr=1e-3,-1.0", "hydra/launcher=joblib",
                             "hydra.launcher.n_jobs=1")
    assert result.returncode != 0 and "Invalid learning rate" in result.stderr
    _, children = split_parents(runs)
    status = {c.data.params["optimizer/lr"]: c.info.status for c in children}
    assert status == {"0.001": "FINISHED", "-1.0": "FAILED"}


def test_optuna_search_runs_trials_and_reports_the_best(tmp_path: Path, data_root: Path) -> None:
    result, runs = train_cli(tmp_path, data_root, "hparams_search=qvae_optuna", "hydra.sweeper.n_trials=2")
    assert result.returncode == 0, result.stderr[-3000:]
    _, children = split_parents(runs)
    assert len(children) == 2 and all("val/loss" in c.data.metrics for c in children)
    best = (tmp_path / "sweep" / "optimization_results.yaml").read_text()
    assert "best_params" in best and "optimizer.lr" in best and "best_value" in best


def test_ddp_on_two_cpu_processes_logs_one_run(tmp_path: Path, data_root: Path) -> None:
    result, runs = train_cli(tmp_path, data_root, "trainer=ddp", "trainer.accelerator=cpu",
                             f"hydra.run.dir={tmp_path}/ddp_run", new_process=True)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = runs
    assert run.info.status == "FINISHED" and "val/loss" in run.data.metrics
    assert run.data.params["trainer/devices"] == "2" and run.data.params["trainer/strategy"] == "ddp"
    assert (tmp_path / "ddp_run" / "checkpoints" / "last.ckpt").is_file()


def test_submitit_local_launcher_runs_a_job(tmp_path: Path, data_root: Path) -> None:
    result, runs = train_cli(tmp_path, data_root, "-m", "hydra/launcher=submitit_local",
                             "hydra.launcher.timeout_min=10")
    assert result.returncode == 0, result.stderr[-3000:]
    _, children = split_parents(runs)
    assert len(children) == 1 and children[0].info.status == "FINISHED"
