"""Procedural music loops: a synthesised drum kit and pitched notes on a drum-machine pattern.

`synthesize_loop(rng, …)` draws a tempo, a kit, a pattern and a key from `rng` and renders a
`Loop` whose beat times are exactly where the pattern's beats were placed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocalgen.data.beats import even_beats

from .sounds import bandpass, lowpass, normalise_peak

BEATS_PER_BAR = 4
MINOR_PENTATONIC = (0, 3, 5, 7, 10)  # semitones above the key's root
KICKS = {"four": "four-on-the-floor", "backbeat": "backbeat", "syncopated": "syncopated"}
HATS = {0.5: "8th", 0.25: "16th", "offbeat": "off-beat"}


@dataclass(frozen=True)
class Loop:
    """audio: (n,) float32 peak-normalised at `sample_rate`; beat_times: (beats,) seconds, every
    beat of `bpm` that falls inside the clip (the first within the first beat period)."""

    audio: np.ndarray
    sample_rate: int
    bpm: float
    beat_times: np.ndarray
    caption: str


@dataclass(frozen=True)
class _Hit:
    """One event: a one-shot starting at `beat` (in beats from the first beat) scaled by `gain`."""

    beat: float
    sound: np.ndarray
    gain: float


# ---------------------------------------------------------------- the kit (one-shots, drawn per loop)


def _decay(seconds: float, sr: int, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """(n,) times of a one-shot lasting `seconds` and an exponential decay with time constant `tau`."""
    t = np.arange(int(seconds * sr)) / sr
    return t, np.exp(-t / tau)


def _kick(rng: np.random.Generator, sr: int) -> np.ndarray:
    """A sine thump falling from ~150 Hz to ~50 Hz, with a short click."""
    t, body = _decay(0.4, sr, rng.uniform(0.08, 0.2))
    high, low, drop = rng.uniform(110, 200), rng.uniform(40, 65), rng.uniform(0.02, 0.05)
    phase = 2 * np.pi * (low * t + (high - low) * drop * (1 - np.exp(-t / drop)))
    click = rng.standard_normal(len(t)) * np.exp(-t / 0.002)
    return np.sin(phase) * body + 0.2 * click


def _snare(rng: np.random.Generator, sr: int) -> np.ndarray:
    """A tuned body under a band of noise."""
    t, body = _decay(0.3, sr, rng.uniform(0.03, 0.06))
    noise = bandpass(rng.standard_normal(len(t)), sr, rng.uniform(1000, 2000), rng.uniform(6000, 9000))
    return 0.6 * np.sin(2 * np.pi * rng.uniform(160, 240) * t) * body + noise * np.exp(-t / rng.uniform(0.06, 0.15))


def _hat(rng: np.random.Generator, sr: int) -> np.ndarray:
    """A closed hi-hat: a short burst of high noise."""
    t, envelope = _decay(0.1, sr, rng.uniform(0.01, 0.04))
    return bandpass(rng.standard_normal(len(t)), sr, min(rng.uniform(5000, 8000), 0.3 * sr), 0.45 * sr) * envelope


def _note(midi: float, seconds: float, sr: int, brightness: float, tau: float) -> np.ndarray:
    """A plucked harmonic tone of MIDI pitch `midi` (harmonic k weighted brightness**k)."""
    t, envelope = _decay(seconds, sr, tau)
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    harmonics = [k for k in range(1, 16) if k * f0 < 0.45 * sr]
    tone = sum(brightness ** (k - 1) * np.sin(2 * np.pi * k * f0 * t) for k in harmonics)
    release = np.clip((seconds - t) / 0.01, 0, 1) * np.clip(t / 0.003, 0, 1)
    return tone * envelope * release


# ---------------------------------------------------------------- the pattern


def _swung(position: float, swing: float) -> float:
    """A position in beats, delayed by `swing` of an 8th when it is an off-beat 8th."""
    return position + swing * 0.5 if position % 1.0 == 0.5 else position


def _degree(rng: np.random.Generator) -> int:
    """A random step of the minor pentatonic scale, in semitones above the root."""
    return MINOR_PENTATONIC[int(rng.integers(len(MINOR_PENTATONIC)))]


def _drums(rng: np.random.Generator, sr: int, beats: range, style: dict) -> list[_Hit]:
    """Kick, snare and hat hits on every beat index of `beats` (bar position shifted by style["shift"])."""
    kick, snare, hat = _kick(rng, sr), _snare(rng, sr), _hat(rng, sr)
    kick_steps = {"four": (0, 1, 2, 3), "backbeat": (0, 2), "syncopated": (0, 2, 2.5)}[style["kick"]]
    hat_steps = (0.5,) if style["hats"] == "offbeat" else tuple(np.arange(0, 1, style["hats"]))
    hits = []
    for beat in beats:
        in_bar = (beat + style["shift"]) % BEATS_PER_BAR
        hits += [_Hit(beat + step - in_bar, kick, rng.uniform(0.85, 1.0))
                 for step in kick_steps if in_bar <= step < in_bar + 1]
        if in_bar in (1, 3):
            hits.append(_Hit(beat, snare, rng.uniform(0.7, 0.9)))
        if style["ghosts"]:
            hits += [_Hit(beat + step, snare, 0.15) for step in (0.25, 0.75) if rng.random() < 0.3]
        for step in hat_steps:
            accent = 0.35 if step == 0 else 0.25 if step == 0.5 else 0.15
            hits.append(_Hit(beat + _swung(step, style["swing"]), hat, accent * rng.uniform(0.7, 1.0)))
    return hits


def _tonal(rng: np.random.Generator, sr: int, beats: range, period: float, style: dict) -> list[_Hit]:
    """A bass line (8th or quarter notes) and/or a plucked melody on the key's minor pentatonic."""
    hits = []
    root = int(rng.integers(33, 45))  # A1 … G#2
    if style["bass"]:
        step = float(rng.choice([0.5, 1.0]))
        brightness = rng.uniform(0.3, 0.6)
        for position in np.arange(beats.start, beats.stop, step):
            midi = root + _degree(rng) * int(rng.random() < 0.4)
            note = _note(midi, 0.8 * step * period, sr, brightness, 0.3)
            hits.append(_Hit(_swung(position, style["swing"]), lowpass(note, sr, 400), 0.8))
    if style["melody"]:
        brightness = rng.uniform(0.2, 0.5)
        for position in np.arange(beats.start, beats.stop, 0.5):
            if rng.random() < 0.45:
                midi = root + 24 + _degree(rng) + 12 * (rng.random() < 0.3)
                note = _note(midi, min(0.5, 1.5 * period), sr, brightness, rng.uniform(0.1, 0.3))
                hits.append(_Hit(_swung(position, style["swing"]), note, 0.3))
    return hits


def _caption(style: dict, bpm: float) -> str:
    """'a four-on-the-floor loop at 124 BPM with 16th hats, swung, and a bass line'."""
    tonal = [part for part, present in (("a bass line", style["bass"]), ("a melody", style["melody"])) if present]
    parts = [f"a {KICKS[style['kick']]} loop at {bpm:.0f} BPM with {HATS[style['hats']]} hats"]
    if style["swing"] > 0:
        parts.append("swung")
    if tonal:
        parts.append(f"and {' and '.join(tonal)}")
    return ", ".join(parts)


def _style(rng: np.random.Generator) -> dict:
    """The pattern's choices: kick pattern, hat grid, swing, ghost notes, tonal voices, bar position."""
    kick = str(rng.choice(list(KICKS)))
    hats = "offbeat" if kick == "four" and rng.random() < 0.4 else float(rng.choice([0.5, 0.25]))
    swing = float(rng.uniform(0.1, 0.33)) if hats != "offbeat" and rng.random() < 0.3 else 0.0
    return {"kick": kick, "hats": hats, "swing": swing, "ghosts": bool(rng.random() < 0.3),
            "bass": bool(rng.random() < 0.6), "melody": bool(rng.random() < 0.5),
            "shift": int(rng.integers(BEATS_PER_BAR))}


def synthesize_loop(rng: np.random.Generator, seconds: float, sample_rate: int, min_bpm: float,
                    max_bpm: float) -> Loop:
    """One loop of `seconds` at a tempo drawn from [min_bpm, max_bpm] (rounded to 0.1 BPM), its
    first beat at a random time within the first beat period; hits before it sound as a pickup."""
    bpm = round(float(rng.uniform(min_bpm, max_bpm)), 1)
    period = 60.0 / bpm
    offset = float(rng.uniform(0.0, period))
    n = int(round(seconds * sample_rate))
    beat_times = even_beats(bpm, seconds, offset)
    beats = range(-1, len(beat_times))
    style = _style(rng)
    hits = _drums(rng, sample_rate, beats, style) + _tonal(rng, sample_rate, beats, period, style)
    pad = int(np.ceil(period * sample_rate)) + 1  # room for the pickup beat before time 0
    mix = np.zeros(pad + n + max(len(hit.sound) for hit in hits))
    for hit in hits:
        start = pad + int(round((offset + hit.beat * period) * sample_rate))
        if start < pad + n:
            mix[start:start + len(hit.sound)] += hit.gain * hit.sound
    return Loop(normalise_peak(mix[pad:pad + n]), sample_rate, bpm, beat_times, _caption(style, bpm))
