"""A map-style dataset of imitation pairs whose fields are read (or fetched from cache) per item."""

import logging
from collections import Counter
from pathlib import Path

import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from vocalgen.data.feature_cache import TensorCache
from vocalgen.data.fields import Field
from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import BadDataFile

log = logging.getLogger(__name__)


class ImitationPairDataset(Dataset):
    """Items are dicts: one tensor per field (e.g. "imitation" [1, 128, T], "audio" [1, N]),
    plus "caption" (str), "bpm" (float), "index" (int), "reference_id" (int: the reference among
    this dataset's distinct references) and "label" (int: the class among its distinct classes)."""

    def __init__(self, pairs: list[ImitationPair], fields: dict[str, Field],
                 cache_dir: str | Path | None = None) -> None:
        self.pairs = pairs
        self.fields = fields
        self.caches = (
            {name: TensorCache(Path(cache_dir) / name, reader.fingerprint) for name, reader in fields.items()
             if not getattr(reader, "reads_pair", False)}  # pair readers are cheap: never cached
            if cache_dir is not None
            else {}
        )

    @property
    def pairs(self) -> list[ImitationPair]:
        return self._pairs

    @pairs.setter
    def pairs(self, pairs: list[ImitationPair]) -> None:
        self._pairs = pairs
        self.references = sorted({pair.reference for pair in pairs})
        self.reference_ids = {reference: i for i, reference in enumerate(self.references)}
        self.label_ids = {label: i for i, label in enumerate(sorted({pair.label for pair in pairs}))}

    def __len__(self) -> int:
        return len(self.pairs)

    def read_field(self, name: str, pair: ImitationPair) -> torch.Tensor:
        reader = self.fields[name]
        if getattr(reader, "reads_pair", False):
            return reader.from_pair(pair)
        path = getattr(pair, reader.source)
        cache = self.caches.get(name)
        return cache.get(path, reader) if cache is not None else reader(path)

    def metadata(self, index: int) -> dict:
        """The item's non-audio part: caption, bpm, index, reference_id, label."""
        pair = self.pairs[index]
        return dict(caption=pair.caption, bpm=torch.tensor(pair.bpm), index=index,
                    reference_id=self.reference_ids[pair.reference], label=self.label_ids[pair.label])

    def __getitem__(self, index: int) -> dict:
        pair = self.pairs[index]
        return {**{name: self.read_field(name, pair) for name in self.fields}, **self.metadata(index)}

    def drop_bad_files(self, on_bad_file: str, description: str) -> None:
        """Read every field once (filling the cache); on a bad file raise or warn and drop the pair."""
        if on_bad_file not in ("raise", "skip"):
            raise ValueError(f"data.on_bad_file={on_bad_file!r}: choose 'raise' or 'skip'.")
        kept, skipped = [], Counter()
        for pair in tqdm(self.pairs, desc=description, unit="pair", leave=False):
            try:
                for name in self.fields:
                    self.read_field(name, pair)
            except BadDataFile as error:
                if on_bad_file == "raise":
                    raise type(error)(f"{error} (or set data.on_bad_file=skip to skip such files)") from error
                log.warning("skipping a pair: %s", error)
                skipped[type(error).__name__] += 1
                continue
            kept.append(pair)
        reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))
        log.info("%s: %d pairs read, %d skipped%s", description, len(kept), sum(skipped.values()),
                 f" ({reasons})" if reasons else "")
        self.pairs = kept
