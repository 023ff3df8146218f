"""Tempo control of a loop generator: loops generated for requested tempi, their tempo estimated."""

from collections.abc import Sequence

from vocalgen.data.beats import validate_bpm
from vocalgen.evaluation.job import Evaluation, EvaluationJob, EvaluationResult
from vocalgen.metrics.tempo import tempo_estimator
from vocalgen.metrics.tempo_evaluator import evaluate_tempo


class TempoEvaluation(Evaluation):
    """`per_bpm` loops for each of `bpms` at each of `guidances` (default: the run's sampling
    guidance), scored by Acc1 / Acc2 of their tempo as `estimator` ("librosa", or "madmom": an optional
    extra with non-commercial models) estimates it (see metrics.tempo_evaluator); the estimates go to
    MLflow as tempo_estimates.csv. Needs no data set."""

    def __init__(self, bpms: Sequence[float] = (80, 100, 120, 140, 160), guidances: Sequence[float] | None = None,
                 per_bpm: int = 4, estimator: str = "librosa") -> None:
        self.bpms = [validate_bpm(bpm, "bpms=") for bpm in bpms]
        self.guidances = list(guidances) if guidances is not None else None
        self.per_bpm = per_bpm
        self.estimator = estimator
        self.estimate = tempo_estimator(estimator)

    def run(self, job: EvaluationJob) -> EvaluationResult:
        guidances = self.guidances or [job.sampling.get("guidance", 1.0)]
        metrics, estimates = evaluate_tempo(job.module, self.bpms, guidances, self.per_bpm,
                                            job.sampling, job.device, estimate=self.estimate)
        return EvaluationResult(metrics, {"bpms": self.bpms, "per_bpm": self.per_bpm, "estimator": self.estimator},
                                {"tempo_estimates.csv": estimates})
