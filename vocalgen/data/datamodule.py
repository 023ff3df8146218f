"""The LightningDataModule over a VimSketch-layout folder (real, or the embedded synthetic set)."""

from pathlib import Path

import lightning as L
from torch.utils.data import DataLoader

from vocalgen.data.dataset import ImitationPairDataset
from vocalgen.data.fields import FieldReader
from vocalgen.data.splits import SplitMode, split_pairs
from vocalgen.data.synthetic import ensure_synthetic_dataset
from vocalgen.data.vimsketch import index_vimsketch
from vocalgen.errors import ConfigError


class ImitationDataModule(L.LightningDataModule):
    """Pairs of `root` split by `split`, read through `fields` (see vocalgen.data.fields).

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
    ) -> None:
        super().__init__()
        self.root = Path(root)
        self.fields = fields
        self.split = split
        self.fractions = (val_fraction, test_fraction)
        self.split_seed = split_seed
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.cache_dir = cache_dir
        self.on_bad_file = on_bad_file
        self.synthetic = synthetic
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
        splits = split_pairs(index_vimsketch(self.dataset_folder), self.split, *self.fractions, self.split_seed)
        for name, pairs in splits.items():
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
