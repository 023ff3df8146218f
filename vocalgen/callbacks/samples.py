"""Writes input / target / generated audio and spectrogram PNGs each validation epoch."""

from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import default_collate

from vocalgen.callbacks.spectrogram_plot import save_spectrograms
from vocalgen.data.audio_io import read_audio, write_audio


class AudioSampleLogger(L.Callback):
    """For the first `n_examples` validation pairs: `<i>_imitation.wav`, `<i>_target.wav`,
    `<i>_generated.wav` and `<i>.png` under `<output_dir>/epoch_<e>/`, also logged to MLflow
    as artifacts under `samples/epoch_<e>/`, and the RMS of the generated clips as the metric
    `val/generated_rms` (a generator collapsing to silence shows as a fall towards 0).
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
        if trainer.sanity_checking or trainer.fast_dev_run or (epoch + 1) % self.every_n_epochs:
            return
        dataset = trainer.datamodule.datasets["val"]
        count = min(self.n_examples, len(dataset))
        batch = pl_module.transfer_batch_to_device(
            default_collate([dataset[i] for i in range(count)]), pl_module.device, 0
        )
        generator = pl_module.generator
        generated = pl_module.generate(batch, **self.sampling)
        rms = generated.float().pow(2).mean(dim=tuple(range(1, generated.dim()))).sqrt().mean()
        folder = self.output_dir / f"epoch_{epoch:03d}"
        rate = generator.sample_rate
        for i in range(count):
            clips = {
                "imitation": read_audio(dataset.pairs[i].imitation, rate),
                "target": batch[generator.target_field][i].cpu(),
                "generated": generated[i].cpu(),
            }
            for name, audio in clips.items():
                write_audio(folder / f"{i}_{name}.wav", audio, rate)
            save_spectrograms(folder / f"{i}.png", clips, rate)
        if isinstance(trainer.logger, MLFlowLogger):
            trainer.logger.log_metrics({"val/generated_rms": float(rms)}, step=trainer.global_step)
            trainer.logger.experiment.log_artifacts(trainer.logger.run_id, str(folder), f"samples/{folder.name}")
