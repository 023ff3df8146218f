"""Write the synthetic dataset to disk in the VimSketch layout (once, atomically, deterministically)."""

import csv
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .captions import caption_for
from .imitations import imitate
from .sounds import CLASSES, Sound, synthesize
from .store import ensure_built, write_wav

DATASET_DIR = "Vim_Sketch_Dataset"
METADATA_COLUMNS = ("reference", "class", "caption", "bpm", "beat_times")


def ensure_synthetic_dataset(
    root: str | Path,
    seed: int = 0,
    n_classes: int = 16,
    sounds_per_class: int = 8,
    imitations_per_sound: int = 4,
    min_seconds: float = 2.0,
    max_seconds: float = 4.0,
    reference_sample_rate: int = 44100,
    imitation_sample_rate: int = 32000,
) -> Path:
    """Generate (once) and return the dataset folder `root/Vim_Sketch_Dataset`.

    An existing folder is reused when its `.complete.json` holds the same parameters; otherwise a
    ValueError names it. The build goes to a hidden sibling folder renamed into place at the end.
    """
    params = {
        "seed": seed,
        "n_classes": n_classes,
        "sounds_per_class": sounds_per_class,
        "imitations_per_sound": imitations_per_sound,
        "min_seconds": min_seconds,
        "max_seconds": max_seconds,
        "reference_sample_rate": reference_sample_rate,
        "imitation_sample_rate": imitation_sample_rate,
    }
    target = Path(root) / DATASET_DIR
    if not target.exists():
        _validate(params)
    return ensure_built(target, params, lambda folder: _write_dataset(folder, params))


def _validate(params: dict[str, Any]) -> None:
    """Raise ValueError for parameters the generator cannot honour."""
    if not 1 <= params["n_classes"] <= len(CLASSES):
        raise ValueError(f"n_classes must be in [1, {len(CLASSES)}], got {params['n_classes']}")
    if min(params["sounds_per_class"], params["imitations_per_sound"]) < 1 or params["seed"] < 0:
        raise ValueError(f"sounds_per_class and imitations_per_sound must be >= 1 and seed >= 0: {params}")
    if not 0.5 <= params["min_seconds"] <= params["max_seconds"]:
        raise ValueError(f"need 0.5 <= min_seconds <= max_seconds: {params}")
    for key in ("reference_sample_rate", "imitation_sample_rate"):
        if params[key] <= 0 or params[key] % 100:
            raise ValueError(f"{key} must be a positive multiple of 100 Hz, got {params[key]}")


def _write_dataset(folder: Path, params: dict[str, Any]) -> None:
    """Synthesise every sound and its imitations into `folder`, then the lists and metadata."""
    (folder / "references").mkdir()
    (folder / "vocal_imitations").mkdir()
    classes = list(CLASSES)[: params["n_classes"]]
    per_class, per_sound = params["sounds_per_class"], params["imitations_per_sound"]
    references, imitations, rows = [], [], []
    for index in tqdm(range(len(classes) * per_class), desc="synthesising dataset", unit="sound"):
        sound = _synthesize_sound(classes[index // per_class], index, params)
        stem = f"{index:03d}{sound.class_name}_{index % per_class + 1:02d}.wav"
        references.append(f"{index:03d}_{stem}")
        write_wav(folder / "references" / references[-1], sound.audio, sound.sample_rate)
        rows.append(_metadata_row(references[-1], sound))
        for j in range(per_sound):
            imitations.append(f"{index * per_sound + j:05d}_{stem}")
            rng = np.random.default_rng([params["seed"], index, j])
            audio = imitate(sound, rng, params["imitation_sample_rate"])
            write_wav(folder / "vocal_imitations" / imitations[-1], audio, params["imitation_sample_rate"])
    _write_lines(folder / "reference_file_names.csv", references)
    _write_lines(folder / "vocal_imitation_file_names.csv", imitations)
    with (folder / "metadata.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=METADATA_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _synthesize_sound(class_name: str, index: int, params: dict[str, Any]) -> Sound:
    """Sound number `index`, from its own generator seeded by (seed, index)."""
    rng = np.random.default_rng([params["seed"], index])
    duration = rng.uniform(params["min_seconds"], params["max_seconds"])
    return synthesize(class_name, rng, duration, params["reference_sample_rate"])


def _metadata_row(reference: str, sound: Sound) -> dict[str, str]:
    """metadata.csv row: bpm and space-separated beat times in seconds, empty when not rhythmic."""
    return {
        "reference": reference,
        "class": sound.class_name,
        "caption": caption_for(sound.class_name, sound.params),
        "bpm": "" if sound.bpm is None else f"{sound.bpm:.1f}",
        "beat_times": " ".join(f"{t:.3f}" for t in sound.beat_times),
    }


def _write_lines(path: Path, names: list[str]) -> None:
    """Header-less single-column file list, one name per line."""
    path.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
