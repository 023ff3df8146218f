"""MLflow's system metrics (CPU and memory use, disk, network; NVIDIA GPUs' use and memory when
`nvidia-ml-py` is installed) logged on the training run while it fits, under "system/…"."""

import lightning as L

from vocalgen.tracking import mlflow_loggers, store_uri


class SystemMetrics(L.Callback):
    """Starts MLflow's SystemMetricsMonitor on the run of the trainer's MLflow logger (its store in
    `mlflow_dir`) when fitting starts (rank zero only; nothing without an MLflow logger), sampling every
    `every_seconds`, and stops it when fitting ends or fails. A resumed run continues its earlier series.

    MLflow's monitor drops the samples of its last, unfinished interval when it is stopped, so a fit shorter
    than `every_seconds` would log none: what was sampled since the last logged point is logged at the stop."""

    def __init__(self, mlflow_dir: str, every_seconds: float = 10.0) -> None:
        self.mlflow_dir = mlflow_dir
        self.every_seconds = every_seconds
        self.monitor = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

        loggers = mlflow_loggers(trainer)
        if not loggers or not trainer.is_global_zero or self.monitor is not None:
            return
        self.monitor = SystemMetricsMonitor(loggers[0].run_id, sampling_interval=self.every_seconds,
                                            resume_logging=True, tracking_uri=store_uri(self.mlflow_dir))
        self.monitor.start()

    def stop(self) -> None:
        """Stops the monitor and logs the samples of its unfinished interval (one more point in each series)."""
        if self.monitor is None:
            return
        monitor, self.monitor = self.monitor, None
        monitor.finish()
        if unlogged := monitor.aggregate_metrics():
            monitor.publish_metrics(unlogged)
            monitor.mlflow_logger.flush()

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.stop()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self.stop()
