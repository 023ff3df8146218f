"""Does a condition → target generator (QVAE: imitation → sound) make its own target, or only the average
sound? Its output's log-mel distance to the target beside two answers that need no model: the mean log-mel of
the training targets, and the target of another item of the split; and how much of the target's pitch it plays
(pitch recall) beside another item's target."""

import io

import numpy as np
import torch
from tqdm import tqdm

from vocalgen.callbacks.spectrogram_plot import save_spectrograms
from vocalgen.errors import ConfigError
from vocalgen.evaluation.job import Evaluation, EvaluationJob, EvaluationResult
from vocalgen.losses.spectral import MultiResolutionMelLoss
from vocalgen.metrics.pitch_recall import pitch_recall, pitch_tracks

BASELINES = ("mean_target", "other_target")


def other_item(count: int, seed: int) -> torch.Tensor:
    """[count] indices: item i is paired with another item (never itself, for count > 1), a seeded derangement
    (a random cycle through all items)."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    partner = torch.empty(count, dtype=torch.long)
    partner[order] = order.roll(-1)
    return partner


class TargetBaselinesEvaluation(Evaluation):
    """Every item of the split: the generated audio [B, 1, N] and the target (the batch's
    generator.target_field) as log-mels at the resolutions of the run's loss term `term` (a
    MultiResolutionMelLoss: [B, 1, n_mels, frames] each), and their L1 distance averaged over resolutions, as the
    loss computes it. Beside it, the same distance for two answers that need no model: `mean_target` (the mean
    log-mel over the training split's targets, one template for every item) and `other_target` (the target of
    another item of the split, a derangement seeded by `seed`). Metrics `<answer>/log_mel_l1` and
    `margin_over_<baseline>` = 1 − generated / baseline (0.2: 20 % closer than the baseline). With `pitch`,
    also `<answer>/pitch_recall` for generated and other_target (vocalgen.metrics.pitch_recall: the share of the
    target's voiced frames played within a semitone, averaged over the items whose target has any), and
    `pitched_items`; and the artifact "pitched_examples.png": the spectrograms (to `examples_max_hz`) of the target
    and the generated clip of `examples` pitched items spread evenly over the split (0: none)."""

    def __init__(self, term: str = "mel", seed: int = 0, pitch: bool = True, examples: int = 4,
                 examples_max_hz: float = 4000.0) -> None:
        self.term = term
        self.seed = seed
        self.pitch = pitch
        self.examples, self.examples_max_hz = examples, examples_max_hz

    def run(self, job: EvaluationJob) -> EvaluationResult:
        generator = job.module.generator
        mel = dict(job.module.loss.terms.items()).get(self.term)  # an nn.ModuleDict has no .get
        if self.pitch and not getattr(generator, "sample_rate", 0):
            raise ConfigError(f"evaluators: target_baselines with pitch=true needs the generator's audio sample "
                              f"rate; {type(generator).__name__} has none (set pitch=false).")
        if not isinstance(mel, MultiResolutionMelLoss) or not hasattr(generator, "target_field"):
            raise ConfigError(f"evaluators: target_baselines needs a generator with a target_field and a "
                              f"multi-resolution mel loss term named {self.term!r} (term=…); this run has "
                              f"{type(generator).__name__} and terms {sorted(job.module.loss.terms)}.")
        data = job.datamodule()
        template = self.mean_log_mels(data.loader("train", shuffle=False), generator.target_field, mel, job.device)
        generated, targets, audio = [], [], {"generated": [], "target": []}
        with torch.no_grad():
            for batch in tqdm(data.loader(job.split, shuffle=False), desc=f"generating the {job.split} split",
                              unit="batch"):
                batch = job.module.transfer_batch_to_device(batch, job.module.device, 0)
                clips = job.module.generate(batch, **job.sampling)
                generated.append([m.cpu() for m in mel.log_mels(clips)])
                targets.append([m.cpu() for m in mel.log_mels(batch[generator.target_field])])
                if self.pitch:  # the clips themselves only for their pitch tracks
                    audio["generated"].append(clips.cpu())
                    audio["target"].append(batch[generator.target_field].cpu())
        generated = [torch.cat(parts) for parts in zip(*generated)]  # per resolution [items, 1, n_mels, frames]
        targets = [torch.cat(parts) for parts in zip(*targets)]
        partner = other_item(len(targets[0]), self.seed)
        answers = {"generated": generated, "mean_target": [t.expand_as(x) for t, x in zip(template, targets)],
                   "other_target": [x[partner] for x in targets]}
        metrics = {f"{name}/log_mel_l1": float(torch.stack([(a - x).abs().mean() for a, x in zip(answer, targets)])
                                               .mean()) for name, answer in answers.items()}
        for baseline in BASELINES:
            metrics[f"margin_over_{baseline}"] = 1 - metrics["generated/log_mel_l1"] / metrics[f"{baseline}/log_mel_l1"]
        files = {}
        if self.pitch:
            clips = {name: torch.cat(parts) for name, parts in audio.items()}
            pitch_metrics, pitched = self.pitch_metrics(clips, partner, generator.sample_rate)
            metrics |= pitch_metrics
            if self.examples and pitched:
                files["pitched_examples.png"] = self.example_figure(clips, pitched, generator.sample_rate, job.split)
        return EvaluationResult(metrics, {"term": self.term, "seed": self.seed, "pitch": self.pitch,
                                          "items": len(partner)}, files=files)

    def example_figure(self, clips: dict[str, torch.Tensor], pitched: list[int], sample_rate: int,
                       split: str) -> bytes:
        """PNG bytes: target and generated spectrograms of `examples` of the `pitched` item indices of `split`,
        evenly spread."""
        chosen = [pitched[i] for i in np.linspace(0, len(pitched) - 1, min(self.examples, len(pitched))).astype(int)]
        panels = {f"{name} · {split} item {i}": clips[name][i] for i in chosen for name in ("target", "generated")}
        stream = io.BytesIO()
        save_spectrograms(stream, panels, sample_rate, self.examples_max_hz)
        return stream.getvalue()

    @staticmethod
    def pitch_metrics(audio: dict[str, torch.Tensor], partner: torch.Tensor,
                      sample_rate: int) -> tuple[dict[str, float], list[int]]:
        """{"generated", "target": [items, 1, N]} → (pitch recall of the generated clips and of another item's
        target (`partner`) over the items whose target is pitched, and their count; those items' indices)."""
        tracks = {name: pitch_tracks(clips, sample_rate) for name, clips in audio.items()}
        target = tracks["target"]
        answers = {"generated": tracks["generated"], "other_target": [target[i] for i in partner.tolist()]}
        pitched = np.array([not np.isnan(track).all() for track in target])
        recalls = {name: np.array([pitch_recall(a, t) for a, t in zip(answer, target)])
                   for name, answer in answers.items()}
        metrics = {f"{name}/pitch_recall": float(values[pitched].mean()) if pitched.any() else float("nan")
                   for name, values in recalls.items()}
        return metrics | {"pitched_items": float(pitched.sum())}, np.flatnonzero(pitched).tolist()

    @staticmethod
    def mean_log_mels(loader, field: str, mel: MultiResolutionMelLoss, device: str) -> list[torch.Tensor]:
        """The mean log-mel of `field` over the loader's items, per resolution [1, 1, n_mels, frames]."""
        sums, count = None, 0
        with torch.no_grad():
            for batch in tqdm(loader, desc="mean log-mel of the training targets", unit="batch"):
                log_mels = [m.sum(0, keepdim=True).cpu() for m in mel.log_mels(batch[field].to(device))]
                sums = log_mels if sums is None else [a + b for a, b in zip(sums, log_mels)]
                count += len(batch[field])
        return [total / count for total in sums]
