"""Source-filter vocal imitation of a synthesised sound.

A glottal pulse train follows the sound's pitch contour folded into the human range, noise
("sh", "s", "f", "h") stands in for unpitched parts, a cascade of formant resonators shapes a vowel,
and the sound's loudness envelope drives the level. Each imitation draws its own `Imitator`.
"""

from dataclasses import dataclass

import numpy as np
from scipy import signal

from .sounds import FRAME_RATE, PITCH_GATE, Sound, bandpass, normalise_peak

HUMAN_PITCH_HZ = (90.0, 500.0)
VOWELS: dict[str, tuple[float, ...]] = {  # F1-F4 in Hz for an average adult tract
    "a": (800.0, 1200.0, 2500.0, 3500.0),
    "e": (500.0, 1800.0, 2500.0, 3500.0),
    "i": (300.0, 2300.0, 3000.0, 3700.0),
    "o": (500.0, 900.0, 2400.0, 3400.0),
    "u": (320.0, 800.0, 2300.0, 3300.0),
}
BANDWIDTHS_HZ = (80.0, 100.0, 140.0, 180.0)
FRICATIVE_BANDS_HZ = {"sh": (1800.0, 5500.0), "s": (4000.0, 9000.0), "f": (1000.0, 7000.0)}
FRICATIVES = (*FRICATIVE_BANDS_HZ, "h")  # "h": aspiration noise through the vowel formants
NOISE_FLOOR = 1e-3


@dataclass(frozen=True)
class Imitator:
    """One imitator's voice and timing (formant_shift scales formants: shorter tract → higher)."""

    vowel: str
    fricative: str
    formant_shift: float
    register_hz: float
    open_quotient: float
    jitter: float
    breathiness: float
    loudness_gamma: float
    smoothing_frames: int
    stretch: float
    offset_frames: int


def draw_imitator(rng: np.random.Generator) -> Imitator:
    """Random voice: tract factor 0.85-1.2, register 100-270 Hz, jitter, breathiness, timing."""
    formant_shift = rng.uniform(0.85, 1.2)
    return Imitator(
        vowel=str(rng.choice(list(VOWELS))),
        fricative=str(rng.choice(FRICATIVES)),
        formant_shift=formant_shift,
        register_hz=rng.uniform(100, 230) * formant_shift,
        open_quotient=rng.uniform(0.35, 0.6),
        jitter=rng.uniform(0.005, 0.02),
        breathiness=rng.uniform(0.05, 0.4),
        loudness_gamma=rng.uniform(0.6, 1.0),
        smoothing_frames=int(rng.integers(1, 8)),
        stretch=rng.uniform(0.9, 1.1),
        offset_frames=int(rng.integers(0, 15)),
    )


def _warp(frames: np.ndarray, stretch: float, offset: int, fill: float) -> np.ndarray:
    """Time-stretch (frames,) by `stretch` after `offset` frames of `fill`, plus a 0.1 s `fill` tail."""
    n_out = offset + int(np.ceil(len(frames) * stretch)) + FRAME_RATE // 10
    source = np.round((np.arange(n_out) - offset) / stretch).astype(int)
    valid = (source >= 0) & (source < len(frames))
    return np.where(valid, frames[np.clip(source, 0, len(frames) - 1)], fill)


def _fold(pitch: np.ndarray, register_hz: float) -> np.ndarray:
    """Octave-shift the (frames,) contour so its median lands near register_hz, clipped to human range."""
    voiced = np.isfinite(pitch) & (pitch > 0)
    if not voiced.any():
        return pitch
    shift = 2.0 ** np.round(np.log2(register_hz / np.median(pitch[voiced])))
    return np.clip(pitch * shift, *HUMAN_PITCH_HZ)


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average of (frames,) x over `width` frames (edges repeated)."""
    padded = np.pad(x, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, np.ones(width) / width, mode="valid")


def _fill_gaps(pitch: np.ndarray, default: float) -> np.ndarray:
    """(frames,) contour with NaN frames interpolated from voiced neighbours (default if none)."""
    voiced = np.isfinite(pitch)
    if not voiced.any():
        return np.full(len(pitch), default)
    frames = np.arange(len(pitch))
    return np.interp(frames, frames[voiced], pitch[voiced])


def _voicing(pitch: np.ndarray, loudness: np.ndarray) -> np.ndarray:
    """(frames,) 1 where pitched, 0 where loud but unpitched; quiet frames take their neighbours' state."""
    quiet = loudness < PITCH_GATE * loudness.max()
    return _fill_gaps(np.where(quiet, np.nan, np.isfinite(pitch).astype(float)), 0.0)


def _to_samples(frames: np.ndarray, n: int, sample_rate: int) -> np.ndarray:
    """Linearly interpolate a (frames,) contour at FRAME_RATE to (n,) samples."""
    position = np.arange(n) * (FRAME_RATE / sample_rate) - 0.5
    return np.interp(position, np.arange(len(frames)), frames)


def _glottal_pulses(f0: np.ndarray, sample_rate: int, open_quotient: float) -> np.ndarray:
    """Derivative of a Rosenberg glottal flow following (n,) f0 in Hz; returns (n,)."""
    phase = np.cumsum(f0 / sample_rate) % 1.0
    closing = 0.4 * open_quotient
    opening = 0.5 * (1 - np.cos(np.pi * phase / open_quotient))
    falling = np.cos(0.5 * np.pi * (phase - open_quotient) / closing)
    flow = np.where(phase < open_quotient, opening, np.where(phase < open_quotient + closing, falling, 0.0))
    return np.diff(flow, prepend=0.0)


def _formant_sos(formants: np.ndarray, sample_rate: int) -> np.ndarray:
    """Cascade of unity-DC-gain two-pole resonators (Klatt) as an (n_formants, 6) SOS array."""
    radius = np.exp(-np.pi * np.asarray(BANDWIDTHS_HZ[: len(formants)]) / sample_rate)
    b = 2 * radius * np.cos(2 * np.pi * formants / sample_rate)
    c = -(radius**2)
    zeros = np.zeros_like(b)
    return np.stack([1 - b - c, zeros, zeros, np.ones_like(b), -b, -c], axis=1)


def _unit(x: np.ndarray) -> np.ndarray:
    """(n,) x scaled to unit RMS."""
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def _fricative(noise: np.ndarray, imitator: Imitator, vowel_sos: np.ndarray, sample_rate: int) -> np.ndarray:
    """Unvoiced excitation: band noise for 'sh'/'s'/'f', noise through the vowel for 'h'."""
    if imitator.fricative == "h":
        return signal.sosfilt(vowel_sos, noise)
    low, high = FRICATIVE_BANDS_HZ[imitator.fricative]
    return bandpass(noise, sample_rate, low * imitator.formant_shift, high * imitator.formant_shift)


def imitate(sound: Sound, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """A vocal imitation of `sound` by a random imitator: (n,) float32 at `sample_rate`, peak 0.9.

    `sample_rate` must be a multiple of FRAME_RATE; the length is the sound's duration times the
    imitator's stretch plus its onset offset and a 0.1 s tail.
    """
    imitator = draw_imitator(rng)
    timing = imitator.stretch, imitator.offset_frames
    pitch = _warp(_fold(sound.pitch_hz, imitator.register_hz), *timing, np.nan)
    loudness = _warp(sound.loudness, *timing, 0.0)
    n = len(loudness) * (sample_rate // FRAME_RATE)

    f0_frames = _smooth(_fill_gaps(pitch, imitator.register_hz), imitator.smoothing_frames)
    f0_frames *= 1 + imitator.jitter * rng.standard_normal(len(f0_frames))
    voicing = _to_samples(_smooth(_voicing(pitch, loudness), 3), n, sample_rate)
    envelope = _to_samples((loudness / (loudness.max() + 1e-12)) ** imitator.loudness_gamma, n, sample_rate)

    vowel_sos = _formant_sos(np.asarray(VOWELS[imitator.vowel]) * imitator.formant_shift, sample_rate)
    noise = rng.standard_normal((3, n))
    glottal = _glottal_pulses(_to_samples(f0_frames, n, sample_rate), sample_rate, imitator.open_quotient)
    source = (1 - imitator.breathiness) * _unit(glottal) + imitator.breathiness * noise[0]
    voice = _unit(signal.sosfilt(vowel_sos, source))
    unvoiced = _unit(_fricative(noise[1], imitator, vowel_sos, sample_rate))
    mix = envelope * (voicing * voice + (1 - voicing) * unvoiced) + NOISE_FLOOR * noise[2]
    return normalise_peak(mix)
