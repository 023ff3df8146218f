"""Field readers: how one audio file (or one pair's metadata) becomes one named tensor of a batch."""

from pathlib import Path
from typing import Literal, Protocol

import torch

from vocalgen.data.audio_io import fit_length, read_audio
from vocalgen.data.beats import beat_phase, parse_beat_times
from vocalgen.data.features import LogMelFrontEnd
from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import BadAudioFile

Source = Literal["imitation", "reference"]


class FieldReader(Protocol):
    """Reads the file `pair.<source>` into a tensor; `fingerprint` names everything that shapes it."""

    source: Source
    fingerprint: str

    def __call__(self, path: Path) -> torch.Tensor: ...


class PairFieldReader(Protocol):
    """Reads a whole pair (its metadata) into a tensor; marked by `reads_pair = True`, never disk-cached."""

    reads_pair: Literal[True]
    fingerprint: str

    def from_pair(self, pair: ImitationPair) -> torch.Tensor: ...


Field = FieldReader | PairFieldReader


class WaveformField:
    """File → waveform [1, samples] at `sample_rate`, zero-padded or cut."""

    def __init__(self, source: Source, sample_rate: int, samples: int) -> None:
        self.source = source
        self.sample_rate = sample_rate
        self.samples = samples
        self.fingerprint = f"waveform|{sample_rate}|{samples}"

    def __call__(self, path: Path) -> torch.Tensor:
        return fit_length(read_audio(path, self.sample_rate), self.samples).unsqueeze(0)


class LogMelField:
    """File → log-mel [1, n_mels, frames] of a clip padded or cut to `seconds`."""

    def __init__(self, source: Source, frontend: LogMelFrontEnd, seconds: float) -> None:
        self.source = source
        self.frontend = frontend
        self.samples = int(round(seconds * frontend.sample_rate))
        self.fingerprint = f"logmel|{self.samples}|{sorted(frontend.settings.items())}"

    def __call__(self, path: Path) -> torch.Tensor:
        audio = fit_length(read_audio(path, self.frontend.sample_rate), self.samples)
        with torch.no_grad():
            return self.frontend(audio).unsqueeze(0)


class BeatPhaseField:
    """Pair → beat-phase sawtooth [frames] at `frame_rate` (e.g. EnCodec's 75 Hz) from
    `pair.extra["beat_times"]` (space-separated seconds from the start of the file)."""

    reads_pair = True

    def __init__(self, frame_rate: float, frames: int) -> None:
        self.frame_rate = frame_rate
        self.frames = frames
        self.fingerprint = f"beat_phase|{frame_rate}|{frames}"

    def from_pair(self, pair: ImitationPair) -> torch.Tensor:
        try:
            return beat_phase(parse_beat_times(pair.extra.get("beat_times", "")), self.frames, self.frame_rate)
        except ValueError as error:
            raise BadAudioFile(f"{pair.reference}: its beat times make no beat phase ({error}). Give the loop two or "
                               "more increasing beat_times in its CSV row, or remove it.") from error
