"""`python -m vocalgen.retrieve checkpoint=… query=imitation.wav sounds=folder/`: ranked sounds."""

from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from vocalgen.checkpoints import load_module, resolve_checkpoint
from vocalgen.cli import command
from vocalgen.config import register_resolvers
from vocalgen.data.audio_io import audio_files
from vocalgen.data.fields import FieldReader
from vocalgen.embedding_cache import EmbeddingCache
from vocalgen.errors import CheckpointError
from vocalgen.module import VocalGenModule

register_resolvers()
RETRIEVAL_GENERATORS = ("vocalgen.generators.retrieval_head.RetrievalHead",)


def field_reader(config: dict, field: str, checkpoint: Path) -> FieldReader:
    """The reader of data field `field` as the checkpoint was trained with."""
    fields = config["data"]["fields"]
    if field not in fields:
        raise CheckpointError(f"checkpoint {checkpoint}: its tower reads '{field}', not audio (a text-key model such "
                              "as CLAP?); vocalgen.retrieve ranks audio files by audio-to-audio towers (QVIM).")
    return instantiate(OmegaConf.create(fields[field]))


def embed_files(module: VocalGenModule, reader: FieldReader, field: str, files: list[Path], keys: bool) -> torch.Tensor:
    """Audio files → L2-normalised embeddings [N, D] by the query (encoder) or key (reference) tower."""
    batch = {field: torch.stack([reader(path) for path in files])}
    with torch.no_grad():
        return module.generator.embed_keys(batch) if keys else module.generate(batch)


def retrieve(checkpoint: str, query: Path, sounds: Path, mlflow_dir: str | Path, cache_dir: str | Path,
             which: str = "best", batch_size: int = 16) -> tuple[list[Path], list[Path], torch.Tensor, int]:
    """(queries, sounds, cosine scores [Q, S], how many sounds were embedded rather than cached)."""
    path = resolve_checkpoint(checkpoint, mlflow_dir, which)
    module, config = load_module(path, RETRIEVAL_GENERATORS, "vocalgen.retrieve")
    queries, candidates = audio_files(query, "query"), audio_files(sounds, "sounds")
    query_field, key_field = module.encoder.field, module.generator.tower.field
    query_reader = field_reader(config, query_field, path)
    key_reader = field_reader(config, key_field, path)
    cache = EmbeddingCache(cache_dir, path, sounds)
    keys, embedded = cache.embeddings(candidates, lambda chunk: embed_files(module, key_reader, key_field, chunk,
                                                                            keys=True), batch_size)
    query_embeddings = torch.cat([embed_files(module, query_reader, query_field, queries[i:i + batch_size], keys=False)
                                  for i in range(0, len(queries), batch_size)])
    return queries, candidates, query_embeddings @ keys.T, embedded


@command("retrieve")
def main(cfg: DictConfig) -> None:
    queries, sounds, scores, embedded = retrieve(cfg.checkpoint, Path(cfg.query), Path(cfg.sounds),
                                                 cfg.paths.mlflow_dir, cfg.cache_dir, cfg.which, cfg.batch_size)
    print(f"{len(sounds)} sounds ({embedded} embedded, {len(sounds) - embedded} from the cache)")
    for query, row in zip(queries, scores):
        print(f"\n{query}")
        order = row.argsort(descending=True)[: cfg.top]
        for rank, index in enumerate(order.tolist(), start=1):
            print(f"{rank:4d}  {row[index].item():+.4f}  {sounds[index]}")


if __name__ == "__main__":
    main()
