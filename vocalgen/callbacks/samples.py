"""Writes input / target / generated examples of the first validation pairs each few epochs."""

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import default_collate


class SampleLogger(L.Callback):
    """For the first `n_examples` validation pairs, every `every_n_epochs` epochs: the generator's
    output for each, beside its target and what the condition was where that is of the same kind,
    written through the generator's output kind (audio: `<i>_imitation.wav`, `<i>_target.wav`,
    `<i>_generated.wav` and a spectrogram `<i>.png`; images: `<i>_target.png`, `<i>_generated.png`,
    `<i>.png`) under `<output_dir>/epoch_<e>/`, plus `grid.png` of every generated item; all logged
    to MLflow as artifacts under `samples/epoch_<e>/`. The RMS of the generated items is logged as
    `val/generated_rms` (a generator collapsing to silence or a flat image shows as a fall towards 0).
    `sampling` holds generator.generate keyword arguments (steps, guidance, …). Nothing is written
    in a fast dev run (like Lightning's own checkpoints)."""

    def __init__(self, output_dir: str, n_examples: int = 3, every_n_epochs: int = 1,
                 sampling: dict[str, Any] | None = None) -> None:
        self.output_dir = Path(output_dir)
        self.n_examples = n_examples
        self.every_n_epochs = every_n_epochs
        self.sampling = dict(sampling or {})

    @rank_zero_only
    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        epoch = trainer.current_epoch
        output = pl_module.generator.output
        if trainer.sanity_checking or trainer.fast_dev_run or (epoch + 1) % self.every_n_epochs or output is None:
            return
        dataset = trainer.datamodule.datasets["val"]
        count = min(self.n_examples, len(dataset))
        batch = pl_module.transfer_batch_to_device(
            default_collate([dataset[i] for i in range(count)]), pl_module.device, 0
        )
        generated = pl_module.generate(batch, **self.sampling)
        folder = self.output_dir / f"epoch_{epoch:03d}"
        for i in range(count):
            items = {**output.example_inputs(dataset.pairs[i]),
                     "target": batch[pl_module.generator.target_field][i].cpu(), "generated": generated[i].cpu()}
            output.write_example(folder, i, items)
        output.overview(folder / "grid.png", {str(i): item.cpu() for i, item in enumerate(generated)})
        if isinstance(trainer.logger, MLFlowLogger):
            trainer.logger.log_metrics({"val/generated_rms": rms(generated)}, step=trainer.global_step)
            trainer.logger.experiment.log_artifacts(trainer.logger.run_id, str(folder), f"samples/{folder.name}")


def rms(generated: torch.Tensor) -> float:
    """The mean over items of each item's root mean square ([B, …] → a float)."""
    return float(generated.float().pow(2).mean(dim=tuple(range(1, generated.dim()))).sqrt().mean())
