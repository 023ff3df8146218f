"""Audio + text → image generation judged by probe classifiers trained on the real images: does the
picture show the scene its caption names (text adherence) and the element its sound makes (audio
adherence), against baselines that take the sound away or give another item's sound?"""

import csv
import io
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from vocalgen.config import merge_sampling
from vocalgen.data.fields import ImageField
from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import ConfigError
from vocalgen.evaluation.job import Evaluation, EvaluationJob, EvaluationResult
from vocalgen.interfaces import Condition
from vocalgen.metrics.frechet import frechet_distance_between
from vocalgen.metrics.generation_evaluator import derangement, generate_all, join, rows
from vocalgen.metrics.image_probe import accuracy, probe_outputs, train_probe
from vocalgen.module import VocalGenModule

# The generation runs: the item's own sound, another item's sound, the zero CLAP embedding through
# the projector, and no audio tokens at all (the text → image model with closed audio paths).
VARIANTS = ("conditioned", "shuffled_audio", "zero_audio", "text_only")
TARGETS = ("scene", "element")


class ImageAdherenceEvaluation(Evaluation):
    """Probes (vocalgen.metrics.image_probe) trained on the real training images to tell the scene
    (captions.csv column `scene_column`) and the visual element (column `element_column`; "label" is the
    pair's label) judge images generated for every item of the split, once a seed of `seeds`:

    - probe/…: the probes' accuracy on the real held-out images and the Fréchet distance (FD) in their
      feature space between the real training and held-out images (the floor of FD);
    - reconstructed/…: the same for the held-out images through the generator's autoencoder (the
      ceiling of anything drawn in its latent space);
    - conditioned/, shuffled_audio/, zero_audio/, text_only/ (VARIANTS) …: scene_accuracy (text
      adherence: the caption's scene), element_accuracy (audio adherence: the item's own sound's
      element), fd to the real held-out images; means over seeds, with `…_std` across them;
      shuffled_audio/element_accuracy_given scores against the sound it was given;
    - seconds_per_image of the conditioned run at the sampling's steps.

    `audio` names the audio condition before and after the adapter (the encoder's CLAP embedding,
    the adapter's tokens)."""

    def __init__(self, seeds: Sequence[int] = (0, 1, 2), scene_column: str = "scene", element_column: str = "label",
                 audio: str = "audio", probe_epochs: int = 40, probe_seed: int = 0) -> None:
        self.seeds = [int(seed) for seed in seeds]
        if not self.seeds:
            raise ConfigError("seeds=[]: give at least one generation seed (e.g. seeds=[0,1,2]).")
        self.columns = {"scene": scene_column, "element": element_column}
        self.audio = audio
        self.probe_epochs = probe_epochs
        self.probe_seed = probe_seed

    def run(self, job: EvaluationJob) -> EvaluationResult:
        module = job.module
        output = module.generator.output
        if output is None or not hasattr(output, "height"):
            raise ConfigError(f"experiment '{job.config.get('experiment_name')}' lists an image adherence evaluation, "
                              "but its generator does not make images.")
        data = job.datamodule()
        train_pairs, test_pairs = data.datasets["train"].pairs, data.datasets[job.split].pairs
        if len(test_pairs) < 2:
            raise ConfigError(f"the {job.split} split has {len(test_pairs)} item(s): the shuffled-audio run needs at "
                              "least 2 (each item gets another's sound).")
        train_names, test_names = self.class_names(train_pairs), self.class_names(test_pairs)
        classes = {target: sorted(set(train_names[target])) for target in TARGETS}
        truth = {target: class_indices(test_names[target], classes[target], target) for target in TARGETS}
        read = ImageField(output.height)
        train_images = torch.stack([read.from_pair(pair) for pair in tqdm(train_pairs, desc="reading images")])
        test_images = torch.stack([read.from_pair(pair) for pair in test_pairs])
        probe = train_probe(train_images, {target: class_indices(train_names[target], classes[target], target)
                                           for target in TARGETS}, classes, self.probe_epochs, seed=self.probe_seed)
        real_predictions, real_features = probe_outputs(probe, test_images)
        metrics = {f"probe/{target}_accuracy": accuracy(real_predictions[target], truth[target]) for target in TARGETS}
        metrics["probe/fd_train_vs_test"] = frechet_distance_between(probe_outputs(probe, train_images)[1],
                                                                     real_features)
        pretransform = getattr(module.generator, "pretransform", None)
        if pretransform is not None:
            restored = round_trip(pretransform, test_images, data.batch_size, job.device)
            metrics.update(prefixed("reconstructed/", judge(*probe_outputs(probe, restored), truth, real_features)))
        shuffle = derangement(len(test_pairs))
        conditions = self.conditions(module, job, shuffle)
        per_seed: dict[str, list[float]] = {}
        lines = [("seed", "variant", "id", "scene", "element", "predicted_scene", "predicted_element")]
        for seed in self.seeds:
            sampling = merge_sampling(job.sampling, {"seed": seed})
            for variant in VARIANTS:
                started = time.perf_counter()
                images = generate_all(module, conditions[variant], sampling, data.batch_size, job.device,
                                      f"seed {seed}: {variant}")
                if variant == "conditioned":
                    per_seed.setdefault("seconds_per_image", []).append((time.perf_counter() - started) / len(images))
                predictions, features = probe_outputs(probe, images)
                scores = judge(predictions, features, truth, real_features)
                if variant == "shuffled_audio":
                    scores["element_accuracy_given"] = accuracy(predictions["element"], truth["element"][shuffle])
                for name, value in scores.items():
                    per_seed.setdefault(f"{variant}/{name}", []).append(value)
                lines += [(seed, variant, pair.sound, *(test_names[t][i] for t in TARGETS),
                           *(classes[t][int(predictions[t][i])] for t in TARGETS)) for i, pair in enumerate(test_pairs)]
        for name, values in per_seed.items():
            metrics[name] = float(np.mean(values))
            if len(values) > 1:
                metrics[f"{name}_std"] = float(np.std(values))
        params = {"seeds": self.seeds, "probe_epochs": self.probe_epochs, "steps": job.sampling.get("steps"),
                  "guidance": job.sampling.get("guidance")}
        return EvaluationResult(metrics, params, {"probe_predictions.csv": as_csv(lines)})

    def class_of(self, pair: ImitationPair, target: str) -> str:
        """The pair's class for `target` (its captions.csv column; "label" is the pair's label)."""
        column = self.columns[target]
        value = pair.label if column == "label" else (pair.extra.get(column) or "").strip()
        if not value:
            raise ConfigError(f"{pair.reference}: the image adherence evaluation reads the {target} from the "
                              f"captions.csv column '{column}', which this item lacks; fill it in or set "
                              f"{target}_column= to another column.")
        return value

    def class_names(self, pairs: list[ImitationPair]) -> dict[str, list[str]]:
        """{target: each pair's class name}, read once."""
        return {target: [self.class_of(pair, target) for pair in pairs] for target in TARGETS}

    def conditions(self, module: VocalGenModule, job: EvaluationJob, shuffle: torch.Tensor) -> dict[str, Condition]:
        """{variant: the adapted conditions of every item of the split, in dataset order}; item i's
        shuffled_audio takes the audio tokens of item shuffle[i]."""
        parts: dict[str, list[Condition]] = {variant: [] for variant in VARIANTS if variant != "shuffled_audio"}
        with torch.no_grad():
            for batch in job.datamodule().loader(job.split, shuffle=False):
                batch = module.transfer_batch_to_device(batch, module.device, 0)
                encoded = module.encoder(batch)
                if self.audio not in encoded:
                    raise ConfigError(f"audio={self.audio!r}: the encoder gives conditions {sorted(encoded)}; name "
                                      "its audio condition.")
                condition = module.adapter(encoded)["condition"]
                silent = module.adapter({**encoded, self.audio: torch.zeros_like(encoded[self.audio])})["condition"]
                parts["conditioned"].append(cpu(condition))
                parts["zero_audio"].append(cpu(silent))
                parts["text_only"].append(cpu({k: v for k, v in condition.items() if k != self.audio}))
        joined = {variant: join(values) for variant, values in parts.items()}
        conditioned = joined["conditioned"]
        joined["shuffled_audio"] = {**conditioned, self.audio: rows(conditioned[self.audio], shuffle)}
        return {variant: joined[variant] for variant in VARIANTS}


def class_indices(names: list[str], classes: list[str], target: str) -> torch.Tensor:
    """Class names → indices [N] into `classes`; ConfigError for a class the training split never shows."""
    unseen = sorted(set(names) - set(classes))
    if unseen:
        raise ConfigError(f"{target} classes {unseen} appear in the evaluated split but not in the training split; "
                          "the probe cannot learn them.")
    position = {name: index for index, name in enumerate(classes)}
    return torch.tensor([position[name] for name in names])


def judge(predictions: dict[str, torch.Tensor], features: torch.Tensor, truth: dict[str, torch.Tensor],
          real_features: torch.Tensor) -> dict[str, float]:
    """The probe's predictions {target: [N]} and features [N, C] of N images → each target's accuracy
    against truth {target: [N]} and the FD of the features to real_features [M, C]."""
    scores = {f"{target}_accuracy": accuracy(predictions[target], truth[target]) for target in truth}
    scores["fd"] = frechet_distance_between(features, real_features)
    return scores


@torch.no_grad()
def round_trip(pretransform: Any, images: torch.Tensor, batch_size: int, device: str) -> torch.Tensor:
    """images [N, 3, H, W] through the generator's autoencoder, `batch_size` at a time → [N, 3, H, W] on the CPU."""
    return torch.cat([pretransform.decode(pretransform.encode(images[start:start + batch_size].to(device))).cpu()
                      for start in range(0, len(images), batch_size)])


def prefixed(prefix: str, scores: dict[str, float]) -> dict[str, float]:
    """{prefix + name: value}."""
    return {prefix + name: value for name, value in scores.items()}


def cpu(condition: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Named conditions moved to the CPU."""
    return {name: value.cpu() for name, value in condition.items()}


def as_csv(lines: list[tuple[Any, ...]]) -> str:
    """Rows → CSV text."""
    text = io.StringIO()
    csv.writer(text).writerows(lines)
    return text.getvalue()
