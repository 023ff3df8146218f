"""An audio autoencoder (EnCodec) on held-out clips: how close its reconstructions come on the experiment's
own reconstruction terms, and whether a CLAP still recognises each reconstruction as its original."""

import torch
from tqdm import tqdm

from vocalgen.errors import ConfigError
from vocalgen.evaluation.job import (
    Evaluation,
    EvaluationJob,
    EvaluationResult,
    judged_generator,
    reconstruction_terms,
    weighted_distances,
)
from vocalgen.generators.encodec_autoencoder import EncodecAutoencoder
from vocalgen.metrics.clap_embedder import ClapEmbedder
from vocalgen.metrics.ranking import mean_reciprocal_rank, ranks_of_targets, top_k_accuracy
from vocalgen.stages import stage_checkpoint


def recognition_metrics(reconstructed: torch.Tensor, original: torch.Tensor) -> dict[str, float]:
    """CLAP embeddings [N, D] (unit norm) of N reconstructions and of their N originals, row i of each the same
    clip → `clap_mrr` / `clap_top1`: each reconstruction retrieving its original among the N originals by
    cosine; `clap_cosine_own` / `clap_cosine_other`: mean cosine to its original / to the other originals;
    `chance_mrr`: the MRR of a random ranking of N."""
    count = len(original)
    if count < 2:
        raise ConfigError(f"recognising reconstructions needs at least 2 clips in the split, it has {count}.")
    cosines = reconstructed @ original.T
    ranks = ranks_of_targets(cosines, torch.arange(count))
    own = cosines.diagonal()
    return {"clap_mrr": mean_reciprocal_rank(ranks), "clap_top1": top_k_accuracy(ranks, 1),
            "clap_cosine_own": float(own.mean()),
            "clap_cosine_other": float((cosines.sum() - own.sum()) / (count * (count - 1))),
            "chance_mrr": float((1.0 / torch.arange(1, count + 1, dtype=torch.float64)).mean())}


class AutoencodingEvaluation(Evaluation):
    """Every clip [B, 1, N] of the split through the autoencoder (encoder → latents → decoder, whole clips):
    the run's reconstruction terms averaged over clips (metric `<term>`), and with a CLAP (`embedder`: a
    checkpoint path or MLflow run id) the recognition metrics of `recognition_metrics` over the split, each clip
    cut or zero-padded to the CLAP's own input length."""

    def __init__(self, embedder: str | None = None) -> None:
        self.embedder = embedder

    def run(self, job: EvaluationJob) -> EvaluationResult:
        generator = judged_generator(job, EncodecAutoencoder, "autoencoding judges an EnCodec autoencoder")
        terms = reconstruction_terms(job)
        loader = job.datamodule().loader(job.split, shuffle=False)
        clap = None
        if self.embedder:
            clap = ClapEmbedder(stage_checkpoint(self.embedder, job.mlflow_dir), None, job.device)
        sums = dict.fromkeys(terms, 0.0)
        embedded: dict[str, list[torch.Tensor]] = {"reconstructed": [], "original": []}
        with torch.no_grad():
            for batch in tqdm(loader, desc=f"reconstructing the {job.split} split", unit="batch"):
                audio = batch[generator.audio_field].to(job.device)
                reconstructed = generator.generate(audio)
                for name, distance in weighted_distances(terms, reconstructed, audio).items():
                    sums[name] += distance
                if clap is not None:
                    embedded["reconstructed"].append(clap.embed_audio(reconstructed.cpu(), generator.sample_rate))
                    embedded["original"].append(clap.embed_audio(audio.cpu(), generator.sample_rate))
        clips = len(loader.dataset)
        metrics = {name: total / clips for name, total in sums.items()}
        if clap is not None:
            metrics.update(recognition_metrics(torch.cat(embedded["reconstructed"]), torch.cat(embedded["original"])))
        return EvaluationResult(metrics, {"clips": clips, "embedder": self.embedder,
                                          "clap_seconds": clap.samples / clap.sample_rate if clap else None})
