"""A field of the pitch contour of a clip (pYIN or harmonic salience), e.g. the target of a decoder that predicts
pitch, or the imitation's contour that guides it."""

from pathlib import Path

import numpy as np
import torch

from vocalgen.data.audio_io import fit_length, read_audio
from vocalgen.data.fields import Source
from vocalgen.data.harmonic_salience import salience_pitch_track, salience_settings
from vocalgen.errors import ConfigError
from vocalgen.metrics.pitch_recall import HIGH_HZ, LOW_HZ, RESOLUTION, pitch_track, pyin_settings

TRACKERS = {"pyin": (pitch_track, pyin_settings), "salience": (salience_pitch_track, salience_settings)}


class PitchContourField:
    """File → f0 in Hz [1 + samples // hop] of the clip padded or cut to `samples` at `sample_rate`, 0 where the
    tracker hears no pitch (frame i centred at i · hop). `tracker`: "pyin" (pitch_track: about 0.1 s a clip,
    data.cache keeps the contours; its voicing decision drops jittery or fast-gliding voices) or "salience"
    (salience_pitch_track: the strongest harmonic comb in every loud frame, about 0.01 s a clip). `resolution`: the
    tracker's pitch bins in semitones."""

    def __init__(self, source: Source, sample_rate: int, samples: int, hop: int, low_hz: float = LOW_HZ,
                 high_hz: float = HIGH_HZ, resolution: float = RESOLUTION, tracker: str = "pyin") -> None:
        if tracker not in TRACKERS:
            raise ConfigError(f"PitchContourField: tracker={tracker!r} is unknown; use one of {sorted(TRACKERS)}.")
        self.source = source
        self.sample_rate, self.samples, self.hop = sample_rate, samples, hop
        self.low_hz, self.high_hz, self.resolution = low_hz, high_hz, resolution
        self.track, settings = TRACKERS[tracker]
        self.fingerprint = f"pitch|{settings(resolution)}|{sample_rate}|{samples}|{hop}|{low_hz}|{high_hz}"

    def __call__(self, path: Path) -> torch.Tensor:
        audio = fit_length(read_audio(path, self.sample_rate), self.samples).numpy()
        f0 = self.track(audio, self.sample_rate, self.hop, self.low_hz, self.high_hz, self.resolution)
        return torch.from_numpy(np.nan_to_num(f0, nan=0.0).astype(np.float32))
