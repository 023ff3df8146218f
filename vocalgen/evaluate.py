"""`python -m vocalgen.evaluate checkpoint=… [data=qvim_dev data.root=… data.split=all]`:
a checkpoint's epoch-level metrics (MRR, NDCG, top-k, recall@k) on a split, printed and logged to MLflow."""

import logging
from pathlib import Path
from typing import Any

import hydra
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from vocalgen.callbacks.config_in_checkpoint import CHECKPOINT_KEY
from vocalgen.checkpoints import load_module, read_checkpoint, resolve_checkpoint
from vocalgen.config import CONFIG_DIR, register_resolvers
from vocalgen.errors import CheckpointError
from vocalgen.metrics.retrieval_evaluator import RetrievalEvaluator
from vocalgen.module import VocalGenModule
from vocalgen.tracking import ensure_experiment, store_uri

log = logging.getLogger(__name__)
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


def batch_to(batch: dict[str, Any], device: str) -> dict[str, Any]:
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def run_metrics(module: VocalGenModule, evaluators: list[RetrievalEvaluator], loader: Any,
                device: str) -> dict[str, float]:
    """Feed every batch of `loader` through the module into `evaluators`; their merged results."""
    for evaluator in evaluators:
        evaluator.reset()
    with torch.no_grad():
        for batch in tqdm(loader, desc="evaluating", unit="batch"):
            batch = batch_to(batch, device)
            outputs = module(batch)
            for evaluator in evaluators:
                evaluator.update(outputs, batch)
    return {name: value for evaluator in evaluators for name, value in evaluator.compute().items()}


def log_evaluation(metrics: dict[str, float], config: dict[str, Any], checkpoint: Path, trained_run: str | None,
                   data: DictConfig, split: str, mlflow_dir: str | Path) -> str:
    """One MLflow run "evaluate <run name>" under the training run (if known); returns its id."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store_uri(mlflow_dir))
    experiment_id = ensure_experiment(client, config["experiment_name"], str(Path(mlflow_dir) / "artifacts"))
    tags = {"experiment": config["experiment_name"], "vocalgen.evaluated_checkpoint": str(checkpoint.resolve())}
    if trained_run:
        tags["mlflow.parentRunId"] = trained_run
    run = client.create_run(experiment_id, run_name=f"evaluate {config.get('run_name', '')}".strip(), tags=tags)
    run_id = run.info.run_id
    client.log_param(run_id, "data.root", str(data.root))
    client.log_param(run_id, "data.layout", str(data.get("layout", "vimsketch")))
    client.log_param(run_id, "split", split)
    for name, value in metrics.items():
        client.log_metric(run_id, f"eval/{name}", value)
    client.set_terminated(run_id, "FINISHED")
    return run_id


def evaluate(checkpoint: str, mlflow_dir: str | Path, data: DictConfig | None = None, split: str = "test",
             which: str = "best", batch_size: int | None = None, device: str = "cpu",
             log_to_mlflow: bool = True, cache_dir: str | Path | None = None) -> dict[str, float]:
    """The checkpoint's metrics on `split` of its own data (or of `data`); logged to MLflow."""
    path = resolve_checkpoint(checkpoint, mlflow_dir, which)
    module, config = load_module(path)
    if not module.metrics:
        raise CheckpointError(f"checkpoint {path} (experiment '{config.get('experiment_name')}') defines no "
                              "evaluation metrics (its config has an empty `metrics`).")
    data_cfg = evaluation_data_config(config, data, str(cache_dir) if cache_dir is not None else None)
    if batch_size is not None:
        data_cfg.batch_size = batch_size
    datamodule = instantiate(data_cfg)
    datamodule.prepare_data()
    datamodule.setup("test")
    metrics = run_metrics(module.to(device), module.metrics, datamodule.loader(split, shuffle=False), device)
    if log_to_mlflow:
        trained_run = read_checkpoint(path)[CHECKPOINT_KEY].get("mlflow_run_id")
        run_id = log_evaluation(metrics, config, path, trained_run, data_cfg, split, mlflow_dir)
        log.info("logged to MLflow run %s", run_id)
    return metrics


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="evaluate")
def main(cfg: DictConfig) -> None:
    metrics = evaluate(cfg.checkpoint, cfg.paths.mlflow_dir, cfg.get("data"), cfg.split, cfg.which,
                       cfg.batch_size, cfg.device, cfg.log_to_mlflow, cfg.paths.cache_dir)
    width = max(len(name) for name in metrics)
    for name, value in metrics.items():
        print(f"{name:<{width}}  {value:.4f}")


if __name__ == "__main__":
    main()
