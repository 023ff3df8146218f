"""`python -m vocalgen.train +experiment=NAME [key=value …]`: compose → resolve stages → instantiate → fit (→ test)."""

import logging
import time
from pathlib import Path

import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.utilities import rank_zero_only
from lightning.pytorch.utilities.model_summary import ModelSummary
from omegaconf import DictConfig, OmegaConf

from vocalgen.callbacks.config_in_checkpoint import CHECKPOINT_KEY, ConfigInCheckpoint
from vocalgen.callbacks.tracked_checkpoint import handed_on
from vocalgen.checkpoints import read_checkpoint
from vocalgen.cli import command
from vocalgen.config import register_resolvers
from vocalgen.config_digest import config_digest
from vocalgen.errors import ConfigError
from vocalgen.hardware import cpu_summary
from vocalgen.module import build_module
from vocalgen.run_summary import RunSummary
from vocalgen.speedups import apply_speedups
from vocalgen.stages import resolve_stages
from vocalgen.tracking import log_best_checkpoint, log_run_config

log = logging.getLogger(__name__)
register_resolvers()


def build_callbacks(cfg: DictConfig) -> list[L.Callback]:
    """The configured callbacks (null entries dropped) and the one that embeds `cfg` in checkpoints."""
    callbacks = []
    for name, callback in (cfg.get("callbacks") or {}).items():
        if callback is None:
            continue
        if "_target_" not in callback:
            raise ConfigError(f"callbacks.{name} has settings but no _target_: the callback it configures is not in "
                              f"this config (callbacks={cfg.callbacks.keys()}); give callbacks.{name}._target_ or "
                              "remove the settings.")
        callbacks.append(instantiate(callback))
    return [*callbacks, ConfigInCheckpoint(OmegaConf.to_container(cfg, resolve=True))]


def tag_handed_on(trainer: L.Trainer, logger: MLFlowLogger | None) -> tuple[str | None, float | None, str | None]:
    """The checkpoint the finished run hands on, the monitored metric's value there and its name
    (callbacks.tracked_checkpoint.handed_on); tagged once more on the MLflow run of `logger` when given
    (the tracked checkpoint callback tags it while training; any ModelCheckpoint gets the final tags)."""
    best = trainer.checkpoint_callback
    if best is None:
        return None, None, None
    checkpoint, score = handed_on(best)
    if logger is not None and checkpoint:
        log_best_checkpoint(logger, checkpoint, score, best.monitor)
    return checkpoint, score, best.monitor


def train(cfg: DictConfig) -> float | None:
    """Train (and optionally test) the configured chain; returns `cfg.optimized_metric` (for sweeps).

    Earlier stages named by the config are opened here (resolve_stages), not while composing."""
    started = time.perf_counter()
    digest = config_digest(cfg)
    cfg = resolve_stages(cfg)
    resume_run_id = None
    if cfg.get("ckpt_path"):
        resume_run_id = read_checkpoint(cfg.ckpt_path)[CHECKPOINT_KEY]["mlflow_run_id"]
    L.seed_everything(cfg.seed, workers=True)
    log.info("machine: %s; trainer.precision=%s", cpu_summary(), cfg.trainer.precision)
    datamodule = instantiate(cfg.data)
    module = build_module(cfg)
    apply_speedups(module, cfg)
    logger = instantiate(cfg.logger, **({"run_id": resume_run_id} if resume_run_id else {}))
    trainer: L.Trainer = instantiate(cfg.trainer, logger=logger, callbacks=build_callbacks(cfg))
    tracked = isinstance(logger, MLFlowLogger) and rank_zero_only.rank == 0
    if tracked:
        log_run_config(logger, cfg, str(Path(cfg.paths.run_dir) / "checkpoints"), resume_run_id is not None, digest,
                       str(ModelSummary(module, max_depth=2)))
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
        if cfg.get("test"):
            trainer.test(module, datamodule=datamodule, ckpt_path="best" if trainer.checkpoint_callback else None)
    except BaseException as error:
        if isinstance(logger, MLFlowLogger):
            # Lightning turns Ctrl-C into SystemExit after its own clean-up
            logger.finalize("KILLED" if isinstance(error, KeyboardInterrupt | SystemExit) else "failed")
        raise
    checkpoint, score, monitor = tag_handed_on(trainer, logger if tracked else None)
    logger.finalize("success")
    if rank_zero_only.rank == 0:
        log.info(RunSummary(logger.run_id if isinstance(logger, MLFlowLogger) else None, cfg.experiment_name,
                            checkpoint, monitor, score, cfg.paths.run_dir, (time.perf_counter() - started) / 60,
                            getattr(module.generator, "output", None) is not None, bool(cfg.get("evaluators"))).text())
    metric = trainer.callback_metrics.get(cfg.optimized_metric)
    if monitor == cfg.optimized_metric and score is not None:
        metric = score
    if metric is None:
        log.warning("optimized_metric=%s was not logged; nothing to return to the sweeper.", cfg.optimized_metric)
        return None
    return float(metric)


@command("train")
def main(cfg: DictConfig) -> float | None:
    return train(cfg)


if __name__ == "__main__":
    main()
