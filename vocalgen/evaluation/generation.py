"""Generation quality of an audio generator: Fréchet distance, condition adherence and CLAP score,
against unconditional and shuffled-condition baselines."""

from collections.abc import Sequence

from vocalgen.errors import ConfigError
from vocalgen.evaluation.job import Evaluation, EvaluationJob, EvaluationResult
from vocalgen.metrics.clap_embedder import ClapEmbedder
from vocalgen.metrics.generation_evaluator import evaluate_generation
from vocalgen.stages import stage_checkpoint


class GenerationEvaluation(Evaluation):
    """Clips generated for the conditions of the split (read from the batch fields `conditions`, e.g.
    [caption] for text → audio), scored in the CLAP space of `embedder` (a CLAP checkpoint path or
    MLflow run id; default the run's `clap_checkpoint`); with `baselines` also unconditional
    (guidance 0) and shuffled-condition generation."""

    def __init__(self, conditions: Sequence[str] | None = None, embedder: str | None = None,
                 baselines: bool = True) -> None:
        self.conditions = list(conditions or [])
        self.embedder = embedder
        self.baselines = baselines

    def run(self, job: EvaluationJob) -> EvaluationResult:
        embedder = self.embedder or job.config.get("clap_checkpoint")
        if not embedder:
            raise ConfigError("evaluating a generator needs a CLAP to embed its audio: give embedder=<clap checkpoint "
                              "path or MLflow run id>.")
        if not self.conditions:
            raise ConfigError("give conditions=[field, …]: the batch fields the generator is conditioned on here "
                              "(e.g. [caption] for text, [imitation] for QVIM-LDM).")
        loader = job.datamodule().loader(job.split, shuffle=False)
        # the clip length is set by evaluate_generation: the generated clips' own length, references cut to it
        clap = ClapEmbedder(stage_checkpoint(embedder, job.mlflow_dir), seconds=None, device=job.device)
        references = [pair.reference for pair in loader.dataset.pairs]
        metrics = evaluate_generation(job.module, loader, references, clap, self.conditions, job.sampling,
                                      loader.batch_size, job.device, self.baselines)
        return EvaluationResult(metrics, {"conditions": self.conditions, "baselines": self.baselines,
                                          "clap_seconds": clap.samples / clap.sample_rate})
