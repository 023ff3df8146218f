"""On-disk cache of per-file embeddings for one checkpoint (retrieval over a folder of sounds)."""

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm

log = logging.getLogger(__name__)
Embed = Callable[[list[Path]], torch.Tensor]


def file_stamp(path: Path) -> str:
    """What identifies a file's content cheaply: resolved path, size and modification time."""
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


class EmbeddingCache:
    """Embeddings [D] per audio file, stored in one file per (checkpoint, folder) under `directory`.

    Files whose stamp (path, size, modification time) changed, or that are new, are embedded again;
    content replaced under the same size and time (e.g. `cp -p`) is not noticed. The cache file is
    replaced atomically, so an interrupted run never leaves a corrupt cache.
    """

    def __init__(self, directory: str | Path, checkpoint: Path, folder: Path) -> None:
        key = hashlib.sha256(f"{file_stamp(checkpoint)}|{Path(folder).resolve()}".encode()).hexdigest()[:24]
        self.path = Path(directory) / f"{key}.pt"
        self.entries: dict[str, torch.Tensor] = {}
        if self.path.is_file():
            try:
                self.entries = torch.load(self.path, map_location="cpu", weights_only=True)
            except Exception as error:  # an unreadable cache is rebuilt, never fatal
                log.warning("embedding cache %s is unreadable (%s); embedding again", self.path, error)

    def embeddings(self, files: list[Path], embed: Embed, batch_size: int) -> tuple[torch.Tensor, int]:
        """(embeddings [len(files), D] in file order, how many files had to be embedded)."""
        stamps = [file_stamp(path) for path in files]
        missing = [path for path, stamp in zip(files, stamps) if stamp not in self.entries]
        for start in tqdm(range(0, len(missing), batch_size), desc="embedding sounds", unit="batch",
                          disable=not missing):
            chunk = missing[start:start + batch_size]
            for path, embedding in zip(chunk, embed(chunk)):
                self.entries[file_stamp(path)] = embedding.cpu()
        if missing:
            self.save({stamp: self.entries[stamp] for stamp in stamps})
        return torch.stack([self.entries[stamp] for stamp in stamps]), len(missing)

    def save(self, entries: dict[str, torch.Tensor]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(f".{os.getpid()}.tmp")
        torch.save(entries, partial)
        os.replace(partial, self.path)
