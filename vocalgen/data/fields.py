"""Field readers: how one audio file becomes one named tensor of a batch."""

from pathlib import Path
from typing import Literal, Protocol

import torch

from vocalgen.data.audio_io import fit_length, read_audio
from vocalgen.data.features import LogMelFrontEnd

Source = Literal["imitation", "reference"]


class FieldReader(Protocol):
    """Reads the file `pair.<source>` into a tensor; `fingerprint` names everything that shapes it."""

    source: Source
    fingerprint: str

    def __call__(self, path: Path) -> torch.Tensor: ...


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
