"""Pre-encoded training items (`data.cache`): pretransform latents and encoder outputs computed once
and read back every epoch, so latent-generator training skips the VAE/EnCodec and the encoder."""

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from vocalgen.data.dataset import ImitationPairDataset
from vocalgen.errors import ConfigError

LATENTS_FIELD = "latents"
ENCODED_FIELD = "encoded"
MANIFEST = "manifest.json"

Encode = Callable[[dict[str, Any]], dict[str, Any]]


def item_key(dataset: ImitationPairDataset, index: int) -> str:
    """sha1 of the pair's files, its caption (a text encoder's output is cached too; a clip may have several)
    and every field's settings: the name of its cache entry."""
    pair = dataset.pairs[index]
    fields = sorted((name, reader.fingerprint) for name, reader in dataset.fields.items())
    return hashlib.sha1(f"{pair.imitation}|{pair.reference}|{pair.caption}|{fields}".encode()).hexdigest()


def check_manifest(folder: Path, fingerprint: dict[str, str]) -> None:
    """Write `folder`'s manifest (before any entry), or ConfigError if it names other weights."""
    manifest = folder / MANIFEST
    if manifest.is_file():
        stored = json.loads(manifest.read_text(encoding="utf-8"))
        if stored != fingerprint:
            changed = ", ".join(f"{k} {stored.get(k)} → {v}" for k, v in fingerprint.items() if stored.get(k) != v)
            raise ConfigError(f"data.cache={folder} was pre-encoded by other weights ({changed}: a different "
                              "VAE/EnCodec checkpoint or encoder). Delete that folder or point data.cache elsewhere.")
        return
    folder.mkdir(parents=True, exist_ok=True)
    partial = manifest.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(fingerprint, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, manifest)


def row(values: Any, index: int) -> Any:
    """Row `index` of a tensor [B, …] or of each tensor of a dict of them."""
    if isinstance(values, dict):
        return {name: value[index].cpu().clone() for name, value in values.items()}
    return values[index].cpu().clone()


def fill_cache(dataset: ImitationPairDataset, encode: Encode, folder: Path, batch_size: int) -> None:
    """Encode every item of `dataset` that has no entry under `folder` yet (atomic writes)."""
    missing = [i for i in range(len(dataset)) if not (folder / f"{item_key(dataset, i)}.pt").is_file()]
    if not missing:
        return
    loader = DataLoader(torch.utils.data.Subset(dataset, missing), batch_size=batch_size)
    for batch in tqdm(loader, desc=f"pre-encoding into {folder}", unit="batch"):
        encoded = encode(batch)
        for j, index in enumerate(batch["index"].tolist()):
            entry = folder / f"{item_key(dataset, index)}.pt"
            partial = entry.with_suffix(f".{os.getpid()}.tmp")
            torch.save({name: row(value, j) for name, value in encoded.items()}, partial)
            os.replace(partial, entry)


class PreEncodedDataset(Dataset):
    """Items of `base` with their audio fields replaced by the stored {"latents", "encoded"}
    (plus base's metadata: caption, bpm, index, reference_id, label)."""

    def __init__(self, base: ImitationPairDataset, folder: Path) -> None:
        self.base = base
        self.folder = folder
        self.pairs = base.pairs

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> dict:
        stored = torch.load(self.folder / f"{item_key(self.base, index)}.pt", weights_only=True)
        return {**stored, **self.base.metadata(index)}


def pre_encoded(dataset: ImitationPairDataset, encode: Encode, folder: str | Path, fingerprint: dict[str, str],
                batch_size: int) -> PreEncodedDataset:
    """`dataset` pre-encoded under `folder` (filled on first use, checked against `fingerprint`)."""
    folder = Path(folder)
    check_manifest(folder, fingerprint)
    fill_cache(dataset, encode, folder, batch_size)
    return PreEncodedDataset(dataset, folder)
