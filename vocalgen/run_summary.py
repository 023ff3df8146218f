"""What a finished training run tells its user: which run and checkpoint it made, and what to run next."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RunSummary:
    """A finished training run: its MLflow run id (None without MLflow), experiment, checkpoint (the best,
    or the last when it never validated), the monitored metric there, its run folder and wall time, and
    which tools apply to it (a generator that makes audio or images; evaluations its experiment lists)."""

    run_id: str | None
    experiment: str
    checkpoint: str | None
    monitor: str | None
    score: float | None
    run_dir: str
    minutes: float
    generates: bool
    evaluates: bool

    def text(self) -> str:
        """The summary as lines for the log: the run, its checkpoint and metric, and the next commands."""
        handle = self.run_id or self.checkpoint
        lines = [f"training finished: experiment {self.experiment}, {self.minutes:.1f} min"
                 + (f", MLflow run {self.run_id}" if self.run_id else " (no MLflow run: logger is not mlflow)")]
        if self.checkpoint:
            metric = f" ({self.monitor} {self.score:.4g})" if self.monitor and self.score is not None else ""
            lines.append(f"  checkpoint:    {self.checkpoint}{metric}")
        lines.append(f"  run directory: {self.run_dir}")
        if handle and self.generates:
            lines.append(f"  generate:      python -m vocalgen.generate checkpoint={handle} input=<sound or folder>"
                         " (text=… / bpm=… as the experiment is conditioned)")
        if handle and self.evaluates:
            lines.append(f"  evaluate:      python -m vocalgen.evaluate checkpoint={handle}")
        if self.run_id:
            lines.append("  compare runs:  make ui")
        return "\n".join(lines)
