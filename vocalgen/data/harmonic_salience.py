"""A pitch tracker that reads the harmonic comb instead of the waveform's periodicity: for vocal imitations whose
pitch wobbles (jitter, fast glides), where pYIN's voicing decision drops whole clips although the harmonics are
plain in the spectrogram."""

import librosa
import numpy as np

FRAME_LENGTH = 2048
HARMONICS = 5          # harmonics summed per candidate pitch
HARMONIC_DECAY = 0.8   # the h-th harmonic weighs HARMONIC_DECAY^(h − 1): the true pitch outweighs its sub-octave
GATE_DB = -40.0        # frames quieter than this, relative to the clip's loudest, are unvoiced


def salience_settings(resolution: float) -> str:
    """What a cache of salience tracks must be keyed by (besides rate, hop and range)."""
    return f"salience frame {FRAME_LENGTH} harmonics {HARMONICS} decay {HARMONIC_DECAY} gate {GATE_DB} dB " \
           f"resolution {resolution}"


def harmonic_salience(audio: np.ndarray, sample_rate: int, hop: int, candidates: np.ndarray) -> np.ndarray:
    """audio [N], candidate pitches in Hz [K] → salience [K, 1 + N // hop]: per frame, the weighted sum of the
    square-rooted STFT magnitude at each candidate's first HARMONICS multiples (linearly interpolated between
    bins; multiples above the Nyquist frequency add nothing)."""
    magnitude = np.abs(librosa.stft(audio, n_fft=FRAME_LENGTH, hop_length=hop)) ** 0.5   # [bins, frames]
    salience = np.zeros((len(candidates), magnitude.shape[1]))
    for harmonic in range(1, HARMONICS + 1):
        position = harmonic * candidates * FRAME_LENGTH / sample_rate
        inside = position < magnitude.shape[0] - 1
        below = np.floor(position[inside]).astype(int)
        fraction = (position[inside] - below)[:, None]
        interpolated = (1 - fraction) * magnitude[below] + fraction * magnitude[below + 1]
        salience[inside] += HARMONIC_DECAY ** (harmonic - 1) * interpolated
    return salience


def salience_pitch_track(audio: np.ndarray, sample_rate: int, hop: int, low_hz: float, high_hz: float,
                         resolution: float) -> np.ndarray:
    """audio [N] → f0 in Hz per frame [1 + N // hop] (frames centred at i · hop): the candidate on a grid of
    `resolution` semitones from low_hz to high_hz with the most harmonic salience; NaN where the frame is more than
    GATE_DB below the clip's loudest (or the clip is silent). Every loud frame gets a pitch, noise too: the
    voicing is the loudness gate's, not a periodicity test (what makes it keep jittery glides)."""
    steps = int(np.floor(12 * np.log2(high_hz / low_hz) / resolution)) + 1
    candidates = low_hz * 2 ** (np.arange(steps) * resolution / 12)
    f0 = candidates[harmonic_salience(audio, sample_rate, hop, candidates).argmax(0)]
    rms = librosa.feature.rms(y=audio, frame_length=FRAME_LENGTH, hop_length=hop)[0]
    loud = rms > rms.max() * 10 ** (GATE_DB / 20) if rms.max() > 0 else np.zeros_like(rms, dtype=bool)
    return np.where(loud, f0, np.nan)
