"""Index of a folder of music loops: `bpm.csv` (file, bpm, optional beat_times and caption) beside the audio."""

from pathlib import Path

import numpy as np
import soundfile as sf

from vocalgen.data.audio_io import read_audio
from vocalgen.data.beats import ANALYSIS_RATE, even_beats, parse_beat_times, track_beats, validate_bpm
from vocalgen.data.csv_table import table_rows
from vocalgen.data.qvim_dev import existing
from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import BadAudioFile, ConfigError

CSV_NAME = "bpm.csv"
BEAT_SOURCES = ("tracker", "even")


def index_loops(root: str | Path, beats: str = "tracker") -> list[ImitationPair]:
    """One pair per row of `root/bpm.csv`: the loop `root/<file>` as imitation and reference, its
    file name as sound and label, its bpm, caption (optional column) and `extra["beat_times"]`
    (space-separated seconds). Beat times come from the CSV's optional `beat_times` column, else
    from librosa's beat tracker at the row's tempo (beats="tracker") or every 60 / bpm s from the
    start (beats="even"). Rows in file order.

    Raises ConfigError naming the CSV line for a missing file, a missing or implausible BPM, bad
    beat times, or a loop shorter than one beat.
    """
    if beats not in BEAT_SOURCES:
        raise ConfigError(f"data.layout_options.beats={beats!r}: choose 'tracker' (librosa's beat tracker at the "
                          "CSV's tempo) or 'even' (a beat every 60/bpm s from the start of each loop).")
    root = Path(root)
    csv_path = root / CSV_NAME
    pairs = []
    for line, row in table_rows(csv_path, ("file", "bpm"), "columns file, bpm, optional beat_times; and the loops"):
        where = f"{csv_path} line {line}"
        if not (row.get("file") or "").strip():
            raise ConfigError(f"{where}: the row names no file.")
        loop = existing(root / row["file"].strip(), csv_path, line)
        bpm = validate_bpm(row["bpm"], f"{where} ({loop.name})")
        times = _beat_times(loop, bpm, row.get("beat_times") or "", beats, where)
        extra = {**row, "beat_times": " ".join(f"{t:.6f}" for t in times)}
        pairs.append(ImitationPair(imitation=loop, reference=loop, sound=loop.name, label=loop.name,
                                   caption=(row.get("caption") or "").strip(), bpm=bpm, extra=extra))
    if not pairs:
        raise ConfigError(f"{csv_path} lists no loops.")
    return pairs


def _beat_times(loop: Path, bpm: float, listed: str, source: str, where: str) -> np.ndarray:
    """The loop's beat times [n] in seconds: `listed` (a CSV cell) if not empty, else from `source`."""
    duration = _duration(loop)
    if duration < 60.0 / bpm:
        raise ConfigError(f"{where}: {loop.name} lasts {duration:.3f} s, shorter than one beat at {bpm:g} BPM "
                          f"({60.0 / bpm:.3f} s). Check its bpm or remove the row.")
    if listed.strip():
        try:
            return parse_beat_times(listed)
        except ValueError as error:
            raise ConfigError(f"{where} ({loop.name}): beat_times must be space-separated seconds ({error}).") from None
    if source == "even":
        return even_beats(bpm, duration)
    return track_beats(read_audio(loop, ANALYSIS_RATE).numpy(), ANALYSIS_RATE, bpm=bpm)


def _duration(loop: Path) -> float:
    """Seconds of audio in `loop`; BadAudioFile naming it when soundfile cannot read its header."""
    try:
        return sf.info(str(loop)).duration
    except Exception as error:  # soundfile raises several types for corrupt / unknown formats
        raise BadAudioFile(f"{loop}: not a readable audio file ({error}). Replace it or remove its row.") from error
