"""VimSketch indexing and pairing, splits, the feature cache and the datamodule's bad-file policy."""

import shutil
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from vocalgen.data.feature_cache import TensorCache
from vocalgen.data.splits import split_pairs
from vocalgen.data.vimsketch import index_vimsketch
from vocalgen.errors import BadAudioFile, ConfigError


def copy_dataset(data_root: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "Vim_Sketch_Dataset"
    shutil.copytree(data_root / "Vim_Sketch_Dataset", folder)
    return folder


def test_index_pairs_by_the_naming_rule(data_root: Path) -> None:
    pairs = index_vimsketch(data_root / "Vim_Sketch_Dataset")
    assert len(pairs) == 48
    for pair in pairs:
        assert pair.imitation.name.split("_", 1)[1] == pair.reference.name.split("_", 1)[1] == pair.sound
        assert pair.caption
    assert any(" " in pair.sound for pair in pairs)
    assert any(pair.bpm > 0 for pair in pairs)


def test_imitation_without_reference_is_named(data_root: Path, tmp_path: Path) -> None:
    folder = copy_dataset(data_root, tmp_path)
    with (folder / "vocal_imitation_file_names.csv").open("a") as handle:
        handle.write("99999_999Nothing like it_01.wav\n")
    with pytest.raises(ConfigError, match="99999_999Nothing like it_01.wav"):
        index_vimsketch(folder)


def test_missing_root_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="data.root=.*nowhere"):
        index_vimsketch(tmp_path / "nowhere")


def test_extrapolation_holds_out_whole_sounds(data_root: Path) -> None:
    splits = split_pairs(index_vimsketch(data_root / "Vim_Sketch_Dataset"), "extrapolation", 0.2, 0.2, seed=1)
    sounds = {name: {p.sound for p in pairs} for name, pairs in splits.items()}
    assert sounds["val"] and sounds["test"]
    assert not sounds["train"] & sounds["val"] and not sounds["train"] & sounds["test"]
    assert sum(len(p) for p in splits.values()) == 48


def test_interpolation_holds_out_imitations_of_seen_sounds(data_root: Path) -> None:
    pairs = index_vimsketch(data_root / "Vim_Sketch_Dataset")
    splits = split_pairs(pairs, "interpolation", 0.2, 0.2, seed=1)
    train_sounds = {p.sound for p in splits["train"]}
    assert len(splits["val"]) == len(splits["test"]) == round(48 * 0.2)
    assert {p.sound for p in splits["val"] + splits["test"]} <= train_sounds
    assert split_pairs(pairs, "interpolation", 0.2, 0.2, seed=1) == splits


def test_cache_computes_once_and_tracks_edits(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("1")
    calls = []

    def compute(path: Path) -> torch.Tensor:
        calls.append(path)
        return torch.tensor([float(path.read_text())])

    cache = TensorCache(tmp_path / "cache", "v1")
    assert cache.get(source, compute).item() == 1.0
    assert cache.get(source, compute).item() == 1.0
    assert len(calls) == 1
    source.write_text("22")
    assert cache.get(source, compute).item() == 22.0
    assert TensorCache(tmp_path / "cache", "v2").get(source, compute).item() == 22.0
    assert len(calls) == 3
    assert not list((tmp_path / "cache").glob("*.tmp"))


def datamodule_on(folder: Path, tiny_cfg, *overrides: str):
    cfg = tiny_cfg("data=vimsketch", f"data.root={folder}", "data.synthetic=null", "data.val_fraction=0.25", *overrides)
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    return datamodule


def test_datamodule_batches_have_the_configured_shapes(data_root: Path, tiny_cfg) -> None:
    datamodule = datamodule_on(data_root / "Vim_Sketch_Dataset", tiny_cfg)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["imitation"].shape == (4, 1, 128, 101)
    assert batch["audio"].shape == (4, 1, 2187)
    assert len(batch["caption"]) == 4


def test_bad_file_raises_or_is_skipped(data_root: Path, tmp_path: Path, tiny_cfg,
                                       caplog: pytest.LogCaptureFixture) -> None:
    folder = copy_dataset(data_root, tmp_path)
    victim = sorted((folder / "vocal_imitations").iterdir())[0]
    victim.write_bytes(b"not audio at all")
    with pytest.raises(BadAudioFile, match=f"{victim.name}.*data.on_bad_file=skip"):
        datamodule_on(folder, tiny_cfg, f"data.cache_dir={tmp_path}/c1").setup("fit")
    datamodule = datamodule_on(folder, tiny_cfg, f"data.cache_dir={tmp_path}/c2", "data.on_bad_file=skip")
    with caplog.at_level("INFO", logger="vocalgen.data.dataset"):
        datamodule.setup("fit")
    kept = [p.imitation for d in datamodule.datasets.values() for p in d.pairs]
    assert len(kept) == 47 and victim not in kept
    summaries = [r.getMessage() for r in caplog.records if "pairs read" in r.getMessage()]
    assert len(summaries) == 3 and sum(" 1 skipped (1 BadAudioFile)" in line for line in summaries) == 1


def test_missing_data_root_is_named(tiny_cfg, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="data.root=.*absent"):
        datamodule_on(tmp_path / "absent", tiny_cfg)


def test_log_mel_cache_fingerprint_covers_every_front_end_setting() -> None:
    from vocalgen.data.features import LogMelFrontEnd
    from vocalgen.data.fields import LogMelField

    base = LogMelField("imitation", LogMelFrontEnd(), seconds=1.0).fingerprint
    assert LogMelField("imitation", LogMelFrontEnd(hop_length=160), seconds=1.0).fingerprint != base
    assert LogMelField("imitation", LogMelFrontEnd(preemphasis=0.0), seconds=1.0).fingerprint != base
    assert LogMelField("imitation", LogMelFrontEnd(), seconds=1.0).fingerprint == base
