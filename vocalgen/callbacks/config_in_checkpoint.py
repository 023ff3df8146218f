"""Embeds the resolved config and the MLflow run id in every checkpoint."""

from typing import Any

import lightning as L
from lightning.pytorch.loggers import MLFlowLogger

CHECKPOINT_KEY = "vocalgen"


class ConfigInCheckpoint(L.Callback):
    """checkpoint["vocalgen"] = {"config": resolved config dict, "mlflow_run_id": str | None}."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        run_id = trainer.logger.run_id if isinstance(trainer.logger, MLFlowLogger) else None
        checkpoint[CHECKPOINT_KEY] = {"config": self.config, "mlflow_run_id": run_id}
