"""Retrieval ranking: the module's epoch-level metrics (MRR, NDCG, top-k, recall@k) over a split."""

from vocalgen.errors import CheckpointError
from vocalgen.evaluation.job import Evaluation, EvaluationJob, EvaluationResult, split_metrics


class RetrievalEvaluation(Evaluation):
    """Every batch of the split through the module into its `metrics` evaluators; their results."""

    def run(self, job: EvaluationJob) -> EvaluationResult:
        evaluators = job.module.metrics
        if not evaluators:
            raise CheckpointError(f"experiment '{job.config.get('experiment_name')}' lists a retrieval evaluation "
                                  "but its config has no epoch-level `metrics` to compute.")
        return EvaluationResult(split_metrics(job, evaluators))
