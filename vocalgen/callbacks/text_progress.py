"""Training progress as plain log lines, for runs whose output goes to a file (nohup, SLURM, a pipeline's
stage log) where a progress bar draws nothing useful."""

import logging
import sys
import time
from typing import Any

import lightning as L
import torch

from vocalgen.errors import ConfigError

log = logging.getLogger("vocalgen.progress")


class TextProgress(L.Callback):
    """One log line at the end of every training epoch (epoch, step, the epoch's losses and validation
    metrics, its wall time and optimiser steps per second) and, on epochs longer than `every_n_steps`
    batches, one every `every_n_steps` batches with the latest step losses. `when`: "no_tty" (default) logs only
    when stdout is not a terminal (the progress bar serves a terminal, and is switched off without one),
    "always" or "never"."""

    def __init__(self, every_n_steps: int = 100, when: str = "no_tty") -> None:
        if when not in ("no_tty", "always", "never"):
            raise ConfigError(f"callbacks.text_progress.when={when!r}: choose no_tty, always or never.")
        self.every_n_steps = every_n_steps
        self.active = when == "always" or (when == "no_tty" and not sys.stdout.isatty())
        self.epoch_started = 0.0
        self.epoch_first_step = 0

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        """Without a terminal the progress bar would fill the log with carriage returns: these lines replace it."""
        if self.active and not sys.stdout.isatty() and trainer.progress_bar_callback is not None:
            trainer.progress_bar_callback.disable()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.epoch_started = time.perf_counter()
        self.epoch_first_step = trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        batches = trainer.num_training_batches
        if not self.active or not self.every_n_steps or not batches or batches <= self.every_n_steps:
            return
        if (batch_idx + 1) % self.every_n_steps == 0:
            losses = metrics_text(trainer.callback_metrics, ("train/",), suffix="_step")
            log.info("epoch %d/%d · batch %d/%d · step %d%s", trainer.current_epoch + 1, trainer.max_epochs,
                     batch_idx + 1, batches, trainer.global_step, losses)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.active:
            return
        seconds = time.perf_counter() - self.epoch_started
        steps = trainer.global_step - self.epoch_first_step
        metrics = metrics_text(trainer.callback_metrics, ("train/", "val/"))
        log.info("epoch %d/%d · step %d%s · %.1f s (%.2f steps/s)", trainer.current_epoch + 1, trainer.max_epochs,
                 trainer.global_step, metrics, seconds, steps / max(seconds, 1e-9))


def metrics_text(metrics: dict[str, Any], prefixes: tuple[str, ...], suffix: str = "") -> str:
    """" · name value · …" of the scalar metrics whose names start with one of `prefixes`, sorted by name:
    with `suffix` (e.g. "_step") those ending with it, shown without it; else those without Lightning's
    "_step" / "_epoch" copies."""
    shown = []
    for name in sorted(metrics):
        value = metrics[name]
        wanted = name.endswith(suffix) if suffix else not name.endswith(("_step", "_epoch"))
        if not name.startswith(prefixes) or not wanted:
            continue
        if isinstance(value, torch.Tensor) and value.numel() != 1:
            continue
        label = name[: -len(suffix)] if suffix else name
        shown.append(f"{label} {float(value):.4g}")
    return "".join(f" · {item}" for item in shown)
