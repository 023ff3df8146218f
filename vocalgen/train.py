"""`python -m vocalgen.train +experiment=NAME [key=value …]`: compose → instantiate → fit (→ test)."""

import logging
from pathlib import Path

import hydra
import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from vocalgen.callbacks.config_in_checkpoint import CHECKPOINT_KEY, ConfigInCheckpoint
from vocalgen.checkpoints import read_checkpoint
from vocalgen.config import CONFIG_DIR, register_resolvers
from vocalgen.module import build_module
from vocalgen.tracking import log_run_config

log = logging.getLogger(__name__)
register_resolvers()


def build_callbacks(cfg: DictConfig) -> list[L.Callback]:
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    return [*callbacks, ConfigInCheckpoint(OmegaConf.to_container(cfg, resolve=True))]


def train(cfg: DictConfig) -> float | None:
    """Train (and optionally test) the configured chain; returns `cfg.optimized_metric` (for sweeps)."""
    resume_run_id = None
    if cfg.get("ckpt_path"):
        resume_run_id = read_checkpoint(cfg.ckpt_path)[CHECKPOINT_KEY]["mlflow_run_id"]
    L.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    module = build_module(cfg)
    logger = instantiate(cfg.logger, **({"run_id": resume_run_id} if resume_run_id else {}))
    trainer: L.Trainer = instantiate(cfg.trainer, logger=logger, callbacks=build_callbacks(cfg))
    if isinstance(logger, MLFlowLogger) and rank_zero_only.rank == 0:
        log_run_config(logger, cfg, str(Path(cfg.paths.run_dir) / "checkpoints"), resumed=resume_run_id is not None)
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
        if cfg.get("test"):
            trainer.test(module, datamodule=datamodule, ckpt_path="best" if trainer.checkpoint_callback else None)
    except BaseException as error:
        if isinstance(logger, MLFlowLogger):
            # Lightning turns Ctrl-C into SystemExit after its own clean-up
            logger.finalize("KILLED" if isinstance(error, KeyboardInterrupt | SystemExit) else "failed")
        raise
    logger.finalize("success")
    metric = trainer.callback_metrics.get(cfg.optimized_metric)
    best = trainer.checkpoint_callback
    if best is not None and best.monitor == cfg.optimized_metric and best.best_model_score is not None:
        metric = best.best_model_score
    if metric is None:
        log.warning("optimized_metric=%s was not logged; nothing to return to the sweeper.", cfg.optimized_metric)
        return None
    return float(metric)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    return train(cfg)


if __name__ == "__main__":
    main()
