"""The loops layout, its bad rows, the beat-phase field, the synthetic loops and their datamodule."""

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from vocalgen.config import CONFIG_DIR
from vocalgen.data.beats import beat_phase, parse_beat_times, track_beats
from vocalgen.data.datamodule import ImitationDataModule
from vocalgen.data.fields import BeatPhaseField
from vocalgen.data.loops import index_loops
from vocalgen.data.synthetic import ensure_synthetic_loops
from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import BadAudioFile, ConfigError
from vocalgen.metrics.tempo import estimate_tempo, tempo_accuracy

HEADER = "file,bpm,beat_times\n"
TINY = {"n_loops": 8, "seconds": 2.0}


def write_loop(path: Path, bpm: float, seconds: float, rate: int = 24000, offset: float = 0.05) -> None:
    """A click on every beat of `bpm` from `offset`, in the format of `path`'s suffix."""
    audio = np.zeros(int(seconds * rate))
    for beat in np.arange(offset, seconds, 60 / bpm):
        start = int(beat * rate)
        audio[start:start + 200] = 0.5 * np.sin(np.arange(200) / 3)[: len(audio) - start]
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, rate)


def loops_tree(root: Path) -> Path:
    """Three loops (wav and flac, one with spaces in its name), beat times listed for one of them."""
    write_loop(root / "kick loop 120.wav", 120, 4.0)
    write_loop(root / "drums" / "break.flac", 90, 4.0, rate=44100)
    write_loop(root / "fast.wav", 160, 3.0)
    (root / "bpm.csv").write_text(HEADER + 'kick loop 120.wav,120,"0.05 0.55 1.05 1.55"\n'
                                  "drums/break.flac,90,\nfast.wav,160.0,\n")
    return root


def test_index_fills_beat_times_from_the_csv_or_evenly(tmp_path: Path) -> None:
    pairs = index_loops(loops_tree(tmp_path), beats="even")
    assert [pair.sound for pair in pairs] == ["kick loop 120.wav", "break.flac", "fast.wav"]
    assert all(pair.imitation == pair.reference and pair.label == pair.sound for pair in pairs)
    assert [pair.bpm for pair in pairs] == [120.0, 90.0, 160.0]
    assert parse_beat_times(pairs[0].extra["beat_times"]).tolist() == [0.05, 0.55, 1.05, 1.55]
    assert parse_beat_times(pairs[1].extra["beat_times"]) == pytest.approx(np.arange(0, 4.0, 60 / 90), abs=1e-6)
    assert parse_beat_times(pairs[2].extra["beat_times"]) == pytest.approx(np.arange(0, 3.0, 60 / 160), abs=1e-6)


def test_index_tracks_beats_at_the_csv_tempo(tmp_path: Path) -> None:
    pairs = index_loops(loops_tree(tmp_path))  # beats="tracker" is the default
    assert parse_beat_times(pairs[0].extra["beat_times"]).tolist() == [0.05, 0.55, 1.05, 1.55]  # listed ones win
    tracked = parse_beat_times(pairs[1].extra["beat_times"])
    clicks = np.arange(0.05, 4.0, 60 / 90)
    assert len(tracked) >= 4 and np.abs(tracked[:, None] - clicks[None]).min(axis=1).max() < 0.03


@pytest.mark.parametrize(("bpm", "problem"), [("0", "not positive"), ("-120", "not positive"), ("500", "absurd"),
                                              ("", "missing"), ("fast", "not a number")])
def test_a_bad_bpm_names_the_csv_line_and_file(tmp_path: Path, bpm: str, problem: str) -> None:
    root = loops_tree(tmp_path)
    (root / "bpm.csv").write_text(HEADER + f"kick loop 120.wav,120,\nfast.wav,{bpm},\n")
    with pytest.raises(ConfigError, match=rf"bpm.csv line 3 \(fast.wav\): .*{problem}.*\(0, 400\]"):
        index_loops(root, beats="even")


def test_a_missing_file_names_the_csv_row(tmp_path: Path) -> None:
    root = loops_tree(tmp_path)
    with (root / "bpm.csv").open("a") as handle:
        handle.write("gone loop.wav,100,\n")
    with pytest.raises(ConfigError, match=r"bpm.csv row 5 names .*gone loop.wav"):
        index_loops(root, beats="even")


def test_a_loop_shorter_than_one_beat_is_named(tmp_path: Path) -> None:
    root = loops_tree(tmp_path)
    write_loop(root / "blip.wav", 60, 0.5)
    (root / "bpm.csv").write_text(HEADER + "blip.wav,60,\n")
    with pytest.raises(ConfigError, match=r"bpm.csv line 2: blip.wav lasts 0.500 s, shorter than one beat"):
        index_loops(root, beats="even")


def test_bad_listed_beat_times_and_beat_source_are_named(tmp_path: Path) -> None:
    root = loops_tree(tmp_path)
    (root / "bpm.csv").write_text(HEADER + "fast.wav,160,0.1 soon\n")
    with pytest.raises(ConfigError, match=r"bpm.csv line 2 \(fast.wav\): beat_times"):
        index_loops(root)
    with pytest.raises(ConfigError, match="data.layout_options.beats='grid'"):
        index_loops(root, beats="grid")


def test_beat_phase_field_reads_the_pair_and_names_a_loop_without_beats(tmp_path: Path) -> None:
    field = BeatPhaseField(frame_rate=75, frames=64)
    pair = ImitationPair(imitation=tmp_path / "a.wav", reference=tmp_path / "a.wav", sound="a.wav",
                         extra={"beat_times": "0.2 0.6"})
    assert torch.equal(field.from_pair(pair), beat_phase([0.2, 0.6], 64, 75))
    lonely = ImitationPair(imitation=pair.imitation, reference=pair.reference, sound="a.wav",
                           extra={"beat_times": "0.2"})
    with pytest.raises(BadAudioFile, match=r"a.wav: its beat times make no beat phase"):
        field.from_pair(lonely)


def test_datamodule_passes_layout_options_and_refuses_unknown_ones(tmp_path: Path) -> None:
    root = loops_tree(tmp_path)
    fields = {"beat_phase": BeatPhaseField(75, 32)}
    datamodule = ImitationDataModule(str(root), fields, split="all", batch_size=3, layout="loops",
                                     layout_options={"beats": "even"})
    datamodule.setup()
    batch = next(iter(datamodule.test_dataloader()))
    assert batch["beat_phase"].shape == (3, 32) and batch["bpm"].tolist() == [120.0, 90.0, 160.0]
    with pytest.raises(ConfigError, match=r"data.layout_options=\{'beat': 'even'\}"):
        ImitationDataModule(str(root), fields, layout="loops", layout_options={"beat": "even"})
    with pytest.raises(ConfigError, match="data.layout='qvim_dev' has no synthetic builder"):
        ImitationDataModule(str(root), fields, layout="qvim_dev", synthetic={})


@pytest.fixture(scope="module")
def synthetic_loops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_synthetic_loops(tmp_path_factory.mktemp("loops"), n_loops=8, seconds=4.0)


def read_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "bpm.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_synthetic_loops_layout_and_exact_beats(synthetic_loops: Path) -> None:
    rows = read_rows(synthetic_loops)
    assert synthetic_loops.name == "Loops" and list(rows[0]) == ["file", "bpm", "beat_times", "caption"]
    assert len(rows) == 8 and len({row["caption"] for row in rows}) == 8
    for row in rows:
        info = sf.info(synthetic_loops / row["file"])
        assert (info.samplerate, info.channels, info.subtype, info.frames) == (24000, 1, "PCM_16", 96000)
        bpm, beats = float(row["bpm"]), parse_beat_times(row["beat_times"])
        assert 70 <= bpm <= 180 and f"{bpm:.0f} BPM" in row["caption"]
        assert 0 <= beats[0] < 60 / bpm and beats[-1] < 4.0 <= beats[-1] + 60 / bpm + 1e-6
        assert np.diff(beats) == pytest.approx(np.full(len(beats) - 1, 60 / bpm), abs=2e-6)
        audio, _ = sf.read(synthetic_loops / row["file"])
        assert 0.85 <= np.abs(audio).max() <= 0.91  # peak-normalised to 0.9


def test_synthetic_loops_sound_at_their_tempo(synthetic_loops: Path) -> None:
    rows = read_rows(synthetic_loops)
    estimates, errors = [], []
    for row in rows:
        audio, rate = sf.read(synthetic_loops / row["file"], dtype="float32")
        estimates.append(estimate_tempo(audio, rate))
        tracked, listed = track_beats(audio, rate, bpm=float(row["bpm"])), parse_beat_times(row["beat_times"])
        errors.append(np.median(np.abs(tracked[:, None] - listed[None]).min(axis=1)))
    assert tempo_accuracy(estimates, [float(row["bpm"]) for row in rows])["acc2"] >= 0.75
    assert np.median(errors) < 0.03  # the tracker's beats sit on the listed ones


def test_synthetic_loops_are_deterministic(synthetic_loops: Path, tmp_path: Path) -> None:
    again = ensure_synthetic_loops(tmp_path / "again", n_loops=8, seconds=4.0)
    files = sorted(p.relative_to(synthetic_loops) for p in synthetic_loops.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((synthetic_loops / f).read_bytes() == (again / f).read_bytes() for f in files)
    other = ensure_synthetic_loops(tmp_path / "other", seed=1, n_loops=1, seconds=4.0)
    assert (other / "loop_000.wav").read_bytes() != (synthetic_loops / "loop_000.wav").read_bytes()
    with pytest.raises(ValueError, match="n_loops"):
        ensure_synthetic_loops(synthetic_loops.parent, n_loops=9, seconds=4.0)


def test_synthetic_loops_refuse_clips_of_fewer_than_two_beats(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="two beats at min_bpm=60"):
        ensure_synthetic_loops(tmp_path, min_bpm=60, seconds=1.5)
    assert not list(tmp_path.iterdir())


def test_synthetic_loops_datamodule_batches(tmp_path: Path) -> None:
    synthetic = ",".join(f"{key}:{value}" for key, value in TINY.items())
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", ["data=synthetic_loops", f"paths.output_dir={tmp_path}", f"data.root={tmp_path}/data",
                                f"data.synthetic={{{synthetic}}}", "data.batch_size=4"])
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    assert set(batch) >= {"audio_24k", "beat_phase", "bpm", "caption"} and "imitation" not in batch
    assert batch["audio_24k"].shape == (4, 1, 81920) and batch["beat_phase"].shape == (4, 256)
    assert batch["beat_phase"].min() >= 0 and batch["beat_phase"].max() < 1
    pair = datamodule.datasets["train"].pairs[int(batch["index"][0])]
    assert torch.equal(batch["beat_phase"][0], beat_phase(parse_beat_times(pair.extra["beat_times"]), 256, 75))
    assert sorted(p.name for p in (tmp_path / "cache" / "features").iterdir()) == ["audio_24k"]  # phases not cached
