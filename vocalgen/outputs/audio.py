"""Audio output: mono wav files at the generator's sample rate and spectrogram PNGs."""

from pathlib import Path
from typing import Any

import torch

from vocalgen.data.audio_io import read_audio, write_audio

from .kind import OutputKind


class AudioOutput(OutputKind):
    """Items are waveforms [1, N] (or [N]) at `sample_rate`."""

    suffix = ".wav"

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate

    def write(self, path: Path, item: torch.Tensor) -> Path:
        return write_audio(self.file(path), item, self.sample_rate)

    def example_inputs(self, pair: Any) -> dict[str, torch.Tensor]:
        """The pair's imitation, read at `sample_rate`: what the generated audio imitates."""
        return {"imitation": read_audio(pair.imitation, self.sample_rate)}

    def overview(self, path: Path, items: dict[str, torch.Tensor]) -> Path:
        from vocalgen.callbacks.spectrogram_plot import save_spectrograms  # matplotlib: only when drawing

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return save_spectrograms(Path(path), items, self.sample_rate)

    def __repr__(self) -> str:
        return f"AudioOutput(sample_rate={self.sample_rate})"
