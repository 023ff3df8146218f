"""The data a run trained on, as MLflow dataset inputs: one per split, so that runs on the same pairs can be
told from runs on other ones (the MLflow UI's "Datasets used" column)."""

import hashlib
import json
from pathlib import Path

import lightning as L

from vocalgen.data.vimsketch import ImitationPair
from vocalgen.tracking import mlflow_loggers


def pairs_digest(pairs: list[ImitationPair], folder: Path) -> str:
    """16 hex digits of SHA-256 over the pair table (imitation, reference, label, caption, bpm), in order, with
    the files' paths relative to the data `folder`: the same pairs elsewhere on disk have the same digest."""
    table = hashlib.sha256()
    for pair in pairs:
        files = [relative_to(Path(path), folder) for path in (pair.imitation, pair.reference)]
        table.update("\t".join(map(str, (*files, pair.label, pair.caption, pair.bpm))).encode())
        table.update(b"\n")
    return table.hexdigest()[:16]


def relative_to(path: Path, folder: Path) -> str:
    """`path` relative to `folder` when it lies inside it, else as given."""
    resolved = path.resolve()
    return str(resolved.relative_to(folder)) if resolved.is_relative_to(folder) else str(path)


class DatasetInputs(L.Callback):
    """When fitting starts, logs each split of the datamodule (`datasets` {split: dataset with `pairs`})
    to the run of the trainer's MLflow logger as a dataset input: named "<data folder>/<split>", its
    source the data folder, its digest pairs_digest, its row count, its context the split."""

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        from mlflow.entities import Dataset, DatasetInput, InputTag
        from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

        loggers = mlflow_loggers(trainer)
        datamodule = trainer.datamodule
        if not loggers or not trainer.is_global_zero or not hasattr(datamodule, "datasets"):
            return
        folder = Path(datamodule.dataset_folder).resolve()
        inputs = [DatasetInput(Dataset(name=f"{folder.name}/{split}", digest=pairs_digest(dataset.pairs, folder),
                                       source_type="local", source=json.dumps({"uri": folder.as_uri()}),
                                       profile=json.dumps({"num_rows": len(dataset.pairs)})),
                               tags=[InputTag(MLFLOW_DATASET_CONTEXT, split)])
                  for split, dataset in datamodule.datasets.items() if hasattr(dataset, "pairs")]
        loggers[0].experiment.log_inputs(loggers[0].run_id, datasets=inputs)
