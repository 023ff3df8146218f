"""Does a condition → target generator (QVAE: imitation → sound) make its own target, or only the average
sound? Its output's log-mel distance to the target beside two answers that need no model: the mean log-mel of
the training targets, and the target of another item of the split."""

import torch
from tqdm import tqdm

from vocalgen.errors import ConfigError
from vocalgen.evaluation.job import Evaluation, EvaluationJob, EvaluationResult
from vocalgen.losses.spectral import MultiResolutionMelLoss

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
    `margin_over_<baseline>` = 1 − generated / baseline (0.2: 20 % closer than the baseline)."""

    def __init__(self, term: str = "mel", seed: int = 0) -> None:
        self.term = term
        self.seed = seed

    def run(self, job: EvaluationJob) -> EvaluationResult:
        generator = job.module.generator
        mel = dict(job.module.loss.terms.items()).get(self.term)  # an nn.ModuleDict has no .get
        if not isinstance(mel, MultiResolutionMelLoss) or not hasattr(generator, "target_field"):
            raise ConfigError(f"evaluators: target_baselines needs a generator with a target_field and a "
                              f"multi-resolution mel loss term named {self.term!r} (term=…); this run has "
                              f"{type(generator).__name__} and terms {sorted(job.module.loss.terms)}.")
        data = job.datamodule()
        template = self.mean_log_mels(data.loader("train", shuffle=False), generator.target_field, mel, job.device)
        generated, targets = [], []
        with torch.no_grad():
            for batch in tqdm(data.loader(job.split, shuffle=False), desc=f"generating the {job.split} split",
                              unit="batch"):
                batch = job.module.transfer_batch_to_device(batch, job.module.device, 0)
                generated.append([m.cpu() for m in mel.log_mels(job.module.generate(batch, **job.sampling))])
                targets.append([m.cpu() for m in mel.log_mels(batch[generator.target_field])])
        generated = [torch.cat(parts) for parts in zip(*generated)]  # per resolution [items, 1, n_mels, frames]
        targets = [torch.cat(parts) for parts in zip(*targets)]
        partner = other_item(len(targets[0]), self.seed)
        answers = {"generated": generated, "mean_target": [t.expand_as(x) for t, x in zip(template, targets)],
                   "other_target": [x[partner] for x in targets]}
        metrics = {f"{name}/log_mel_l1": float(torch.stack([(a - x).abs().mean() for a, x in zip(answer, targets)])
                                               .mean()) for name, answer in answers.items()}
        for baseline in BASELINES:
            metrics[f"margin_over_{baseline}"] = 1 - metrics["generated/log_mel_l1"] / metrics[f"{baseline}/log_mel_l1"]
        return EvaluationResult(metrics, {"term": self.term, "seed": self.seed, "items": len(partner)})

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
