"""Procedural synthesis of "everyday" sound classes with per-sound random parameters.

Every class is a function `(rng, duration_s, sample_rate) -> _Raw`; `synthesize` turns that into a
`Sound` with peak-normalised audio and per-frame pitch and loudness contours at `FRAME_RATE`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal

FRAME_RATE = 100  # contour frames per second (hop = sample_rate // FRAME_RATE samples)
PEAK = 0.9
PITCH_GATE = 0.05  # frames quieter than this fraction of the loudest frame count as unpitched

Params = dict[str, float]


@dataclass(frozen=True)
class Sound:
    """A synthesised sound.

    audio: (n,) float32 in [-1, 1] at `sample_rate`; pitch_hz and loudness: (frames,) at FRAME_RATE,
    frame i centred at (i + 0.5) / FRAME_RATE seconds; pitch_hz is NaN where unpitched.
    """

    class_name: str
    audio: np.ndarray
    sample_rate: int
    pitch_hz: np.ndarray
    loudness: np.ndarray
    params: Params
    bpm: float | None = None
    beat_times: tuple[float, ...] = ()


@dataclass(frozen=True)
class _Raw:
    """Unnormalised synth output: audio and f0 are (n,) per sample; f0 is None when unpitched."""

    audio: np.ndarray
    f0: np.ndarray | None
    params: Params
    beat_times: np.ndarray | None = None


# ---------------------------------------------------------------- DSP helpers (shared with imitations)


def normalise_peak(x: np.ndarray, peak: float = PEAK) -> np.ndarray:
    """Scale (n,) audio so that max |x| == peak; returns float32."""
    top = float(np.max(np.abs(x))) if x.size else 0.0
    return (x * (peak / top) if top > 0 else x).astype(np.float32)


def frame_view(x: np.ndarray, hop: int, pad_mode: str = "constant") -> np.ndarray:
    """(n,) signal → (ceil(n / hop), hop) frames, the last one padded."""
    frames = -(-len(x) // hop)
    return np.pad(x, (0, frames * hop - len(x)), mode=pad_mode).reshape(frames, hop)


def bandpass(x: np.ndarray, sample_rate: int, low: float, high: float, order: int = 2) -> np.ndarray:
    """Butterworth band-pass of (n,) x between low and high Hz (high clamped below Nyquist)."""
    high = min(high, 0.45 * sample_rate)
    sos = signal.butter(order, [low, high], btype="bandpass", fs=sample_rate, output="sos")
    return signal.sosfilt(sos, x)


def lowpass(x: np.ndarray, sample_rate: int, cutoff: float, order: int = 2) -> np.ndarray:
    """Butterworth low-pass of (n,) x at cutoff Hz."""
    sos = signal.butter(order, min(cutoff, 0.45 * sample_rate), fs=sample_rate, output="sos")
    return signal.sosfilt(sos, x)


def _time(duration: float, sample_rate: int) -> np.ndarray:
    """(n,) sample times in seconds."""
    return np.arange(int(round(duration * sample_rate))) / sample_rate


def _tone(f0: np.ndarray, sample_rate: int, weights: Sequence[float]) -> np.ndarray:
    """Band-limited harmonic tone following (n,) f0 in Hz; weights[k] is the amplitude of harmonic k+1."""
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    out = np.zeros_like(phase)
    for k, weight in enumerate(weights, start=1):
        if weight:
            out += np.where(k * f0 < 0.45 * sample_rate, weight, 0.0) * np.sin(k * phase)
    return out


def _tilt(n: int, ratio: float) -> list[float]:
    """Harmonic weights decaying geometrically by `ratio`."""
    return [ratio**k for k in range(n)]


def _square(n: int) -> list[float]:
    """Harmonic weights of a square wave (odd harmonics, 1/k)."""
    return [1.0 / k if k % 2 else 0.0 for k in range(1, n + 1)]


def _smooth_random(rng: np.random.Generator, t: np.ndarray, rate_hz: float) -> np.ndarray:
    """Smooth random curve in [0, 1] over (n,) times t, with knots every 1 / rate_hz seconds."""
    position = t * rate_hz
    knots = rng.uniform(0, 1, int(position[-1]) + 2)
    index = position.astype(int)
    blend = (1 - np.cos(np.pi * (position - index))) / 2
    return knots[index] * (1 - blend) + knots[index + 1] * blend


def _since(t: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For (n,) times t: seconds since the latest event start (inf before the first) and its index."""
    index = np.searchsorted(starts, t, side="right") - 1
    elapsed = np.where(index >= 0, t - starts[np.maximum(index, 0)], np.inf)
    return elapsed, index


def _hit(elapsed: np.ndarray, attack: float, decay: float) -> np.ndarray:
    """Percussive envelope: exponential attack and decay, 0 where elapsed is inf."""
    finite = np.isfinite(elapsed)
    e = np.where(finite, elapsed, 0.0)
    return np.where(finite, (1 - np.exp(-e / attack)) * np.exp(-e / decay), 0.0)


def _window(elapsed: np.ndarray, length: float) -> tuple[np.ndarray, np.ndarray]:
    """Progress p in [0, 1] through an event of `length` seconds and a sin(pi p) window (0 outside)."""
    progress = np.clip(np.where(np.isfinite(elapsed), elapsed, length) / length, 0, 1)
    return progress, np.sin(np.pi * progress)


def _event_starts(rng: np.random.Generator, duration: float, count: int, length: float) -> np.ndarray:
    """`count` sorted start times of events of `length` s, one per equal slot of `duration`, jittered."""
    slot = duration / count
    return slot * np.arange(count) + rng.uniform(0, max(slot - length, 0.0) * 0.8, count)


def _beats(rng: np.random.Generator, duration: float, bpm: float, tail: float) -> np.ndarray:
    """Regular beat times at `bpm` from a random start, leaving `tail` seconds at the end."""
    start = rng.uniform(0.05, 0.3)
    return start + np.arange(0, max(duration - tail - start, 1e-6), 60.0 / bpm)


# ---------------------------------------------------------------- pitched classes


def _siren(rng: np.random.Generator, duration: float, sr: int, rising: bool) -> _Raw:
    """Repeated exponential sweeps between a low and a high pitch."""
    t = _time(duration, sr)
    low = rng.uniform(300, 600)
    high = low * rng.uniform(2.0, 3.5)
    count = int(rng.integers(1, 4))
    sweep = duration / count
    progress = (t % sweep) / sweep
    f0 = low * (high / low) ** (progress if rising else 1 - progress)
    start, end = (low, high) if rising else (high, low)
    params = {"f_start": start, "f_end": end, "sweep_seconds": sweep, "count": count}
    return _Raw(_tone(f0, sr, _tilt(5, 0.45)), f0, params)


def _car_horn(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Steady bright two-note chord, honked 1-3 times."""
    t = _time(duration, sr)
    pitch = rng.uniform(300, 480)
    count = int(rng.integers(1, 4))
    length = min(rng.uniform(0.3, 1.0), 0.8 * duration / count)
    elapsed, _ = _since(t, _event_starts(rng, duration, count, length))
    gate = np.clip(np.minimum(elapsed, length - elapsed) / 0.02, 0, 1)
    f0 = np.full_like(t, pitch)
    weights = _tilt(12, 0.8)
    audio = (_tone(f0, sr, weights) + 0.8 * _tone(f0 * 1.26, sr, weights)) * gate
    return _Raw(audio, f0, {"f0": pitch, "count": count})


def _dog_bark(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Short harmonic-plus-noise bursts with a falling pitch through a vocal-like band."""
    t = _time(duration, sr)
    pitch = rng.uniform(250, 600)
    count = int(rng.integers(2, 6))
    length = rng.uniform(0.12, 0.25)
    elapsed, _ = _since(t, _event_starts(rng, duration, count, length))
    progress, _ = _window(elapsed, length)
    f0 = pitch * (1.2 - 0.4 * progress)
    source = _tone(f0, sr, _tilt(25, 0.8)) + 0.3 * rng.standard_normal(len(t))
    envelope = _hit(elapsed, 0.01, length / 3) * (progress < 1)
    audio = bandpass(source, sr, rng.uniform(400, 700), rng.uniform(1800, 3000)) * envelope
    return _Raw(audio, f0, {"f0": pitch, "count": count})


def _bird_chirp(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Fast downward FM sweeps of an almost pure tone."""
    t = _time(duration, sr)
    high = rng.uniform(3000, 6000)
    low = high * rng.uniform(0.4, 0.7)
    count = int(rng.integers(3, 9))
    length = rng.uniform(0.05, 0.15)
    elapsed, _ = _since(t, _event_starts(rng, duration, count, length))
    progress, window = _window(elapsed, length)
    f0 = high - (high - low) * progress
    return _Raw(_tone(f0, sr, [1.0, 0.2]) * window, f0, {"f_start": high, "f_end": low, "count": count})


def _telephone_ring(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Two beating tones with a fast bell tremolo, in on/off bursts."""
    t = _time(duration, sr)
    pitch = rng.uniform(400, 900)
    on, off = rng.uniform(0.4, 1.0), rng.uniform(0.2, 0.6)
    starts = np.arange(rng.uniform(0.0, 0.2), duration, on + off)
    elapsed, _ = _since(t, starts)
    gate = np.clip(np.minimum(elapsed, on - elapsed) / 0.01, 0, 1)
    tremolo = 0.6 + 0.4 * np.sign(np.sin(2 * np.pi * rng.uniform(15, 25) * t))
    f0 = np.full_like(t, pitch)
    tones = _tone(f0, sr, _tilt(4, 0.4)) + _tone(f0 * rng.uniform(1.05, 1.15), sr, _tilt(4, 0.4))
    return _Raw(tones * tremolo * gate, f0, {"f0": pitch, "count": len(starts)})


def _cat_meow(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Rise-fall harmonic tone whose formants glide from an 'i'-like to an 'a'-like vowel and back."""
    t = _time(duration, sr)
    base = rng.uniform(350, 550)
    peak = base * rng.uniform(1.3, 1.8)
    count = int(rng.integers(1, 3))
    length = min(rng.uniform(0.5, 1.2), 0.9 * duration / count)
    elapsed, _ = _since(t, _event_starts(rng, duration, count, length))
    progress, window = _window(elapsed, length)
    f0 = base * (peak / base) ** np.sin(np.pi * progress)
    source = _tone(f0, sr, _tilt(20, 0.8))
    closed, open_ = bandpass(source, sr, 250, 450), bandpass(source, sr, 700, 1300)
    audio = ((1 - window) * closed + window * open_) * np.sqrt(window)
    return _Raw(audio, f0, {"f0": base, "f_peak": peak, "count": count})


def _laser_zap(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Very fast exponentially falling chirps ("pew")."""
    t = _time(duration, sr)
    start, end = rng.uniform(2000, 5000), rng.uniform(100, 300)
    count = int(rng.integers(2, 6))
    length = rng.uniform(0.1, 0.3)
    elapsed, _ = _since(t, _event_starts(rng, duration, count, length))
    progress, _ = _window(elapsed, length)
    f0 = start * (end / start) ** progress
    audio = _tone(f0, sr, _square(5)) * _hit(elapsed, 0.002, length / 3) * (progress < 1)
    return _Raw(audio, f0, {"f_start": start, "f_end": end, "count": count})


def _water_drip(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Decaying sine blips with a quick upward glide ("plink")."""
    t = _time(duration, sr)
    pitch = rng.uniform(700, 2000)
    count = int(rng.integers(2, 7))
    elapsed, _ = _since(t, _event_starts(rng, duration, count, 0.1))
    glide = np.minimum(np.where(np.isfinite(elapsed), elapsed, 0.0) / 0.03, 1.0)
    f0 = pitch * (1 + rng.uniform(0.2, 0.6) * glide)
    audio = _tone(f0, sr, [1.0]) * _hit(elapsed, 0.0005, rng.uniform(0.02, 0.06))
    return _Raw(audio, f0, {"f0": pitch, "count": count})


def _whistle(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Pure tone with vibrato and a slight slide, plus breath noise."""
    t = _time(duration, sr)
    pitch = rng.uniform(900, 2500)
    vibrato = rng.uniform(4.5, 7.0)
    f0 = pitch * (1 + rng.uniform(-0.2, 0.2) * t / duration)
    f0 = f0 * (1 + rng.uniform(0.01, 0.04) * np.sin(2 * np.pi * vibrato * t))
    fade = np.clip(np.minimum(t, duration - t) / 0.08, 0, 1)
    breath = 0.05 * bandpass(rng.standard_normal(len(t)), sr, 0.7 * pitch, 1.4 * pitch)
    return _Raw((_tone(f0, sr, [1.0, 0.05]) + breath) * fade, f0, {"f0": pitch, "vibrato_hz": vibrato})


def _engine_idle(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Low pulsed harmonic rumble with firing-rate modulated noise and occasional revving."""
    t = _time(duration, sr)
    rate = rng.uniform(25, 60)
    f0 = rate * (1 + rng.uniform(0.0, 0.5) * _smooth_random(rng, t, 0.7))
    pulses = _tone(f0, sr, _tilt(30, 0.85))
    firing = 1 + np.sin(2 * np.pi * np.cumsum(f0) / sr)
    noise = lowpass(rng.standard_normal(len(t)), sr, 800) * firing
    audio = lowpass(pulses + 0.5 * noise, sr, rng.uniform(600, 1500))
    return _Raw(audio, f0, {"f0": rate})


# ---------------------------------------------------------------- rhythmic classes


def _door_knock(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Damped noise-plus-body-resonance hits at a regular tempo."""
    t = _time(duration, sr)
    bpm = rng.uniform(100, 200)
    beats = _beats(rng, duration, bpm, 0.15)
    elapsed, _ = _since(t, beats)
    phase_time = np.where(np.isfinite(elapsed), elapsed, 0.0)
    body = np.sin(2 * np.pi * rng.uniform(120, 250) * phase_time)
    source = 0.6 * lowpass(rng.standard_normal(len(t)), sr, 1500) + body
    audio = source * _hit(elapsed, 0.001, rng.uniform(0.02, 0.05))
    return _Raw(audio, None, {"bpm": bpm, "count": len(beats)}, beats)


def _clock_tick(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Alternating bright and duller short clicks ("tick-tock")."""
    t = _time(duration, sr)
    bpm = rng.uniform(80, 160)
    beats = _beats(rng, duration, bpm, 0.05)
    elapsed, index = _since(t, beats)
    noise = rng.standard_normal(len(t))
    tick, tock = bandpass(noise, sr, 3000, 7000), bandpass(noise, sr, 1200, 3000)
    audio = np.where(index % 2 == 0, tick, 0.8 * tock) * _hit(elapsed, 0.0003, 0.004)
    return _Raw(audio, None, {"bpm": bpm}, beats)


def _alarm_beep(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Square-wave beeps at a regular tempo."""
    t = _time(duration, sr)
    bpm = rng.uniform(120, 300)
    pitch = rng.uniform(1000, 3000)
    length = 60.0 / bpm * rng.uniform(0.3, 0.6)
    beats = _beats(rng, duration, bpm, length)
    elapsed, _ = _since(t, beats)
    gate = np.clip(np.minimum(elapsed, length - elapsed) / 0.003, 0, 1)
    f0 = np.full_like(t, pitch)
    return _Raw(_tone(f0, sr, _square(9)) * gate, f0, {"bpm": bpm, "f0": pitch}, beats)


def _drum_beat(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Kick drum (falling sine thump) on even beats, snare (noise burst) on odd beats."""
    t = _time(duration, sr)
    bpm = rng.uniform(80, 160)
    start, end, drop = rng.uniform(120, 200), rng.uniform(45, 70), 0.03
    beats = _beats(rng, duration, bpm, 0.2)
    elapsed, index = _since(t, beats)
    e = np.where(np.isfinite(elapsed), elapsed, 0.0)
    f0 = end + (start - end) * np.exp(-e / drop)
    kick = np.sin(2 * np.pi * (end * e + (start - end) * drop * (1 - np.exp(-e / drop))))
    snare = 0.5 * bandpass(rng.standard_normal(len(t)), sr, 1000, 5000)
    is_kick = index % 2 == 0
    kick = kick * _hit(elapsed, 0.002, rng.uniform(0.08, 0.2))
    audio = np.where(is_kick, kick, snare * _hit(elapsed, 0.001, 0.06))
    return _Raw(audio, np.where(is_kick, f0, np.nan), {"bpm": bpm, "f0": start}, beats)


def _sanding(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Band-noise strokes back and forth at a regular rate, alternating brightness."""
    t = _time(duration, sr)
    bpm = rng.uniform(90, 200)
    center = rng.uniform(1500, 5000)
    beats = _beats(rng, duration, bpm, 0.1)
    elapsed, index = _since(t, beats)
    _, window = _window(elapsed, 60.0 / bpm)
    noise = rng.standard_normal(len(t))
    forth, back = bandpass(noise, sr, center / 2, center * 2), bandpass(noise, sr, center / 3, center * 1.3)
    audio = np.where(index % 2 == 0, forth, back) * window**2
    return _Raw(audio, None, {"bpm": bpm, "center_hz": center}, beats)


# ---------------------------------------------------------------- unpitched, non-rhythmic classes


def _wind(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Three noise bands whose levels wander slowly, under a slow swell."""
    t = _time(duration, sr)
    center = rng.uniform(300, 1500)
    swell = rng.uniform(0.3, 1.0)
    noise = rng.standard_normal(len(t))
    bands = sum(
        bandpass(noise, sr, c / 1.3, c * 1.3) * _smooth_random(rng, t, 1.5)
        for c in (center / 2, center, center * 2)
    )
    audio = bands * (0.2 + _smooth_random(rng, t, swell))
    return _Raw(audio, None, {"center_hz": center, "swell_seconds": 1 / swell})


def _explosion(rng: np.random.Generator, duration: float, sr: int) -> _Raw:
    """Noise burst that darkens as it decays slowly, over a low rumble."""
    t = _time(duration, sr)
    decay = rng.uniform(0.4, 1.2)
    elapsed, _ = _since(t, np.array([rng.uniform(0.05, 0.3)]))
    noise = rng.standard_normal(len(t))
    brightness = np.exp(-np.where(np.isfinite(elapsed), elapsed, 0.0) / (decay / 3))
    body = brightness * lowpass(noise, sr, 4000) + (1 - brightness) * lowpass(noise, sr, 300)
    audio = (body + 2 * lowpass(noise, sr, 100)) * _hit(elapsed, 0.005, decay)
    return _Raw(audio, None, {"decay_seconds": decay})


Synth = Callable[[np.random.Generator, float, int], _Raw]

CLASSES: dict[str, Synth] = {
    "Siren rising": lambda rng, d, sr: _siren(rng, d, sr, rising=True),
    "Siren falling": lambda rng, d, sr: _siren(rng, d, sr, rising=False),
    "Car horn": _car_horn,
    "Dog bark": _dog_bark,
    "Bird chirp": _bird_chirp,
    "Door knock": _door_knock,
    "Clock tick": _clock_tick,
    "Engine idle": _engine_idle,
    "Wind": _wind,
    "Alarm beep": _alarm_beep,
    "Cat meow": _cat_meow,
    "Laser zap": _laser_zap,
    "Drum beat": _drum_beat,
    "Sanding": _sanding,
    "Whistle": _whistle,
    "Explosion": _explosion,
    "Water drip": _water_drip,
    "Telephone ring": _telephone_ring,
}


def synthesize(class_name: str, rng: np.random.Generator, duration: float, sample_rate: int) -> Sound:
    """Synthesise one sound of `class_name` lasting `duration` seconds at `sample_rate` (must be a
    multiple of FRAME_RATE); audio peak-normalised to PEAK, contours at FRAME_RATE."""
    raw = CLASSES[class_name](rng, duration, sample_rate)
    audio = normalise_peak(raw.audio)
    hop = sample_rate // FRAME_RATE
    loudness = np.sqrt(np.mean(frame_view(audio.astype(np.float64), hop) ** 2, axis=1))
    pitch = np.full(len(loudness), np.nan)
    if raw.f0 is not None:
        pitch = frame_view(raw.f0, hop, pad_mode="edge")[:, hop // 2]
        pitch[loudness < PITCH_GATE * loudness.max()] = np.nan
    if raw.beat_times is None:
        return Sound(class_name, audio, sample_rate, pitch, loudness, raw.params)
    beats = tuple(float(b) for b in raw.beat_times)
    return Sound(class_name, audio, sample_rate, pitch, loudness, raw.params, float(raw.params["bpm"]), beats)
