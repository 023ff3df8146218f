"""Lightning's ModelCheckpoint that also tells the MLflow run where its checkpoint to hand on is, as soon as
it changes: a run that crashes or is stopped still names its best checkpoint (the pipeline, `which=best` and
`vocalgen.evaluate` read the tags)."""

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

from vocalgen.tracking import log_best_checkpoint, mlflow_loggers


class TrackedModelCheckpoint(ModelCheckpoint):
    """ModelCheckpoint (same arguments) whose checkpoint to hand on (the best by `monitor`; the last
    while there is none, e.g. before the first validation) and its score are MLflow run tags
    (vocalgen.best_checkpoint, vocalgen.monitor, vocalgen.best_score), updated after every save."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tagged: tuple[str, float | None] | None = None

    def tag_run(self, trainer: L.Trainer) -> None:
        """Write the tags when what is handed on changed (rank zero, MLflow loggers only)."""
        path, score = handed_on(self)
        if not path or (path, score) == self.tagged or not trainer.is_global_zero:
            return
        for logger in mlflow_loggers(trainer):
            log_best_checkpoint(logger, path, score, self.monitor)
        self.tagged = (path, score)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        self.tag_run(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        self.tag_run(trainer)


def handed_on(checkpoint: ModelCheckpoint) -> tuple[str | None, float | None]:
    """The checkpoint a run hands on (its best by the monitored metric; its last while it has none, e.g.
    debug=limit with check_val_every_n_epoch > epochs) and the metric's value there (None for a last one)."""
    if checkpoint.best_model_path:
        score = checkpoint.best_model_score
        return checkpoint.best_model_path, None if score is None else float(score)
    return checkpoint.last_model_path or None, None
