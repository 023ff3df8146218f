"""Class separability: whether a module's embeddings of a split still tell the items' classes apart."""

from vocalgen.evaluation.job import Evaluation, EvaluationJob, EvaluationResult, split_metrics
from vocalgen.metrics.class_separability import ClassSeparabilityEvaluator


class ClassSeparabilityEvaluation(Evaluation):
    """The split's outputs[`embedding`] [N, …] against batch["label"]: `<embedding>_class_share` (the
    between-class share of their variance) and `<embedding>_centroid_accuracy` (leave-one-out nearest
    class centroid), e.g. whether CLAP2Diffusion's audio tokens keep the sound classes apart."""

    def __init__(self, embedding: str = "query") -> None:
        self.embedding = embedding

    def run(self, job: EvaluationJob) -> EvaluationResult:
        evaluator = ClassSeparabilityEvaluator(self.embedding, name=f"{self.embedding}_")
        return EvaluationResult(split_metrics(job, [evaluator]), params={"separability_embedding": self.embedding})
