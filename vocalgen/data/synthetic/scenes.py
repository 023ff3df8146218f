"""Write the synthetic scenes (a picture, a sound and a caption per item) to disk in the
audiocaps_frames layout (once, atomically, deterministically), for CLAP2Diffusion-style audio + text
→ image training.

Item i shows scene SCENE_NAMES[i % 5] with the visual element of sound class
SOUND_CLASSES[(i // 5) % 6] drawn from that sound's parameters (see pictures.ELEMENTS); its caption
names the scene only, so the element has to come from the audio; a second column, sound_caption, describes
the sound as an AudioCaps caption would (for stages that align audio with text, such as CLAP2Diffusion's
projector).
"""

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from vocalgen.data.audiocaps_frames import CSV_NAME
from vocalgen.data.splits import SPLIT_NAMES

from .pictures import ELEMENTS, SCENES, picture
from .sounds import FRAME_RATE, Sound, synthesize
from .store import ensure_built, write_wav

SCENES_DIR = "Synthetic_Scenes"
SCENE_NAMES = tuple(SCENES)
SOUND_CLASSES = tuple(ELEMENTS)
SCENE_CAPTIONS = {
    "beach": ("a sandy beach", "a beach by the sea", "waves rolling onto a sandy shore", "a sunny seaside beach"),
    "city": ("a busy city street", "a city skyline", "tall buildings along a downtown street",
             "an urban street with office towers"),
    "forest": ("a pine forest", "a green forest", "trees in a dense woodland", "a forest of tall conifers"),
    "snowy field": ("a snowy field", "a snow-covered meadow", "a white winter landscape",
                    "fresh snow on an open field"),
    "night sky": ("a starry night sky", "the moon over a dark landscape", "a clear night with stars",
                  "stars above a field at night"),
}
SOUND_CAPTIONS = {  # "{times}": the sound's count as words ("twice", "five times"); "{size}": the dog's
    "Explosion": "a loud explosion booms",
    "Water drip": "water drips {times}",
    "Bird chirp": "a bird chirps {times}",
    "Siren rising": "a siren wails, rising {times}",
    "Dog bark": "a {size} dog barks {times}",
    "Car horn": "a car horn honks {times}",
}
TIMES = ("once", "twice", "three times", "four times", "five times", "six times", "seven times", "eight times")
BIG_DOG_F0 = 400.0  # Hz: below, a big dog (pictures draw the dog longer the lower its bark)
PARAM_COLUMNS = ("count", "f0", "decay_seconds", "f_start", "f_end", "sweep_seconds")
CSV_COLUMNS = ("id", "caption", "sound_caption", "label", "scene", *PARAM_COLUMNS)
VERSION = 2  # of the generator: 2 added sound_caption; a folder an older one built is rebuilt


def ensure_synthetic_scenes(
    root: str | Path,
    seed: int = 0,
    n_items: int = 400,
    image_size: int = 64,
    sample_rate: int = 16000,
    seconds: float = 2.0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> Path:
    """Generate (once) and return `root/Synthetic_Scenes` in the audiocaps_frames layout: for each of
    `n_items` items, `<split>/audio/scene_<i>.wav` (mono 16-bit, `seconds` at `sample_rate`),
    `<split>/frames/scene_<i>.png` (RGB, `image_size` px square) and a row of `<split>/captions.csv`
    (id, caption, sound_caption, label = the sound class, scene, and the sound's parameters: count, f0,
    …; empty where the class has none). Splits: a seeded shuffle sends round(n_items × fraction) items to
    val and to test, the rest to train. Item i depends only on (seed, i).

    An existing folder is reused when its `.complete.json` holds the same parameters; otherwise a
    ValueError names it. The defaults build in well under 30 s on one core.
    """
    params = {"seed": seed, "n_items": n_items, "image_size": image_size, "sample_rate": sample_rate,
              "seconds": seconds, "val_fraction": val_fraction, "test_fraction": test_fraction}
    _validate(params)
    return ensure_built(Path(root) / SCENES_DIR, params, lambda folder: _write_scenes(folder, params), VERSION)


def _validate(params: dict[str, Any]) -> None:
    """Raise ValueError for parameters the generator cannot honour."""
    if params["seed"] < 0 or params["image_size"] < 32 or params["seconds"] < 1.0:
        raise ValueError(f"need seed >= 0, image_size >= 32 (room for the birds) and seconds >= 1: {params}")
    if params["sample_rate"] < 16000 or params["sample_rate"] % FRAME_RATE:
        raise ValueError(f"sample_rate must be a multiple of {FRAME_RATE} Hz, at least 16000 (bird chirps reach "
                         f"6 kHz), got {params['sample_rate']}")
    if min(params["val_fraction"], params["test_fraction"]) < 0 or _split_sizes(params)[0] < 1:
        raise ValueError(f"val_fraction and test_fraction must be >= 0 and leave n_items >= 1 training items: "
                         f"{params}")


def _split_sizes(params: dict[str, Any]) -> tuple[int, int, int]:
    """How many items go to train, val and test."""
    val, test = (round(params["n_items"] * params[key]) for key in ("val_fraction", "test_fraction"))
    return params["n_items"] - val - test, val, test


def _splits(params: dict[str, Any]) -> list[str]:
    """The split name of each item: a permutation seeded by `seed` dealt out by _split_sizes."""
    names = np.repeat(SPLIT_NAMES, _split_sizes(params))
    order = np.random.default_rng(params["seed"]).permutation(params["n_items"])
    return [str(name) for name in names[np.argsort(order)]]


def _write_scenes(folder: Path, params: dict[str, Any]) -> None:
    """Draw and synthesise every item into its split folder of `folder`, then each split's captions.csv."""
    rows: dict[str, list[dict[str, str]]] = {name: [] for name in SPLIT_NAMES}
    splits = _splits(params)
    for split in set(splits):
        for kind in ("audio", "frames"):
            (folder / split / kind).mkdir(parents=True)
    for index, split in enumerate(tqdm(splits, desc="synthesising scenes", unit="item")):
        rng = np.random.default_rng([params["seed"], index])
        scene = SCENE_NAMES[index % len(SCENE_NAMES)]
        sound = synthesize(SOUND_CLASSES[index // len(SCENE_NAMES) % len(SOUND_CLASSES)], rng, params["seconds"],
                           params["sample_rate"])
        image = picture(scene, sound.class_name, sound.params, rng, params["image_size"])
        item = f"scene_{index:05d}"
        write_wav(folder / split / "audio" / f"{item}.wav", sound.audio, sound.sample_rate)
        image.save(folder / split / "frames" / f"{item}.png", format="PNG")
        rows[split].append(_row(item, scene, sound, str(rng.choice(SCENE_CAPTIONS[scene]))))
    for split, split_rows in rows.items():
        if split_rows:
            with (folder / split / CSV_NAME).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
                writer.writeheader()
                writer.writerows(split_rows)


def sound_caption(class_name: str, params: Mapping[str, float]) -> str:
    """What a sound of `class_name` with `params` is, e.g. "a small dog barks three times"."""
    count = int(params.get("count", 1))
    times = TIMES[count - 1] if 1 <= count <= len(TIMES) else f"{count} times"
    size = "big" if params.get("f0", 0.0) < BIG_DOG_F0 else "small"
    return SOUND_CAPTIONS[class_name].format(times=times, size=size)


def _row(item: str, scene: str, sound: Sound, caption: str) -> dict[str, str]:
    """captions.csv row: the sound's parameters formatted to 6 significant digits, absent ones left out."""
    values = {key: f"{sound.params[key]:.6g}" for key in PARAM_COLUMNS if key in sound.params}
    return {"id": item, "caption": caption, "sound_caption": sound_caption(sound.class_name, sound.params),
            "label": sound.class_name, "scene": scene, **values}
