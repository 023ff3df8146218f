"""The embedded synthetic dataset: VimSketch layout, pairing rule, determinism, caching, audio sanity."""

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocalgen.data.synthetic import ensure_synthetic_dataset

SMALL = {"n_classes": 16, "sounds_per_class": 1, "imitations_per_sound": 2, "max_seconds": 2.0}
RHYTHMIC = {"Door knock", "Clock tick", "Alarm beep", "Drum beat", "Sanding"}


def _names(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _key(name: str) -> str:
    return name.split("_", 1)[1]


def _audio_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.wav"))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_synthetic_dataset(tmp_path_factory.mktemp("a"), seed=0, **SMALL)


def test_layout_and_pairing(dataset: Path) -> None:
    assert dataset.name == "Vim_Sketch_Dataset"
    references = _names(dataset / "reference_file_names.csv")
    imitations = _names(dataset / "vocal_imitation_file_names.csv")
    assert len(references) == 16 and len(imitations) == 32
    for imitation in imitations:
        assert sum(_key(reference) == _key(imitation) for reference in references) == 1
    for folder, names, rate in (("references", references, 44100), ("vocal_imitations", imitations, 32000)):
        for name in names:
            info = sf.info(dataset / folder / name)
            assert (info.samplerate, info.channels, info.subtype) == (rate, 1, "PCM_16")
    assert {p.name for p in (dataset / "references").iterdir()} == set(references)
    assert {p.name for p in (dataset / "vocal_imitations").iterdir()} == set(imitations)


def test_metadata(dataset: Path) -> None:
    with (dataset / "metadata.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["reference", "class", "caption", "bpm", "beat_times"]
    assert [row["reference"] for row in rows] == _names(dataset / "reference_file_names.csv")
    assert len({row["class"] for row in rows}) >= 16
    for row in rows:
        assert row["caption"]
        if row["class"] in RHYTHMIC:
            assert float(row["bpm"]) > 0 and all(float(t) >= 0 for t in row["beat_times"].split())
        else:
            assert row["bpm"] == "" and row["beat_times"] == ""


def test_audio_is_sane(dataset: Path) -> None:
    for path in _audio_files(dataset):
        audio, _ = sf.read(path)
        assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
        assert np.sqrt(np.mean(audio**2)) > 1e-3, path.name


def test_deterministic_by_seed(dataset: Path, tmp_path: Path) -> None:
    again = ensure_synthetic_dataset(tmp_path / "same", seed=0, **SMALL)
    other = ensure_synthetic_dataset(tmp_path / "other", seed=1, **SMALL)
    files = sorted(p.relative_to(dataset) for p in dataset.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((dataset / f).read_bytes() == (again / f).read_bytes() for f in files)
    first = _audio_files(dataset)[0].relative_to(dataset)
    assert (dataset / first).read_bytes() != (other / first).read_bytes()


def test_cached_and_parameter_mismatch(dataset: Path) -> None:
    marker = dataset / ".complete.json"
    before = marker.stat().st_mtime_ns
    assert ensure_synthetic_dataset(dataset.parent, seed=0, **SMALL) == dataset
    assert marker.stat().st_mtime_ns == before
    with pytest.raises(ValueError, match=str(dataset)):
        ensure_synthetic_dataset(dataset.parent, seed=1, **SMALL)


def test_no_partial_folder_left(dataset: Path) -> None:
    assert [p.name for p in dataset.parent.iterdir()] == ["Vim_Sketch_Dataset"]


def test_interrupted_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise RuntimeError("interrupted")

    monkeypatch.setattr("vocalgen.data.synthetic.build.imitate", fail)
    with pytest.raises(RuntimeError):
        ensure_synthetic_dataset(tmp_path, n_classes=1, sounds_per_class=1)
    assert list(tmp_path.iterdir()) == []
