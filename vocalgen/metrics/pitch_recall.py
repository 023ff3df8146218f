"""Pitch recall: how much of a target's pitched sound a generated clip plays at the same pitch. pYIN (librosa)
tracks both; of the frames where the target is voiced, the share where the generated clip is voiced too and
within `tolerance` semitones of the target's f0. Noise shaped by the target's envelope scores 0 (pYIN hears no
pitch in it); another item's target scores what chance agreement gives."""

import librosa
import numpy as np
import torch
from tqdm import tqdm

LOW_HZ, HIGH_HZ = 60.0, 4000.0
FRAME_LENGTH, RESOLUTION = 2048, 0.5


def pyin_settings(resolution: float = RESOLUTION) -> str:
    """What a cache of pitch tracks must be keyed by (besides rate, hop and range)."""
    return f"pyin frame {FRAME_LENGTH} resolution {resolution}"


def pitch_track(audio: np.ndarray, sample_rate: int, hop: int = 512, low_hz: float = LOW_HZ,
                high_hz: float = HIGH_HZ, resolution: float = RESOLUTION) -> np.ndarray:
    """audio [N] → f0 in Hz per frame [1 + N // hop] (frames centred at i · hop), NaN where pYIN hears no pitch.
    `resolution`: pYIN's pitch bins in semitones; the metric's half semitone is fast but rejects fast glides as
    unvoiced (librosa's default 0.1 keeps them, at about 3.5× the time over 80–600 Hz)."""
    f0, voiced, _ = librosa.pyin(audio, fmin=low_hz, fmax=high_hz, sr=sample_rate, frame_length=FRAME_LENGTH,
                                 hop_length=hop, resolution=resolution)
    return np.where(voiced, f0, np.nan)


def pitch_recall(generated: np.ndarray, target: np.ndarray, tolerance: float = 1.0) -> float:
    """f0 tracks [F] each (NaN: unvoiced) → the share of the target's voiced frames where `generated` is voiced
    and within `tolerance` semitones; NaN when the target has no voiced frame."""
    if generated.shape != target.shape:
        raise ValueError(f"pitch_recall: the tracks must have the same frames, got {generated.shape} and "
                         f"{target.shape} (clips of different lengths?).")
    voiced = ~np.isnan(target)
    if not voiced.any():
        return float("nan")
    with np.errstate(invalid="ignore"):
        distance = np.abs(12 * np.log2(generated[voiced] / target[voiced]))
    return float(np.mean(np.nan_to_num(distance, nan=np.inf) <= tolerance))


def pitch_tracks(audio: torch.Tensor, sample_rate: int) -> list[np.ndarray]:
    """audio [B, 1, N] (mono) → B f0 tracks [F] (pitch_track of each clip)."""
    if audio.dim() != 3 or audio.shape[1] != 1:
        raise ValueError(f"pitch_tracks: expected mono audio [B, 1, N], got {tuple(audio.shape)}.")
    return [pitch_track(clip[0].float().numpy(), sample_rate) for clip in tqdm(audio.cpu(), desc="pitch tracks",
                                                                                  unit="clip", leave=False)]
