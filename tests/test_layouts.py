"""The real VimSketch and qvim-dev layouts: names with spaces, mixed formats and rates, bad rows."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hydra.utils import instantiate

from vocalgen.data.audiocaps import index_audiocaps
from vocalgen.data.datamodule import ImitationDataModule
from vocalgen.data.qvim_dev import CSV_NAME, index_qvim_dev
from vocalgen.data.vimsketch import index_vimsketch
from vocalgen.errors import ConfigError

FORMATS = [(".wav", 16000, 2), (".flac", 44100, 1), (".ogg", 48000, 1), (".mp3", 22050, 2), (".wav", 8000, 1)]


def write_clip(path: Path, number: int) -> None:
    """A short tone in the format, rate and channel count of FORMATS[number % 5]."""
    _, rate, channels = FORMATS[number % len(FORMATS)]
    t = np.arange(int(0.6 * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * (200 + 50 * number) * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.stack([tone] * channels, axis=1) if channels > 1 else tone, rate)


def vimsketch_tree(root: Path) -> Path:
    """4 references × 2 imitations in VimSketch's layout and naming rule; the references converted to
    the formats of FORMATS (wav, flac, ogg, mp3), the imitations wav files at its rates and channel counts."""
    folder = root / "Vim_Sketch_Dataset"
    references, imitations = [], []
    for sound in range(4):
        key = f"{sound}Sounds of things_Tools_Item {sound}"
        references.append(f"{100 + sound}_{key}{FORMATS[sound % len(FORMATS)][0]}")
        write_clip(folder / "references" / references[-1], sound)
        for take in range(2):
            imitations.append(f"{sound * 10 + take:05d}_{key}.wav")
            write_clip(folder / "vocal_imitations" / imitations[-1], sound + take + 1)
    (folder / "reference_file_names.csv").write_text("".join(f"{name}\t\n" for name in references))
    (folder / "vocal_imitation_file_names.csv").write_text("".join(f"{name}\n" for name in imitations))
    return folder


def qvim_dev_tree(root: Path) -> Path:
    """3 items of 2 classes, up to 3 queries each, in the qvim-dev layout."""
    folder = root / "qvim-dev"
    rows = ["QVIM DEV set,,,,,", "Label,Class,Items,Query 1,Query 2,Query 3"]
    for item, label in enumerate(["Dog Bark", "Dog Bark", "Car horn"]):
        name = f"item {item}{FORMATS[item][0]}"
        write_clip(folder / "Items" / label / name, item)
        queries = [f"query {item}-{q}{FORMATS[(item + q + 1) % len(FORMATS)][0]}" for q in range(3 - item % 2)]
        for q, query in enumerate(queries):
            write_clip(folder / "Queries" / label / query, item + q + 1)
        rows.append(",".join([str(item), label, name, *queries, *[""] * (3 - len(queries))]))
    (folder / CSV_NAME).write_text("\n".join(rows) + "\n")
    return folder


def batches_of(cfg) -> dict:
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("test")
    return next(iter(datamodule.test_dataloader()))


def test_vimsketch_layout_reads_through_the_qvim_fields(tmp_path: Path, tiny_cfg) -> None:
    folder = vimsketch_tree(tmp_path)
    pairs = index_vimsketch(folder)
    assert len(pairs) == 8 and all(" " in pair.sound for pair in pairs)
    assert {pair.label for pair in pairs} == {f"Sounds of things_Tools_Item {i}" for i in range(4)}
    cfg = tiny_cfg("data=vimsketch", f"data.root={folder}", "data.split=all", "data.synthetic=null",
                   f"data.cache_dir={tmp_path}/cache", experiment="qvim_cpu")
    batch = batches_of(cfg)
    assert batch["imitation"].shape == batch["reference"].shape == (4, 1, 128, 101)
    assert batch["reference_id"].tolist() == [0, 0, 1, 1]


def test_qvim_dev_layout_pairs_queries_with_items(tmp_path: Path, tiny_cfg) -> None:
    folder = qvim_dev_tree(tmp_path)
    pairs = index_qvim_dev(folder)
    assert len(pairs) == 3 + 2 + 3
    assert all(pair.reference.parent.parent.name == "Items" for pair in pairs)
    assert [pair.label for pair in pairs].count("Dog Bark") == 5
    cfg = tiny_cfg("data=qvim_dev", f"data.root={folder}", "data.split=all", "data.synthetic=null", "data.batch_size=8",
                   f"data.cache_dir={tmp_path}/cache", experiment="qvim_cpu")
    batch = batches_of(cfg)
    assert batch["imitation"].shape == (8, 1, 128, 101)
    assert batch["reference_id"].tolist() == [1, 1, 1, 2, 2, 0, 0, 0]  # ids follow sorted paths
    assert batch["label"].tolist() == [1, 1, 1, 1, 1, 0, 0, 0]


def test_a_csv_row_naming_a_missing_file_is_named(tmp_path: Path) -> None:
    folder = qvim_dev_tree(tmp_path)
    (victim,) = (folder / "Queries" / "Car horn").glob("query 2-1.*")
    victim.unlink()
    with pytest.raises(ConfigError, match=rf"DEV Dataset.csv row 5 .*{victim.name}"):
        index_qvim_dev(folder)


def test_a_listed_vimsketch_file_that_is_missing_is_named(tmp_path: Path) -> None:
    folder = vimsketch_tree(tmp_path)
    victim = sorted((folder / "references").iterdir())[0]
    victim.unlink()
    with pytest.raises(ConfigError, match=f"reference_file_names.csv names '{victim.name}'"):
        index_vimsketch(folder)


def test_vimsketch_pairs_wav_imitations_with_converted_references_and_refuses_a_sound_listed_twice(
        tmp_path: Path) -> None:
    folder = vimsketch_tree(tmp_path)
    pairs = index_vimsketch(folder)
    assert len(pairs) == 8
    assert {pair.reference.suffix for pair in pairs} == {".wav", ".flac", ".ogg", ".mp3"}
    assert all(pair.imitation.suffix == ".wav" and pair.imitation.stem.split("_", 1)[1] ==
               pair.reference.stem.split("_", 1)[1] for pair in pairs)
    listing = folder / "reference_file_names.csv"
    listing.write_text(listing.read_text() + "999_1Sounds of things_Tools_Item 1.wav\t\n")
    with pytest.raises(ConfigError, match=r"lists '101_1Sounds.*Item 1.flac' and '999_1Sounds.*Item 1.wav', the same "
                                          r"sound \('1Sounds of things_Tools_Item 1'\) twice"):
        index_vimsketch(folder)


def test_wrong_qvim_dev_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DEV Dataset.csv not found"):
        index_qvim_dev(tmp_path)


def test_audiocaps_layout_keeps_every_caption_and_names_bad_rows(tmp_path: Path) -> None:
    folder = tmp_path / "captions"
    for number in range(2):
        write_clip(folder / "audio" / f"clip {number}.wav", number)
    (folder / "captions.csv").write_text('file,caption\nclip 0.wav,a dog barks\nclip 0.wav,"a dog, barking"\n'
                                         "clip 1.wav,rain on a roof\n")
    pairs = index_audiocaps(folder)
    assert [pair.caption for pair in pairs] == ["a dog barks", "a dog, barking", "rain on a roof"]
    assert pairs[0].reference == pairs[1].reference == pairs[0].imitation
    with (folder / "captions.csv").open("a") as handle:
        handle.write("\ngone.wav,nothing\n")
    with pytest.raises(ConfigError, match=r"captions.csv row 6 names .*gone.wav"):
        index_audiocaps(folder)


def test_one_pair_per_reference_needs_held_out_sounds(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="data.unique_references=true with data.split=interpolation"):
        ImitationDataModule(str(tmp_path), {}, split="interpolation", unique_references=True)
