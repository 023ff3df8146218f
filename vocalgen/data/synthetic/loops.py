"""Write the synthetic music loops to disk in the loops layout (once, atomically, deterministically)."""

import csv
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from vocalgen.data.beats import MAX_BPM

from .grooves import synthesize_loop
from .store import ensure_built, write_wav

LOOPS_DIR = "Loops"
CSV_NAME = "bpm.csv"
CSV_COLUMNS = ("file", "bpm", "beat_times", "caption")


def ensure_synthetic_loops(
    root: str | Path,
    seed: int = 0,
    n_loops: int = 160,
    seconds: float = 4.0,
    min_bpm: float = 70,
    max_bpm: float = 180,
    sample_rate: int = 24000,
) -> Path:
    """Generate (once) and return `root/Loops`: `n_loops` mono 16-bit wav drum-and-note loops of
    `seconds` at tempi drawn from [min_bpm, max_bpm], and `bpm.csv` (file, bpm, the exact beat
    times in seconds, a caption). Loop i depends only on (seed, i).

    An existing folder is reused when its `.complete.json` holds the same parameters; otherwise a
    ValueError names it.
    """
    params = {"seed": seed, "n_loops": n_loops, "seconds": seconds, "min_bpm": min_bpm, "max_bpm": max_bpm,
              "sample_rate": sample_rate}
    _validate(params)
    return ensure_built(Path(root) / LOOPS_DIR, params, lambda folder: _write_loops(folder, params))


def _validate(params: dict[str, Any]) -> None:
    """Raise ValueError for parameters the generator cannot honour."""
    if params["n_loops"] < 1 or params["seed"] < 0 or params["sample_rate"] < 8000:
        raise ValueError(f"need n_loops >= 1, seed >= 0 and sample_rate >= 8000: {params}")
    if not 0 < params["min_bpm"] <= params["max_bpm"] <= MAX_BPM:
        raise ValueError(f"need 0 < min_bpm <= max_bpm <= {MAX_BPM:.0f}: {params}")
    if params["seconds"] <= 2 * 60.0 / params["min_bpm"]:
        raise ValueError(f"seconds={params['seconds']} must exceed two beats at min_bpm={params['min_bpm']} "
                         f"({120.0 / params['min_bpm']:.2f} s) so that every loop holds two beats: {params}")


def _write_loops(folder: Path, params: dict[str, Any]) -> None:
    """Synthesise every loop into `folder` and list it in bpm.csv."""
    rows = []
    for index in tqdm(range(params["n_loops"]), desc="synthesising loops", unit="loop"):
        rng = np.random.default_rng([params["seed"], index])
        loop = synthesize_loop(rng, params["seconds"], params["sample_rate"], params["min_bpm"], params["max_bpm"])
        name = f"loop_{index:03d}.wav"
        write_wav(folder / name, loop.audio, loop.sample_rate)
        beat_times = " ".join(f"{t:.6f}" for t in loop.beat_times)
        rows.append({"file": name, "bpm": f"{loop.bpm:.1f}", "beat_times": beat_times, "caption": loop.caption})
    with (folder / CSV_NAME).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
