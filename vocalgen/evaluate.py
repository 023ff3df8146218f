"""`python -m vocalgen.evaluate checkpoint=… [data=qvim_dev data.root=… data.split=all]`: a checkpoint's
metrics on a split, printed and logged to MLflow: retrieval models their epoch-level metrics (MRR,
NDCG, top-k, recall@k), generators the generation metrics (Fréchet distance, condition adherence,
CLAP score, with unconditional and shuffled-condition baselines)."""

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
from vocalgen.cli import expected_errors_end_cleanly
from vocalgen.config import CONFIG_DIR, merge_sampling, register_resolvers, sampling_overrides
from vocalgen.data.beats import validate_bpm
from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.metrics.clap_embedder import ClapEmbedder
from vocalgen.metrics.generation_evaluator import evaluate_generation
from vocalgen.metrics.retrieval_evaluator import RetrievalEvaluator
from vocalgen.metrics.tempo_evaluator import evaluate_tempo
from vocalgen.module import VocalGenModule
from vocalgen.stages import stage_checkpoint
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
                   params: dict[str, Any], split: str, mlflow_dir: str | Path,
                   texts: dict[str, str] | None = None) -> str:
    """One MLflow run "evaluate <run name>" under the training run (if known) with `params`, the
    metrics as "eval/<name>" and `texts` as artifacts {file name: content}; returns its id."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store_uri(mlflow_dir))
    experiment_id = ensure_experiment(client, config["experiment_name"], str(Path(mlflow_dir) / "artifacts"))
    tags = {"experiment": config["experiment_name"], "vocalgen.evaluated_checkpoint": str(checkpoint.resolve())}
    if trained_run:
        tags["mlflow.parentRunId"] = trained_run
    run = client.create_run(experiment_id, run_name=f"evaluate {config.get('run_name', '')}".strip(), tags=tags)
    run_id = run.info.run_id
    for name, value in {**params, "split": split}.items():
        client.log_param(run_id, name, str(value))
    for name, value in metrics.items():
        client.log_metric(run_id, f"eval/{name}", value)
    for name, text in (texts or {}).items():
        client.log_text(run_id, text, name)
    client.set_terminated(run_id, "FINISHED")
    return run_id


def generation_metrics(module: VocalGenModule, config: dict[str, Any], datamodule: Any, split: str,
                       mlflow_dir: str | Path, embedder: str | None, conditions: list[str] | None,
                       sampling: dict[str, Any], baselines: bool, device: str) -> dict[str, float]:
    """Fréchet distance, condition adherence and CLAP score of clips generated (with `sampling`, the
    checkpoint's merged with the overrides) for the conditions of `split` (read from `conditions`,
    default the checkpoint's `evaluate_conditions`), in the CLAP space of `embedder` (default the
    checkpoint's `clap_checkpoint`)."""
    embedder = embedder or config.get("clap_checkpoint")
    if not embedder:
        raise ConfigError("evaluating a generator needs a CLAP to embed its audio: give embedder=<clap checkpoint "
                          "path or MLflow run id>.")
    conditions = list(conditions or config.get("evaluate_conditions") or [])
    if not conditions:
        raise ConfigError("give conditions=[field, …]: the batch fields the generator is conditioned on here "
                          "(e.g. [caption] for text, [imitation] for QVIM-LDM).")
    loader = datamodule.loader(split, shuffle=False)
    clap = ClapEmbedder(stage_checkpoint(embedder, mlflow_dir), seconds=1.0, device=device)
    references = [pair.reference for pair in loader.dataset.pairs]
    return evaluate_generation(module, loader, references, clap, conditions, sampling, loader.batch_size, device,
                               baselines)


def evaluate(checkpoint: str, mlflow_dir: str | Path, data: DictConfig | None = None, split: str = "test",
             which: str = "best", batch_size: int | None = None, device: str = "cpu",
             log_to_mlflow: bool = True, cache_dir: str | Path | None = None, embedder: str | None = None,
             conditions: list[str] | None = None, sampling: dict[str, Any] | None = None,
             baselines: bool = True, bpms: list[float] | None = None, guidances: list[float] | None = None,
             per_bpm: int = 4) -> dict[str, float]:
    """The checkpoint's metrics on `split` of its own data (or of `data`); logged to MLflow.
    Retrieval checkpoints (QVIM, CLAP, alignment) give their epoch-level metrics; generators give
    the generation metrics (see `generation_metrics`), or with `bpms` the tempo accuracy of loops
    generated for those tempi at each of `guidances` (see vocalgen.metrics.tempo_evaluator)."""
    path = resolve_checkpoint(checkpoint, mlflow_dir, which)
    module, config = load_module(path)
    if not module.metrics and not module.generator.sample_rate:
        raise CheckpointError(f"checkpoint {path} (experiment '{config.get('experiment_name')}') defines no "
                              "evaluation metrics (its config has an empty `metrics`) and generates no audio.")
    sampling = merge_sampling(config.get("sampling"), sampling)
    if bpms:
        for bpm in bpms:
            validate_bpm(bpm, "bpms=")
        metrics, estimates = evaluate_tempo(module.to(device), bpms, guidances or [sampling.get("guidance", 1.0)],
                                            per_bpm, sampling, device)
        if log_to_mlflow:
            log_evaluation(metrics, config, path, read_checkpoint(path)[CHECKPOINT_KEY].get("mlflow_run_id"),
                           {"bpms": list(bpms), "per_bpm": per_bpm}, "tempo", mlflow_dir,
                           {"tempo_estimates.csv": estimates})
        return metrics
    data_cfg = evaluation_data_config(config, data, str(cache_dir) if cache_dir is not None else None)
    if batch_size is not None:
        data_cfg.batch_size = batch_size
    datamodule = instantiate(data_cfg)
    datamodule.prepare_data()
    datamodule.setup("test")
    module.to(device)
    if module.metrics:
        metrics = run_metrics(module, module.metrics, datamodule.loader(split, shuffle=False), device)
    else:
        metrics = generation_metrics(module, config, datamodule, split, mlflow_dir, embedder, conditions,
                                     sampling, baselines, device)
    if log_to_mlflow:
        trained_run = read_checkpoint(path)[CHECKPOINT_KEY].get("mlflow_run_id")
        run_id = log_evaluation(metrics, config, path, trained_run,
                                {"data.root": str(data_cfg.root), "data.layout": str(data_cfg.get("layout"))},
                                split, mlflow_dir)
        log.info("logged to MLflow run %s", run_id)
    return metrics


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="evaluate")
@expected_errors_end_cleanly
def main(cfg: DictConfig) -> None:
    metrics = evaluate(cfg.checkpoint, cfg.paths.mlflow_dir, cfg.get("data"), cfg.split, cfg.which,
                       cfg.batch_size, cfg.device, cfg.log_to_mlflow, cfg.paths.cache_dir, cfg.embedder,
                       cfg.conditions, sampling_overrides(cfg), cfg.baselines, cfg.bpms, cfg.guidances, cfg.per_bpm)
    width = max(len(name) for name in metrics)
    for name, value in metrics.items():
        print(f"{name:<{width}}  {value:.4f}")


if __name__ == "__main__":
    main()
