"""A field of the pitch contour of a clip (pYIN), the target of a decoder that predicts pitch."""

from pathlib import Path

import numpy as np
import torch

from vocalgen.data.audio_io import fit_length, read_audio
from vocalgen.data.fields import Source
from vocalgen.metrics.pitch_recall import HIGH_HZ, LOW_HZ, RESOLUTION, pitch_track, pyin_settings


class PitchContourField:
    """File → f0 in Hz [1 + samples // hop] of the clip padded or cut to `samples` at `sample_rate`, 0 where pYIN
    hears no pitch (frame i centred at i · hop). pYIN takes about 0.1 s a clip: data.cache keeps the contours.
    `resolution`: pYIN's pitch bins in semitones (pitch_track)."""

    def __init__(self, source: Source, sample_rate: int, samples: int, hop: int, low_hz: float = LOW_HZ,
                 high_hz: float = HIGH_HZ, resolution: float = RESOLUTION) -> None:
        self.source = source
        self.sample_rate, self.samples, self.hop = sample_rate, samples, hop
        self.low_hz, self.high_hz, self.resolution = low_hz, high_hz, resolution
        self.fingerprint = f"pitch|{pyin_settings(resolution)}|{sample_rate}|{samples}|{hop}|{low_hz}|{high_hz}"

    def __call__(self, path: Path) -> torch.Tensor:
        audio = fit_length(read_audio(path, self.sample_rate), self.samples).numpy()
        f0 = pitch_track(audio, self.sample_rate, self.hop, self.low_hz, self.high_hz, self.resolution)
        return torch.from_numpy(np.nan_to_num(f0, nan=0.0).astype(np.float32))
