"""A disk cache of per-file tensors (features, resampled targets), safe against interruption."""

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import torch


class TensorCache:
    """Stores one tensor per (file, transform fingerprint) under `directory`.

    The key covers the file's path, size and modification time, so an edited file is recomputed.
    Writes go to a temporary file that is renamed into place: an interrupted run never leaves a
    truncated entry.
    """

    def __init__(self, directory: str | Path, fingerprint: str) -> None:
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.directory.mkdir(parents=True, exist_ok=True)

    def entry(self, source: Path) -> Path:
        stat = source.stat()
        identity = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{self.fingerprint}"
        return self.directory / f"{hashlib.sha1(identity.encode()).hexdigest()}.pt"

    def get(self, source: Path, compute: Callable[[Path], torch.Tensor]) -> torch.Tensor:
        """The cached tensor for `source`, computed and stored on first use."""
        entry = self.entry(source)
        if entry.is_file():
            return torch.load(entry, weights_only=True)
        value = compute(source)
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
        torch.save(value.contiguous(), partial)
        os.replace(partial, entry)
        return value
