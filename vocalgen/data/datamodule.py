"""The LightningDataModule over a dataset folder of one of LAYOUTS (real, or an embedded synthetic set)."""

import inspect
from pathlib import Path

import lightning as L
from torch.utils.data import DataLoader

from vocalgen.data.audiocaps import index_audiocaps
from vocalgen.data.audiocaps_frames import index_audiocaps_frames
from vocalgen.data.dataset import ImitationPairDataset
from vocalgen.data.fields import Field
from vocalgen.data.loops import index_loops
from vocalgen.data.pre_encoded import Encode, pre_encoded
from vocalgen.data.qvim_dev import index_qvim_dev
from vocalgen.data.splits import SplitMode, split_pairs
from vocalgen.data.synthetic import ensure_synthetic_dataset, ensure_synthetic_loops
from vocalgen.data.synthetic.build import DATASET_DIR
from vocalgen.data.synthetic.loops import LOOPS_DIR
from vocalgen.data.synthetic.scenes import SCENES_DIR, ensure_synthetic_scenes
from vocalgen.data.vimsketch import ImitationPair, index_vimsketch
from vocalgen.errors import ConfigError

LAYOUTS = {"vimsketch": index_vimsketch, "qvim_dev": index_qvim_dev, "audiocaps": index_audiocaps,
           "loops": index_loops, "audiocaps_frames": index_audiocaps_frames}
SYNTHETIC = {"vimsketch": (ensure_synthetic_dataset, DATASET_DIR), "loops": (ensure_synthetic_loops, LOOPS_DIR),
             "audiocaps_frames": (ensure_synthetic_scenes, SCENES_DIR)}


def one_pair_per_reference(pairs: list[ImitationPair]) -> list[ImitationPair]:
    """The first pair of each distinct reference (for sound-only training such as CLAP)."""
    seen: dict = {}
    for pair in pairs:
        seen.setdefault(pair.reference, pair)
    return list(seen.values())


class ImitationDataModule(L.LightningDataModule):
    """Pairs of `root` (a `layout` of LAYOUTS) split by `split`, read through `fields`
    (see vocalgen.data.fields). `unique_references` keeps one pair per reference sound.

    With `synthetic` set (the keyword arguments of the layout's builder in SYNTHETIC:
    ensure_synthetic_dataset, ensure_synthetic_loops or ensure_synthetic_scenes), the folder is
    generated under `root` on first use. `layout_options` are keyword arguments of the layout's
    index function (e.g. {"beats": "even"} for loops). `cache_dir` caches every field on disk;
    `on_bad_file` ("raise" or "skip") decides what an unreadable (audio or image) file does. `cache`
    (a folder) holds the training items pre-encoded by the model's pretransform and encoder (see
    `use_pre_encoded`).
    """

    def __init__(
        self,
        root: str,
        fields: dict[str, Field],
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
        cache: str | None = None,
        layout_options: dict | None = None,
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
        self.layout_options = dict(layout_options or {})
        try:
            inspect.signature(LAYOUTS[layout]).bind(root, **self.layout_options)
        except TypeError as error:
            raise ConfigError(f"data.layout_options={self.layout_options} are not options of the {layout!r} layout "
                              f"({error}); see {LAYOUTS[layout].__module__}.") from None
        if synthetic is not None and layout not in SYNTHETIC:
            raise ConfigError(f"data.synthetic is set, but data.layout={layout!r} has no synthetic builder (only "
                              f"{sorted(SYNTHETIC)} do); set data.synthetic=null and data.root to a real folder.")
        if unique_references and split == "interpolation":
            raise ConfigError("data.unique_references=true with data.split=interpolation would put copies of training "
                              "sounds in val/test; use data.split=extrapolation (or all, for evaluation).")
        self.unique_references = unique_references
        self.cache = cache
        self.datasets: dict[str, ImitationPairDataset] = {}

    @property
    def dataset_folder(self) -> Path:
        return self.root / SYNTHETIC[self.layout][1] if self.synthetic is not None else self.root

    def prepare_data(self) -> None:
        if self.synthetic is not None:
            SYNTHETIC[self.layout][0](self.root, **self.synthetic)
        elif not self.root.is_dir():
            raise ConfigError(f"data.root={self.root} does not exist. Set data.root to your dataset folder.")

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        indexed = LAYOUTS[self.layout](self.dataset_folder, **self.layout_options)
        splits = split_pairs(indexed, self.split, *self.fractions, self.split_seed)
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

    def use_pre_encoded(self, encode: Encode, fingerprint: dict[str, str]) -> None:
        """Train on items pre-encoded once under `cache` by `encode` (batch → {"latents", "encoded"});
        `fingerprint` names the weights that encode (a cache made by others is refused). Validation
        and test keep reading audio (the sample callbacks need it)."""
        if isinstance(self.datasets["train"], ImitationPairDataset):
            self.datasets["train"] = pre_encoded(self.datasets["train"], encode, self.cache, fingerprint,
                                                 self.batch_size)

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
