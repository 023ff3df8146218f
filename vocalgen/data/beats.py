"""Beat times and the beat-phase sawtooth that conditions loop generation (docs/recipes.md, "α-(de)blending")."""

import math
from collections.abc import Sequence

import librosa
import numpy as np
import torch
import torchaudio.functional as AF

from vocalgen.errors import ConfigError

MAX_BPM = 400.0  # above this a tempo is taken for a typo (a 16th-note rate at 100 BPM is 400)
ANALYSIS_RATE = 22050  # sample rate of beat and tempo analysis (librosa's default)
HOP_LENGTH = 128  # onset-envelope hop at ANALYSIS_RATE: 5.8 ms, 1 % tempo resolution at 120 BPM
ONSET_FFT, ONSET_MELS = 512, 64  # a 23-ms window: tracked beats lag the true onsets by ~7 ms (2048: ~18 ms)


def validate_bpm(bpm: object, where: str) -> float:
    """`bpm` as a float, or a ConfigError naming `where` (a CSV line, a `bpm=` argument) and the range."""
    if bpm is None or (isinstance(bpm, str) and not bpm.strip()):
        problem = "missing"
    else:
        try:
            value = float(bpm)
        except (TypeError, ValueError):
            value, problem = None, "not a number"
        else:
            problem = ("not finite" if not math.isfinite(value) else "not positive" if value <= 0
                       else f"absurd (over {MAX_BPM:.0f})" if value > MAX_BPM else "")
            if not problem:
                return value
    raise ConfigError(f"{where}: the tempo {bpm!r} is {problem}; give beats per minute in (0, {MAX_BPM:.0f}].")


def even_beats(bpm: float, seconds: float, offset: float = 0.0) -> np.ndarray:
    """Beat times [n] in seconds: `offset`, `offset + 60 / bpm`, … while below `seconds`."""
    period = 60.0 / validate_bpm(bpm, "even_beats(bpm=…)")
    count = max(0, math.ceil((seconds - offset) / period - 1e-9))
    return offset + period * np.arange(count)


def parse_beat_times(text: str) -> np.ndarray:
    """Space-separated beat times in seconds (a CSV cell) → [n] float64; ValueError if one is not a number."""
    return np.array([float(value) for value in text.split()], dtype=np.float64)


def beat_phase(beat_times: np.ndarray | Sequence[float], frames: int, frame_rate: float) -> torch.Tensor:
    """The beat-phase sawtooth [frames] (float32) of frames at times i / frame_rate.

    0 exactly at each beat, rising linearly to just below 1 before the next one. Before the first
    beat and after the last, the first and last inter-beat intervals continue the sawtooth.
    Raises ValueError for fewer than two beats or beat times that are not finite and increasing.
    """
    beats = np.asarray(beat_times, dtype=np.float64).reshape(-1)
    if len(beats) < 2:
        raise ValueError(f"a beat phase needs at least two beat times to know the beat period, got {len(beats)}")
    intervals = np.diff(beats)
    if not np.isfinite(beats).all() or (intervals <= 0).any():
        raise ValueError(f"beat times must be finite and strictly increasing, got {beats.tolist()}")
    if frames < 1 or frame_rate <= 0:
        raise ValueError(f"need frames >= 1 and frame_rate > 0, got frames={frames}, frame_rate={frame_rate}")
    t = np.arange(frames) / frame_rate
    index = np.clip(np.searchsorted(beats, t, side="right") - 1, 0, len(beats) - 2)
    phase = (t - beats[index]) / intervals[index]
    phase = np.where(t < beats[0], ((t - beats[0]) / intervals[0]) % 1.0, phase)
    phase = np.where(t >= beats[-1], ((t - beats[-1]) / intervals[-1]) % 1.0, phase)
    at_beat = (phase < 1e-6) | (phase > 1 - 1e-6)  # on a beat up to rounding (float32 keeps the rest < 1)
    return torch.from_numpy(np.where(at_beat, 0.0, phase).astype(np.float32))


def mono_array(audio: np.ndarray | torch.Tensor) -> np.ndarray:
    """Mono audio [samples] or [1, samples] (NumPy or torch) → float32 NumPy [samples]."""
    if isinstance(audio, torch.Tensor):
        audio = audio.detach().cpu().numpy()
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2 and audio.shape[0] == 1:
        audio = audio[0]
    if audio.ndim != 1:
        raise ValueError(f"expected mono audio [samples] or [1, samples], got shape {audio.shape}; downmix first.")
    return audio


def onset_envelope(audio: np.ndarray | torch.Tensor, sample_rate: int) -> np.ndarray:
    """Mono audio [samples] at `sample_rate` → librosa's spectral-flux onset strength [frames] at
    ANALYSIS_RATE / HOP_LENGTH frames per second (a 64-band mel spectrogram of 512-sample windows)."""
    samples = torch.from_numpy(mono_array(audio))
    if sample_rate != ANALYSIS_RATE:
        samples = AF.resample(samples, sample_rate, ANALYSIS_RATE)
    return librosa.onset.onset_strength(y=samples.numpy(), sr=ANALYSIS_RATE, hop_length=HOP_LENGTH,
                                        n_fft=ONSET_FFT, n_mels=ONSET_MELS)


def track_beats(audio: np.ndarray | torch.Tensor, sample_rate: int, bpm: float | None = None) -> np.ndarray:
    """Beat times [n] in seconds from librosa's dynamic-programming beat tracker.

    With `bpm` (e.g. a loop's known tempo) the tracker only places the beats; without, it also
    estimates the tempo (librosa's default prior around 120 BPM).
    """
    _, beats = librosa.beat.beat_track(onset_envelope=onset_envelope(audio, sample_rate), sr=ANALYSIS_RATE,
                                       hop_length=HOP_LENGTH, bpm=bpm, units="time")
    return np.asarray(beats, dtype=np.float64)
