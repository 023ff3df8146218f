"""A trained mel vocoder against Griffin-Lim on the same log-mels: does training it beat the vocoder that
needs no training, on the experiment's own reconstruction terms and in a CLAP audio space?"""

import torch
import torch.nn.functional as F
from tqdm import tqdm

from vocalgen.evaluation.job import (
    Evaluation,
    EvaluationJob,
    EvaluationResult,
    judged_generator,
    reconstruction_terms,
    weighted_distances,
)
from vocalgen.generators.mel_vocoder import MelVocoder
from vocalgen.metrics.clap_embedder import ClapEmbedder
from vocalgen.pretransforms.griffin_lim import GriffinLimVocoder
from vocalgen.stages import stage_checkpoint

VOCODERS = ("vocoder", "griffin_lim")


class VocodingEvaluation(Evaluation):
    """Every clip of the split → the vocoder's log-mel [B, T, F] → audio [B, 1, T · hop] twice: through the
    trained vocoder and through `iterations` of Griffin-Lim. Each is compared with the clip by the
    reconstruction terms of the run's loss (e.g. `mel`: log-mel L1, `stft`: multi-resolution STFT distance),
    averaged over clips, and, with a CLAP (`embedder`: a checkpoint path or MLflow run id), by the cosine
    between the CLAP audio embeddings of the vocoded and the original clip. Metrics `vocoder/<term>`,
    `griffin_lim/<term>`, `…/clap_cosine`, and `<term>_gain`: Griffin-Lim's distance over the vocoder's
    (above 1: the vocoder is closer)."""

    def __init__(self, embedder: str | None = None, griffin_lim_iterations: int = 32) -> None:
        self.embedder = embedder
        self.iterations = griffin_lim_iterations

    def run(self, job: EvaluationJob) -> EvaluationResult:
        generator = judged_generator(job, MelVocoder, "vocoding judges a mel vocoder")
        terms = reconstruction_terms(job)
        griffin_lim = GriffinLimVocoder(generator.frontend, self.iterations).to(job.device)
        loader = job.datamodule().loader(job.split, shuffle=False)
        clap = None
        if self.embedder:
            seconds = loader.dataset[0][generator.audio_field].shape[-1] / generator.sample_rate
            clap = ClapEmbedder(stage_checkpoint(self.embedder, job.mlflow_dir), seconds, job.device)
        scores = [*terms, *(["clap_cosine"] if clap else [])]
        sums = {f"{vocoder}/{name}": 0.0 for vocoder in VOCODERS for name in scores}
        clips = 0
        with torch.no_grad():
            for batch in tqdm(loader, desc=f"vocoding the {job.split} split", unit="batch"):
                audio = batch[generator.audio_field].to(job.device)
                mel = generator.frontend(audio)[:, 0]
                for vocoder, vocoded in (("vocoder", generator.vocode(mel)), ("griffin_lim", griffin_lim.vocode(mel))):
                    target = audio[..., : vocoded.shape[-1]]
                    for name, distance in weighted_distances(terms, vocoded, target).items():
                        sums[f"{vocoder}/{name}"] += distance
                    if clap is not None:
                        cosine = F.cosine_similarity(clap.embed_audio(vocoded.cpu(), generator.sample_rate),
                                                     clap.embed_audio(target.cpu(), generator.sample_rate))
                        sums[f"{vocoder}/clap_cosine"] += float(cosine.sum())
                clips += len(audio)
        metrics = {name: total / clips for name, total in sums.items()}
        metrics.update({f"{name}_gain": metrics[f"griffin_lim/{name}"] / metrics[f"vocoder/{name}"] for name in terms})
        return EvaluationResult(metrics, {"griffin_lim_iterations": self.iterations, "clips": clips,
                                          "embedder": self.embedder})
