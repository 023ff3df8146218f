"""Retrieval ranking: the module's epoch-level metrics (MRR, NDCG, top-k, recall@k) over a split."""

from collections.abc import Sequence
from typing import Any

import torch
from tqdm import tqdm

from vocalgen.errors import CheckpointError
from vocalgen.evaluation.job import Evaluation, EvaluationJob, EvaluationResult


def split_metrics(job: EvaluationJob, evaluators: Sequence[Any]) -> dict[str, float]:
    """Every batch of the job's split through the module into epoch-level `evaluators` (reset first, each
    with update(outputs, batch) and compute()); their metrics."""
    for evaluator in evaluators:
        evaluator.reset()
    with torch.no_grad():
        for batch in tqdm(job.datamodule().loader(job.split, shuffle=False), desc="evaluating", unit="batch"):
            batch = job.module.transfer_batch_to_device(batch, job.module.device, 0)
            outputs = job.module(batch)
            for evaluator in evaluators:
                evaluator.update(outputs, batch)
    return {name: value for evaluator in evaluators for name, value in evaluator.compute().items()}


class RetrievalEvaluation(Evaluation):
    """Every batch of the split through the module into its `metrics` evaluators; their results."""

    def run(self, job: EvaluationJob) -> EvaluationResult:
        evaluators = job.module.metrics
        if not evaluators:
            raise CheckpointError(f"experiment '{job.config.get('experiment_name')}' lists a retrieval evaluation "
                                  "but its config has no epoch-level `metrics` to compute.")
        return EvaluationResult(split_metrics(job, evaluators))
