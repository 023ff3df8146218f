"""The LightningDataModule over a VimSketch-layout folder (real, or the embedded synthetic set)."""

from pathlib import Path

import lightning as L
from torch.utils.data import DataLoader

from vocalgen.data.audiocaps import index_audiocaps
from vocalgen.data.dataset import ImitationPairDataset
from vocalgen.data.fields import FieldReader
from vocalgen.data.qvim_dev import index_qvim_dev
from vocalgen.data.splits import SplitMode, split_pairs
from vocalgen.data.synthetic import ensure_synthetic_dataset
from vocalgen.data.vimsketch import ImitationPair, index_vimsketch
from vocalgen.errors import ConfigError

LAYOUTS = {"vimsketch": index_vimsketch, "qvim_dev": index_qvim_dev, "audiocaps": index_audiocaps}


def one_pair_per_reference(pairs: list[ImitationPair]) -> list[ImitationPair]:
    """The first pair of each distinct reference (for sound-only training such as CLAP)."""
    seen: dict = {}
    for pair in pairs:
        seen.setdefault(pair.reference, pair)
    return list(seen.values())


class ImitationDataModule(L.LightningDataModule):
    """Pairs of `root` (a `layout` of LAYOUTS) split by `split`, read through `fields`
    (see vocalgen.data.fields). `unique_references` keeps one pair per reference sound.

    With `synthetic` set (the keyword arguments of ensure_synthetic_dataset), the folder is
    generated under `root` on first use. `cache_dir` caches every field on disk; `on_bad_file`
    ("raise" or "skip") decides what an unreadable file does.
    """

    def __init__(
        self,
        root: str,
        fields: dict[str, FieldReader],
        split: SplitMode = "interpolation",
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        split_seed: int = 0,
        batch_size: int = 32,
        num_workers: int = 0,
        cache_dir: str | None = None,
        on_bad_file: str = "raise",
        synthetic: dict | None = None,
        layout: str = "vimsketch",
        unique_references: bool = False,
    ) -> None:
        super().__init__()
        self.root = Path(root)
        self.fields = {name: reader for name, reader in fields.items() if reader is not None}  # null drops a field
        self.split = split
        self.fractions = (val_fraction, test_fraction)
        self.split_seed = split_seed
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.cache_dir = cache_dir
        self.on_bad_file = on_bad_file
        self.synthetic = synthetic
        if layout not in LAYOUTS:
            raise ConfigError(f"data.layout={layout!r}: choose one of {sorted(LAYOUTS)}.")
        self.layout = layout
        if unique_references and split == "interpolation":
            raise ConfigError("data.unique_references=true with data.split=interpolation would put copies of training "
                              "sounds in val/test; use data.split=extrapolation (or all, for evaluation).")
        self.unique_references = unique_references
        self.datasets: dict[str, ImitationPairDataset] = {}

    @property
    def dataset_folder(self) -> Path:
        return self.root / "Vim_Sketch_Dataset" if self.synthetic is not None else self.root

    def prepare_data(self) -> None:
        if self.synthetic is not None:
            ensure_synthetic_dataset(self.root, **self.synthetic)
        elif not self.root.is_dir():
            raise ConfigError(f"data.root={self.root} does not exist. Set data.root to your dataset folder.")

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        splits = split_pairs(LAYOUTS[self.layout](self.dataset_folder), self.split, *self.fractions, self.split_seed)
        for name, pairs in splits.items():
            if self.unique_references:
                pairs = one_pair_per_reference(pairs)
            dataset = ImitationPairDataset(pairs, self.fields, self.cache_dir)
            if self.cache_dir is not None or self.on_bad_file == "skip":
                dataset.drop_bad_files(self.on_bad_file, f"reading {name} split")
            self.datasets[name] = dataset
        if len(self.datasets["train"]) < self.batch_size:
            raise ConfigError(
                f"data.batch_size={self.batch_size} exceeds the {len(self.datasets['train'])} training pairs "
                f"of {self.dataset_folder}; lower data.batch_size."
            )

    def loader(self, split: str, shuffle: bool) -> DataLoader:
        return DataLoader(
            self.datasets[split],
            batch_size=self.batch_size,
            shuffle=shuffle,
            drop_last=shuffle,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self.loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self.loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self.loader("test", shuffle=False)
