"""`python -m vocalgen.evaluate checkpoint=… [data=qvim_dev data.root=… data.split=all]`: a checkpoint's
metrics on a split, printed and logged to MLflow. What is measured is the experiment's choice: the
evaluations it lists under `evaluators` (vocalgen.evaluation: retrieval ranking, generation quality
against baselines, tempo control, …)."""

import logging
import tempfile
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from vocalgen.callbacks.config_in_checkpoint import CHECKPOINT_KEY
from vocalgen.checkpoints import load_module, read_checkpoint, resolve_checkpoint
from vocalgen.cli import command
from vocalgen.config import as_list, merge_sampling, register_resolvers, sampling_overrides
from vocalgen.errors import CheckpointError
from vocalgen.evaluation.job import EvaluationJob, build_evaluations
from vocalgen.tracking import ensure_experiment, store_uri

log = logging.getLogger(__name__)
# Command-line keys handed to every evaluation whose constructor takes them (null: its configured value).
OPTIONS = ("embedder", "conditions", "baselines", "bpms", "guidances", "per_bpm", "estimator", "seeds",
           "probe_epochs", "griffin_lim_iterations", "examples")
register_resolvers()


def evaluation_data_config(trained: dict[str, Any], override: DictConfig | None, cache_dir: str | None) -> DictConfig:
    """The checkpoint's data config, or `override` (another data set) read with the checkpoint's
    fields and pairing (`unique_references`); the feature cache goes under this checkout's `cache_dir`."""
    data = OmegaConf.create(trained["data"])
    if override is not None:
        data = OmegaConf.merge(override, {"fields": data.fields, "unique_references": data.unique_references})
        OmegaConf.resolve(data)
    if cache_dir is not None and data.get("cache_dir") is not None:
        data.cache_dir = str(Path(cache_dir) / "features")
    return data


def recorded_run(client: Any, run_id: str | None) -> Any:
    """The run `run_id` of the client's store, or None when it is not there."""
    from mlflow.exceptions import MlflowException

    if not run_id:
        return None
    try:
        return client.get_run(run_id)
    except MlflowException:
        return None


def log_evaluation(metrics: dict[str, float], config: dict[str, Any], checkpoint: Path, trained_run: str | None,
                   params: dict[str, Any], split: str, mlflow_dir: str | Path,
                   texts: dict[str, str] | None = None, files: dict[str, bytes] | None = None) -> str:
    """One MLflow run "evaluate <run name>" nested under the training run (if known), with `params`, the
    metrics as "eval/<name>" (one batch each), `texts` and `files` as artifacts {file name: content}; returns its
    id."""
    import mlflow
    from mlflow.tracking import MlflowClient

    uri = store_uri(mlflow_dir)
    client = MlflowClient(uri)
    trained = recorded_run(client, trained_run)
    if trained is not None:  # beside the training run (a pipeline's stage runs live in its experiment)
        experiment_id = trained.info.experiment_id
    else:  # trained in another store, or before runs were recorded: nothing to nest under here
        experiment_id = ensure_experiment(client, config["experiment_name"], str(Path(mlflow_dir) / "artifacts"))
        trained_run = None
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        tags = {"experiment": config["experiment_name"], "vocalgen.evaluated_checkpoint": str(checkpoint.resolve())}
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"evaluate {config.get('run_name', '')}".strip(),
                              tags=tags, parent_run_id=trained_run, log_system_metrics=False) as run:
            mlflow.log_params({name: str(value) for name, value in {**params, "split": split}.items()})
            mlflow.log_metrics({f"eval/{name}": value for name, value in metrics.items()})
            for name, text in (texts or {}).items():
                mlflow.log_text(text, name)
            with tempfile.TemporaryDirectory() as folder:
                for name, content in (files or {}).items():
                    (Path(folder) / name).write_bytes(content)
                    mlflow.log_artifact(str(Path(folder) / name))
        return run.info.run_id
    finally:
        mlflow.set_tracking_uri(previous)


def evaluate(checkpoint: str, mlflow_dir: str | Path, data: DictConfig | None = None, split: str = "test",
             which: str = "best", batch_size: int | None = None, device: str = "cpu",
             log_to_mlflow: bool = True, cache_dir: str | Path | None = None, sampling: dict[str, Any] | None = None,
             evaluators: list[str] | None = None, **options: Any) -> dict[str, float]:
    """Run the evaluations the checkpoint's experiment lists under `evaluators` (only the named ones
    when given) on `split` of its own data (or of `data`); their metrics, logged to one MLflow run.
    `options` (e.g. embedder, conditions, baselines, bpms, guidances, per_bpm) reach each evaluation
    that takes them, over its configured values."""
    path = resolve_checkpoint(checkpoint, mlflow_dir, which)
    module, config = load_module(path)
    evaluations = build_evaluations(config, evaluators, options)
    if not evaluations:
        raise CheckpointError(f"checkpoint {path} (experiment '{config.get('experiment_name')}') lists no evaluations "
                              "(its config's `evaluators` is empty).")
    data_cfg = evaluation_data_config(config, data, str(cache_dir) if cache_dir is not None else None)
    if batch_size is not None:
        data_cfg.batch_size = batch_size
    job = EvaluationJob(module.to(device), config, split, device, merge_sampling(config.get("sampling"), sampling),
                        Path(mlflow_dir), data_cfg)
    results = {name: evaluation.run(job) for name, evaluation in evaluations.items()}
    metrics = {key: value for result in results.values() for key, value in result.metrics.items()}
    if log_to_mlflow:
        params = {"evaluators": sorted(results), **{key: value for result in results.values()
                                                     for key, value in result.params.items()}}
        if job.built_data is not None:
            params.update({"data.root": str(data_cfg.root), "data.layout": str(data_cfg.get("layout"))})
        texts = {name: text for result in results.values() for name, text in result.texts.items()}
        files = {name: content for result in results.values() for name, content in result.files.items()}
        run_id = log_evaluation(metrics, config, path, read_checkpoint(path)[CHECKPOINT_KEY].get("mlflow_run_id"),
                                params, split, mlflow_dir, texts, files)
        log.info("logged to MLflow run %s", run_id)
    return metrics


@command("evaluate")
def main(cfg: DictConfig) -> None:
    options = {key: OmegaConf.to_container(cfg[key]) if OmegaConf.is_config(cfg[key]) else cfg[key]
               for key in OPTIONS}
    metrics = evaluate(cfg.checkpoint, cfg.paths.mlflow_dir, cfg.get("data"), cfg.split, cfg.which,
                       cfg.batch_size, cfg.device, cfg.log_to_mlflow, cfg.paths.cache_dir, sampling_overrides(cfg),
                       as_list(cfg.get("evaluators")), **options)
    width = max(len(name) for name in metrics)
    for name, value in metrics.items():
        print(f"{name:<{width}}  {value:.4f}")


if __name__ == "__main__":
    main()
