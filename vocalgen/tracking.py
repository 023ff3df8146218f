"""MLflow helpers: the sqlite store, run naming and tags, sweep parent runs, config logging."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from vocalgen.config_digest import DIGEST_TAG
from vocalgen.hardware import cpu_summary

PARENT_ID_FILE = "mlflow_parent_run_id"
CHECKPOINT_DIR_TAG = "vocalgen.checkpoint_dir"
BEST_CHECKPOINT_TAG = "vocalgen.best_checkpoint"
BEST_SCORE_TAG = "vocalgen.best_score"
MONITOR_TAG = "vocalgen.monitor"
PARENT_TAG = "mlflow.parentRunId"
SWEEP_TAG = "vocalgen.sweep"
MACHINE_TAG = "vocalgen.machine"  # the CPU a run trained on (its wall time means nothing without it)
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"  # MLflow's name for model training (not GenAI)


def store_uri(mlflow_dir: str | Path) -> str:
    """The sqlite tracking URI of the store in `mlflow_dir` (created if needed)."""
    path = Path(mlflow_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / 'mlflow.db'}"


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (parallel sweep jobs) held while the block runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_experiment(client: Any, name: str, artifact_location: str) -> str:
    """The id of MLflow experiment `name`, created (with its artifact location) if missing; tagged as
    model training (EXPERIMENT_KIND), which MLflow's UI reads to show runs rather than GenAI traces."""
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        return client.create_experiment(name, artifact_location=Path(artifact_location).resolve().as_uri(),
                                        tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND})
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
    if experiment.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:  # made by an older vocalgen
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    return experiment.experiment_id


def sweep_job() -> dict[str, Any] | None:
    """The sweep dir, job number and overrides when running inside a Hydra multirun."""
    if not HydraConfig.initialized():
        return None
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    return {"dir": str(Path(hydra_cfg.sweep.dir).resolve()), "num": hydra_cfg.job.num,
            "overrides": " ".join(hydra_cfg.overrides.task)}


def ensure_parent_run(client: Any, experiment_id: str, sweep_dir: str, name: str) -> str:
    """One parent run per sweep dir (created by whichever job comes first) grouping its jobs."""
    id_file = Path(sweep_dir) / PARENT_ID_FILE
    if id_file.is_file():
        return id_file.read_text().strip()
    parent = client.create_run(experiment_id, run_name=f"{name} sweep", tags={SWEEP_TAG: sweep_dir})
    client.set_terminated(parent.info.run_id, "FINISHED")
    id_file.write_text(parent.info.run_id)
    return parent.info.run_id


def make_mlflow_logger(experiment_name: str, run_name: str, tags: dict[str, str], mlflow_dir: str,
                       artifacts_dir: str, run_id: str | None = None,
                       parent_run_id: str | None = None) -> MLFlowLogger:
    """MLFlowLogger for this run: named and tagged after the experiment, nested under the sweep's
    parent run in a multirun, or under `parent_run_id` (a pipeline's run), continuing `run_id` when
    resuming."""
    from mlflow.tracking import MlflowClient

    uri = store_uri(mlflow_dir)
    tags = {"experiment": experiment_name, **tags}
    job = sweep_job()
    if rank_zero_only.rank != 0:  # only rank zero touches the store; other ranks' loggers stay idle
        return MLFlowLogger(experiment_name=experiment_name, run_name=run_name, tracking_uri=uri, run_id=run_id)
    with file_lock(Path(mlflow_dir) / ".lock"):
        client = MlflowClient(uri)
        experiment_id = ensure_experiment(client, experiment_name, artifacts_dir)
        if parent_run_id is not None:
            tags[PARENT_TAG] = parent_run_id
            if run_id is not None:  # a resumed run joins the pipeline run that resumed it
                client.set_tag(run_id, PARENT_TAG, parent_run_id)
        elif job is not None and run_id is None:
            parent = ensure_parent_run(client, experiment_id, job["dir"], experiment_name)
            tags.update({PARENT_TAG: parent, SWEEP_TAG: job["dir"], "vocalgen.overrides": job["overrides"]})
            run_name = f"{run_name} #{job['num']}"
    return MLFlowLogger(experiment_name=experiment_name, run_name=run_name, tracking_uri=uri, tags=tags, run_id=run_id)


def mlflow_loggers(trainer: Any) -> list[MLFlowLogger]:
    """The trainer's MLflow loggers (none when it logs elsewhere)."""
    return [logger for logger in trainer.loggers if isinstance(logger, MLFlowLogger)]


def log_run_config(logger: MLFlowLogger, cfg: DictConfig, checkpoint_dir: str, resumed: bool, digest: str,
                   model_summary: str) -> None:
    """Log the resolved config (flattened params once, and config.yaml), the model summary
    (model_summary.txt), the checkpoint dir tag, the machine tag (vocalgen.hardware.cpu_summary) and
    the config digest tag (vocalgen.config_digest) that lets a pipeline reuse this run."""
    client, run_id = logger.experiment, logger.run_id
    container = OmegaConf.to_container(cfg, resolve=True)
    client.set_tag(run_id, CHECKPOINT_DIR_TAG, str(Path(checkpoint_dir).resolve()))
    client.set_tag(run_id, DIGEST_TAG, digest)
    client.set_tag(run_id, MACHINE_TAG, cpu_summary())
    client.log_text(run_id, model_summary, "model_summary.txt")
    if resumed:
        client.log_text(run_id, OmegaConf.to_yaml(container), "config_resumed.yaml")
        return
    logger.log_hyperparams({key: value for key, value in container.items() if key != "ckpt_path"})
    client.log_text(run_id, OmegaConf.to_yaml(container), "config.yaml")


def log_best_checkpoint(logger: MLFlowLogger, path: str, score: float | None, monitor: str | None) -> None:
    """Tag the run with its best checkpoint (its last when it never measured `monitor`), the monitored
    metric's name and its value there."""
    client, run_id = logger.experiment, logger.run_id
    client.set_tag(run_id, BEST_CHECKPOINT_TAG, str(Path(path).resolve()))
    if monitor:
        client.set_tag(run_id, MONITOR_TAG, monitor)
    if score is not None:
        client.set_tag(run_id, BEST_SCORE_TAG, f"{score:.6g}")
