"""bf16 autocast against fp32 on the `_cpu` experiments: one short training run in each precision from the same
seed and data, their loss curves side by side, and the speed of each (what `trainer=cpu` would gain or lose by
choosing bf16 on this machine).

    python -m bench.precision [--experiments qvae_cpu,iadb_bpm_cpu,…] [--steps 30] [override …]

Each run is `vocalgen.train` as a user runs it (logger csv, no validation, no samples) with trainer.max_steps and
trainer.precision set; the experiments that read earlier stages get them built untrained in a scratch folder
(bench/latent.py): the loss curve of a stage does not need its inputs to be trained to tell whether bf16 follows
fp32. Printed per experiment: the fp32 and bf16 losses (mean of the first and of the last 5 steps), the largest
gap between the two curves over the mean fp32 loss (both smoothed over 5 steps), and bf16's seconds a step over
fp32's (below 1: bf16 is faster), after `--warmup` untimed steps.
"""

import argparse
import json
import tempfile
from pathlib import Path

import lightning as L
import torch

from bench.latent import SYSTEMS, compose_experiment, untrained_stages
from bench.report import Row, format_table
from bench.run import StepTimer
from vocalgen.hardware import cpu_summary
from vocalgen.train import train

STAGED = {
    "audioldm_refined_cpu": SYSTEMS["audioldm"]["stages"],
    "iadb_bpm_cpu": SYSTEMS["iadb"]["stages"],
    "image_ldm_cpu": {"image_vae_checkpoint": "image_vae_cpu"},
}
EXPERIMENTS = ["qvae_cpu", "qvim_cpu", "clap_cpu", "mel_vae_cpu", "vocos_cpu", "encodec_cpu", "image_vae_cpu",
               *STAGED]
PRECISIONS = ("32-true", "bf16-mixed")


class LossRecord(StepTimer):
    """Writes the training loss of every step and the wall time a step after `warmup` (StepTimer) to `path`
    (JSON: {"losses": [...], "seconds_per_step": s}) when training ends."""

    def __init__(self, path: str, warmup: int = 3) -> None:
        super().__init__(warmup)
        self.path = Path(path)
        self.losses: list[float] = []

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch,
                           batch_idx: int) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self.losses.append(float(loss))

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_end(trainer, pl_module)
        timed = len(self.losses) - self.warmup
        seconds = (self.finished - self.started) / timed if timed > 0 else float("nan")
        self.path.write_text(json.dumps({"losses": self.losses, "seconds_per_step": seconds}))


def smoothed(values: list[float], width: int = 5) -> torch.Tensor:
    """The running mean of `values` over `width` steps (shorter at the start) [len(values)]."""
    series = torch.tensor(values, dtype=torch.float64)
    sums = torch.cat([torch.zeros(1, dtype=torch.float64), series.cumsum(0)])
    starts = torch.clamp(torch.arange(1, len(series) + 1) - width, min=0)
    return (sums[1:] - sums[starts]) / (torch.arange(1, len(series) + 1) - starts)


def precision_run(experiment: str, overrides: list[str], precision: str, steps: int, warmup: int,
                  scratch: Path) -> dict:
    """One short `vocalgen.train` run of `experiment` in `precision`: its recorded losses and seconds a step."""
    record = scratch / f"{experiment}-{precision}.json"
    run_dir = scratch / f"{experiment}-{precision}"
    cfg = compose_experiment(experiment, [
        *overrides, f"trainer.precision={precision}", f"+trainer.max_steps={steps}", "trainer.limit_val_batches=0",
        "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false", "logger=csv", "callbacks.samples=null",
        f"paths.run_dir={run_dir}", "+callbacks.loss_record._target_=bench.precision.LossRecord",
        f"+callbacks.loss_record.path={record}", f"+callbacks.loss_record.warmup={warmup}"])
    train(cfg)
    return json.loads(record.read_text())


def comparison_row(experiment: str, fp32: dict, bf16: dict) -> Row:
    """The side-by-side figures of the two runs of `experiment`."""
    count = min(len(fp32["losses"]), len(bf16["losses"]))
    reference, other = smoothed(fp32["losses"][:count]), smoothed(bf16["losses"][:count])
    gap = float((other - reference).abs().max() / reference.abs().mean())

    def ends(losses: list[float]) -> tuple[float, float]:
        return sum(losses[:5]) / len(losses[:5]), sum(losses[-5:]) / len(losses[-5:])

    return Row(experiment, f"{count} steps", {
        "fp32 loss, first → last 5": ends(fp32["losses"]), "bf16 loss, first → last 5": ends(bf16["losses"]),
        "largest gap / mean fp32 loss": f"{gap:.1%}",
        "bf16 / fp32 s a step": bf16["seconds_per_step"] / fp32["seconds_per_step"]})


COLUMNS = ["fp32 loss, first → last 5", "bf16 loss, first → last 5", "largest gap / mean fp32 loss",
           "bf16 / fp32 s a step"]


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", default=",".join(EXPERIMENTS), help="comma-separated `_cpu` experiments")
    parser.add_argument("--steps", type=int, default=30, help="training steps of each run")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--stage", action="append", default=[], help="EXPERIMENT:OVERRIDE for an earlier stage")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every experiment run")
    args = parser.parse_args(argv)
    rows = []
    for experiment in [name for name in args.experiments.split(",") if name]:
        with tempfile.TemporaryDirectory(prefix="vocalgen-precision-") as scratch_name:
            scratch = Path(scratch_name)
            links = untrained_stages(STAGED.get(experiment, {}), args.overrides, args.stage, scratch)
            # an experiment that pre-encodes (data.cache) does so in the scratch folder, before the first step; the
            # features of the data fields stay in the project's cache, filled once (else the first run would fill it)
            overrides = [*args.overrides, *links]
            if compose_experiment(experiment, overrides).data.get("cache"):
                overrides.append(f"data.cache={scratch}/latents")
            runs = {precision: precision_run(experiment, overrides, precision, args.steps, args.warmup, scratch)
                    for precision in PRECISIONS}
        rows.append(comparison_row(experiment, runs["32-true"], runs["bf16-mixed"]))
        print(format_table(f"{experiment} done", rows[-1:], COLUMNS), flush=True)
    print(format_table(f"bf16 autocast against fp32, {cpu_summary()}", rows, COLUMNS))
    return rows


if __name__ == "__main__":
    main()
