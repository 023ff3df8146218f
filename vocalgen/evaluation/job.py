"""An evaluation an experiment lists under `evaluators`, and what it is handed and gives back."""

import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf
from tqdm import tqdm

from vocalgen.errors import ConfigError
from vocalgen.losses.reconstruction import ReconstructionTerm
from vocalgen.module import VocalGenModule
from vocalgen.stages import recorded_kind

GeneratorKind = TypeVar("GeneratorKind", bound=torch.nn.Module)


@dataclass
class EvaluationJob:
    """A trained module and where to evaluate it: `datamodule()` builds the data of `data_config`
    (prepared, set up for testing) the first time an evaluation asks for it; `sampling` is the
    checkpoint's merged with the command's."""

    module: VocalGenModule
    config: dict[str, Any]
    split: str
    device: str
    sampling: dict[str, Any]
    mlflow_dir: Path
    data_config: Any
    built_data: Any = None

    def datamodule(self) -> Any:
        if self.built_data is None:
            self.built_data = instantiate(self.data_config)
            self.built_data.prepare_data()
            self.built_data.setup("test")
        return self.built_data


@dataclass
class EvaluationResult:
    """Metrics (logged as eval/<name>), the parameters that shaped them, text artifacts {file: text} and binary
    ones {file: bytes} (e.g. a PNG)."""

    metrics: dict[str, float]
    params: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


def judged_generator(job: EvaluationJob, kind: type[GeneratorKind], judges: str) -> GeneratorKind:
    """The job's generator when it is a `kind`; else a ConfigError saying what the evaluation `judges`
    (e.g. "vocoding judges a mel vocoder") and what the checkpoint holds."""
    generator = job.module.generator
    if not isinstance(generator, kind):
        raise ConfigError(f"evaluators: {judges}; this checkpoint's generator is a {type(generator).__name__}.")
    return generator


def reconstruction_terms(job: EvaluationJob) -> dict[str, ReconstructionTerm]:
    """The terms of the run's loss that compare a prediction with its target (e.g. `mel`, `stft`, `l1`)."""
    return {name: term for name, term in job.module.loss.terms.items() if isinstance(term, ReconstructionTerm)}


def weighted_distances(terms: dict[str, ReconstructionTerm], prediction: torch.Tensor,
                       target: torch.Tensor) -> dict[str, float]:
    """Each term's distance between prediction and target [B, 1, N] times B: summed over batches and divided
    by the clips, a mean over clips (exactly so for terms that are batch means)."""
    return {name: float(term.distance(prediction, target)) * len(target) for name, term in terms.items()}


class Evaluation(ABC):
    """One kind of evaluation (retrieval ranking, generation quality, tempo control, …), built from
    an entry of the experiment's `evaluators`; the command line's non-null options that are
    parameters of its constructor override the entry's values."""

    @abstractmethod
    def run(self, job: EvaluationJob) -> EvaluationResult: ...


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


def recorded_evaluators(config: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint config's `evaluators`. Checkpoints saved before experiments listed them: autoencoding
    for an EnCodec stage; a retrieval evaluation when the config has epoch-level `metrics`; tempo control when
    its data has a `beat_phase` field (the α-blending loop models), with generation quality too when it lists
    `evaluate_conditions`; else generation quality from its `evaluate_conditions`."""
    if recorded_kind(config) == "encodec" and not config.get("evaluators"):
        return {"autoencoding": {"_target_": "vocalgen.evaluation.autoencoding.AutoencodingEvaluation"}}
    if "evaluators" in config:
        return dict(config["evaluators"] or {})
    if config.get("metrics"):
        return {"retrieval": {"_target_": "vocalgen.evaluation.retrieval.RetrievalEvaluation"}}
    generation = {"generation": {"_target_": "vocalgen.evaluation.generation.GenerationEvaluation",
                                 "conditions": config.get("evaluate_conditions")}}
    if ((config.get("data") or {}).get("fields") or {}).get("beat_phase"):
        tempo = {"tempo": {"_target_": "vocalgen.evaluation.tempo.TempoEvaluation"}}
        return {**tempo, **generation} if config.get("evaluate_conditions") else tempo
    return generation


def build_evaluations(config: dict[str, Any], selected: list[str] | None,
                      options: dict[str, Any]) -> dict[str, Evaluation]:
    """The evaluations of the checkpoint's config (only `selected` ones when given), each built with
    the `options` that are parameters of its class. ConfigError naming an unknown selection."""
    listed = {name: spec for name, spec in recorded_evaluators(config).items() if spec}
    unknown = sorted(set(selected or ()) - set(listed))
    if unknown:
        raise ConfigError(f"evaluators={unknown}: this checkpoint's experiment lists {sorted(listed)} "
                          "(its `evaluators` config).")
    built = {}
    for name, spec in listed.items():
        if selected and name not in selected:
            continue
        spec = OmegaConf.to_container(spec) if OmegaConf.is_config(spec) else dict(spec)
        evaluation = get_class(spec.pop("_target_"))
        parameters = inspect.signature(evaluation).parameters
        given = {key: value for key, value in options.items() if value is not None and key in parameters}
        built[name] = evaluation(**{**spec, **given})  # called directly: its ConfigErrors reach the user as they are
    return built
