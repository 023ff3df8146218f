"""The MLflow runs a pipeline reuses, resumes or reports: found by the config digest tag."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vocalgen.config_digest import DIGEST_TAG
from vocalgen.tracking import BEST_CHECKPOINT_TAG, BEST_SCORE_TAG, CHECKPOINT_DIR_TAG, MONITOR_TAG

UNFINISHED = ("FAILED", "KILLED", "RUNNING")  # RUNNING: a process that died without marking its run


@dataclass(frozen=True)
class StageRun:
    """What the end-of-pipeline table shows of one stage's MLflow run."""

    run_id: str
    monitor: str
    score: str
    checkpoint: str
    minutes: float | None


def runs_with_digest(client: Any, digest: str) -> list[Any]:
    """Every MLflow run (any experiment) tagged with `digest`, newest first."""
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    if not experiments:
        return []
    return client.search_runs(experiments, filter_string=f"tags.`{DIGEST_TAG}` = '{digest}'",
                              order_by=["attributes.start_time DESC"])


def best_checkpoint(run: Any) -> Path | None:
    """The run's best checkpoint (tagged by its training) if the file still exists."""
    path = run.data.tags.get(BEST_CHECKPOINT_TAG)
    return Path(path) if path and Path(path).is_file() else None


def last_checkpoint(run: Any) -> Path | None:
    """The run's last.ckpt if it wrote one that still exists."""
    folder = run.data.tags.get(CHECKPOINT_DIR_TAG)
    path = Path(folder) / "last.ckpt" if folder else None
    return path if path is not None and path.is_file() else None


def reusable_run(runs: list[Any]) -> Any | None:
    """The newest FINISHED run whose best checkpoint is still on disk."""
    return next((run for run in runs if run.info.status == "FINISHED" and best_checkpoint(run)), None)


def resumable_run(runs: list[Any]) -> Any | None:
    """The newest run that stopped before finishing (failed, Ctrl-C, killed) and left a last.ckpt."""
    return next((run for run in runs if run.info.status in UNFINISHED and last_checkpoint(run)), None)


def stage_run(run: Any) -> StageRun:
    """The table row's facts of `run`: its monitored metric at the best checkpoint and its wall time."""
    tags = run.data.tags
    ended = run.info.end_time
    minutes = (ended - run.info.start_time) / 60_000 if ended and run.info.start_time else None
    return StageRun(run.info.run_id, tags.get(MONITOR_TAG, "-"), tags.get(BEST_SCORE_TAG, "-"),
                    str(best_checkpoint(run) or "-"), minutes)
