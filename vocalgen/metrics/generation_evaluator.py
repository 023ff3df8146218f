"""Generation metrics of a conditional generator on held-out conditions, in a CLAP space:
Fréchet distance to the held-out references, condition adherence (the rank of each generated
clip's reference among all references' embeddings) and the condition–audio CLAP score, for the
real conditions and for two baselines: unconditional (guidance 0) and shuffled conditions."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from vocalgen.config import merge_sampling
from vocalgen.interfaces import Batch, Condition
from vocalgen.metrics.clap_embedder import ClapEmbedder
from vocalgen.metrics.clap_score import paired_cosine
from vocalgen.metrics.frechet import frechet_distance_between
from vocalgen.metrics.retrieval_evaluator import retrieval_scores, unique_keys
from vocalgen.module import VocalGenModule


def join(parts: list[Condition]) -> Condition:
    """Concatenate batches of conditions (tensors [B, …] or dicts of them) along the batch."""
    if isinstance(parts[0], dict):
        return {name: torch.cat([part[name] for part in parts]) for name in parts[0]}
    return torch.cat(parts)


def rows(condition: Condition, index: torch.Tensor) -> Condition:
    """The rows `index` of a condition (tensor or dict of tensors)."""
    if isinstance(condition, dict):
        return {name: value[index] for name, value in condition.items()}
    return condition[index]


def derangement(n: int, seed: int = 0) -> torch.Tensor:
    """A permutation of range(n) with no fixed point: each item gets another item's condition."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    shuffled = torch.empty(n, dtype=torch.long)
    shuffled[order] = order.roll(1)
    return shuffled


def collect_conditions(module: VocalGenModule, batches: Iterable[Batch], fields: list[str],
                       device: str) -> tuple[Condition, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The adapted conditions of every item, read from `fields` only (e.g. the caption, not the
    target audio), with the items' indices, reference ids and class labels."""
    conditions, indices, ids, labels = [], [], [], []
    with torch.no_grad():
        for batch in batches:
            inputs = {name: batch[name].to(device) if isinstance(batch[name], torch.Tensor) else batch[name]
                      for name in fields}
            condition = module.condition(inputs)["condition"]
            conditions.append({k: v.cpu() for k, v in condition.items()} if isinstance(condition, dict)
                              else condition.cpu())
            indices.append(batch["index"])
            ids.append(batch["reference_id"])
            labels.append(batch["label"])
    return join(conditions), torch.cat(indices), torch.cat(ids), torch.cat(labels)


def generate_all(module: VocalGenModule, conditions: Condition, sampling: dict[str, Any], batch_size: int,
                 device: str, description: str) -> torch.Tensor:
    """Audio [N, 1, S] generated for every row of `conditions`, `batch_size` rows at a time. The
    noise is seeded (sampling's `seed`, default 0, plus the chunk's first row), so a run repeats
    and runs that differ only in their conditions share their noise."""
    count = len(next(iter(conditions.values()))) if isinstance(conditions, dict) else len(conditions)
    settings = {key: value for key, value in sampling.items() if key != "seed"}
    seed = sampling.get("seed") or 0
    clips = []
    for start in tqdm(range(0, count, batch_size), desc=description, unit="batch"):
        chunk = rows(conditions, torch.arange(start, min(start + batch_size, count)))
        chunk = {k: v.to(device) for k, v in chunk.items()} if isinstance(chunk, dict) else chunk.to(device)
        with torch.no_grad():
            clips.append(module.generator.generate(chunk, seed=seed + start, **settings).cpu())
    return torch.cat(clips)


def generation_scores(generated: torch.Tensor, references: torch.Tensor, reference_ids: torch.Tensor,
                      labels: torch.Tensor, conditions: Condition) -> dict[str, float]:
    """generated, references [N, D] (row i: item i's clip and its reference), the conditions [N, D]
    → {"fd", "adherence_mrr", "adherence_top1", …, "clap_score" (when the condition, or one of the
    named conditions, is a vector in the embedding's space: same width)}."""
    distinct, _ = unique_keys(references, reference_ids)
    scores = {"fd": frechet_distance_between(generated, distinct)}
    adherence = retrieval_scores(generated, references, reference_ids, labels, top_k=(1, 5))
    scores.update({f"adherence_{name}": value for name, value in adherence.items()})
    vectors = [conditions] if isinstance(conditions, torch.Tensor) else list(conditions.values())
    matching = [v for v in vectors if v.dim() == 2 and v.shape[-1] == generated.shape[-1]]
    if len(matching) == 1:
        scores["clap_score"] = paired_cosine(matching[0], generated)
    return scores


def evaluate_generation(module: VocalGenModule, loader: Any, reference_paths: list[Path], embedder: ClapEmbedder,
                        fields: list[str], sampling: dict[str, Any], batch_size: int, device: str,
                        baselines: bool = True) -> dict[str, float]:
    """Scores of clips generated for every item of `loader` (conditions read from `fields`), and
    with `baselines` the same under "unconditional/" (guidance 0) and "shuffled/" (each item given
    another item's condition). Every run is scored against each item's own reference and own
    condition, so "shuffled/clap_score" is the cosine a clip reaches with a condition it was not
    generated from. `reference_paths[i]` is item i's reference sound."""
    conditions, indices, ids, labels = collect_conditions(module, loader, fields, device)
    runs = {"": (conditions, sampling)}
    if baselines:
        runs["unconditional/"] = (conditions, merge_sampling(sampling, {"guidance": 0.0}))
        runs["shuffled/"] = (rows(conditions, derangement(len(indices))), sampling)
    rate = module.generator.sample_rate
    scores: dict[str, float] = {}
    reference_embeddings = None
    for prefix, (given, settings) in runs.items():
        audio = generate_all(module, given, settings, batch_size, device, f"generating {prefix or 'conditioned/'}")
        if reference_embeddings is None:
            embedder.samples = int(round(audio.shape[-1] / rate * embedder.sample_rate))
            reference_embeddings = embedder.embed_files([reference_paths[i] for i in indices.tolist()])
        generated = embedder.embed_audio(audio, rate)
        result = generation_scores(generated, reference_embeddings, ids, labels, conditions)
        result["rms"] = float(audio.pow(2).mean(dim=(1, 2)).sqrt().mean())
        scores.update({f"{prefix}{name}": value for name, value in result.items()})
    return scores
