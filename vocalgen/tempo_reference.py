"""`python -m vocalgen.tempo_reference TABLE.csv [--root DIR] [--estimators librosa madmom] [--loop-to 8]`: how
well each tempo estimator finds the known tempo of real audio files, as a table and Acc1 / Acc2 / median
relative error per estimator; this tells which estimator the generated loops' tempo figures can trust.

TABLE.csv has the columns `file` (relative to --root) and either `bpm` or `beats` (the file is that many beats
long: reference BPM = 60 · beats / duration); other columns are ignored. `experiments/iadb/sonic_pi_loops.csv`
lists Debian's `sonic-pi-samples` loops (`apt-get install sonic-pi-samples`, the default --root). With
`--loop-to S` each file is also repeated to at least S seconds, as a looper plays it, and scored again.
"""

import argparse
import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from vocalgen.data.audio_io import read_audio
from vocalgen.errors import ConfigError
from vocalgen.metrics.tempo import ESTIMATORS, tempo_accuracy, tempo_error, tempo_estimator

RATE = 44100  # files are read at this rate; each estimator resamples to its own
SONIC_PI_SAMPLES = "/usr/share/sonic-pi/samples"


@dataclass(frozen=True)
class ReferenceTempo:
    """A file and its known tempo in BPM."""

    path: Path
    bpm: float
    seconds: float


def read_references(table: Path, root: Path) -> list[tuple[ReferenceTempo, torch.Tensor]]:
    """Every row of `table` with its audio [samples] at RATE; ConfigError naming the table, row or file at
    fault (a missing column, a bad number, a missing file)."""
    if not table.is_file():
        raise ConfigError(f"{table}: no such tempo table (columns file and bpm or beats).")
    with table.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "file" not in rows[0] or not ({"bpm", "beats"} & set(rows[0])):
        raise ConfigError(f"{table}: needs a header with `file` and `bpm` or `beats`, and one row a file.")
    references = []
    for line, row in enumerate(rows, start=2):
        path = root / row["file"]
        if not path.is_file():
            raise ConfigError(f"{table}, line {line}: {path} does not exist (is --root {root} right?).")
        audio = read_audio(path, RATE)
        seconds = audio.numel() / RATE
        try:
            bpm = float(row["bpm"]) if row.get("bpm") else 60.0 * float(row["beats"]) / seconds
        except ValueError as error:
            raise ConfigError(f"{table}, line {line}: bpm / beats must be numbers ({error}).") from error
        references.append((ReferenceTempo(path, bpm, seconds), audio))
    return references


def looped(audio: torch.Tensor, seconds: float) -> torch.Tensor:
    """`audio` [samples] repeated whole until it lasts at least `seconds`."""
    return audio.repeat(max(1, math.ceil(seconds * RATE / audio.numel())))


def scores(estimates: Sequence[float], references: Sequence[float]) -> dict[str, float]:
    """{"acc1", "acc2" (tempo_accuracy), "median_error" (tempo_error: median relative error)}."""
    return {**tempo_accuracy(estimates, references), "median_error": tempo_error(estimates, references)}


def compare(references: list[tuple[ReferenceTempo, torch.Tensor]], estimators: dict[str, Callable],
            loop_to: float | None) -> tuple[list[list[str]], dict[str, dict[str, float]]]:
    """One table row a file (its name, seconds, reference BPM, and each estimator's answer, as is and
    looped) and the scores of each column ("librosa", "librosa looped", …)."""
    versions = {"": lambda audio: audio} | ({" looped": lambda audio: looped(audio, loop_to)} if loop_to else {})
    answers: dict[str, list[float]] = {f"{name}{suffix}": [] for name in estimators for suffix in versions}
    rows = []
    for reference, audio in references:
        row = [reference.path.stem, f"{reference.seconds:.3f}", f"{reference.bpm:.1f}"]
        for name, estimate in estimators.items():
            for suffix, version in versions.items():
                bpm = estimate(version(audio), RATE)
                answers[f"{name}{suffix}"].append(bpm)
                row.append(f"{bpm:.1f}")
        rows.append(row)
    truth = [reference.bpm for reference, _ in references]
    return rows, {column: scores(values, truth) for column, values in answers.items()}


def markdown(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, ["---"] * len(header), *rows])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vocalgen.tempo_reference", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", type=Path, help="CSV: file, and bpm or beats")
    parser.add_argument("--root", type=Path, default=Path(SONIC_PI_SAMPLES), help="folder the files are relative to")
    parser.add_argument("--estimators", nargs="+", default=["librosa"], choices=ESTIMATORS)
    parser.add_argument("--loop-to", type=float, default=None, help="also score each file repeated to ≥ S seconds")
    args = parser.parse_args(argv)
    estimators = {name: tempo_estimator(name) for name in args.estimators}
    rows, summary = compare(read_references(args.table, args.root), estimators, args.loop_to)
    print(markdown(["file", "s", "ref BPM", *summary], rows) + "\n")
    print(markdown(["estimator", "Acc1", "Acc2", "median relative error"],
                   [[column, f"{s['acc1']:.2f}", f"{s['acc2']:.2f}", f"{s['median_error']:.3f}"]
                    for column, s in summary.items()]))


if __name__ == "__main__":
    main()
