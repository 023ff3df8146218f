"""Tempo of generated audio and how often it matches the requested BPM (MIREX-style Acc1 / Acc2)."""

from collections.abc import Callable, Sequence

import librosa
import numpy as np
import torch

from vocalgen.data.beats import ANALYSIS_RATE, HOP_LENGTH, onset_envelope
from vocalgen.errors import ConfigError

MIN_TEMPO, MAX_TEMPO = 60.0, 200.0  # the range estimate_tempo answers in
PRIOR_CENTRE, PRIOR_OCTAVES = 120.0, 1.0  # log-normal preference among the periodicities in range
TOLERANCE = 0.04  # Acc1 / Acc2 tolerance, relative to the (multiplied) requested tempo
OCTAVE_FACTORS = (1.0, 2.0, 3.0, 1 / 2, 1 / 3)  # Acc2's accepted metrical levels
ESTIMATORS = ("librosa", "madmom")


class TempoPrior:
    """log p(bpm): a log-normal centred on PRIOR_CENTRE (PRIOR_OCTAVES octaves wide) cut to
    [MIN_TEMPO, MAX_TEMPO]. Duck-types the `logpdf` of a scipy distribution for librosa."""

    def logpdf(self, bpm: np.ndarray) -> np.ndarray:
        inside = (bpm >= MIN_TEMPO) & (bpm <= MAX_TEMPO)
        octaves = np.log2(np.maximum(bpm, 1e-9) / PRIOR_CENTRE) / PRIOR_OCTAVES
        return np.where(inside, -0.5 * octaves**2, -np.inf)


def estimate_tempo(audio: np.ndarray | torch.Tensor, sample_rate: int) -> float:
    """The global tempo in BPM of mono audio [samples] (or [1, samples]) at `sample_rate`.

    librosa's onset-strength envelope (at 22 050 Hz, hop 128: 1 % resolution at 120 BPM) is
    autocorrelated over 8-s windows and averaged; the strongest periodicity wins after weighting by
    TempoPrior, so the answer lies in [60, 200] BPM and, between metrical levels of similar strength,
    prefers the one nearest 120 BPM (as human tappers do). Half/double-tempo answers remain possible:
    Acc2 of tempo_accuracy forgives them.
    """
    envelope = onset_envelope(audio, sample_rate)
    tempo = librosa.feature.tempo(onset_envelope=envelope, sr=ANALYSIS_RATE, hop_length=HOP_LENGTH,
                                  prior=TempoPrior(), max_tempo=None)
    return float(tempo.item())


def tempo_estimator(name: str) -> Callable[[np.ndarray | torch.Tensor, int], float]:
    """The tempo estimator called `name`: "librosa" (estimate_tempo, the default) or "madmom" (its RNN beat
    tracker: an optional extra with non-commercial models, vocalgen.metrics.madmom_tempo)."""
    if name == "librosa":
        return estimate_tempo
    if name == "madmom":
        from vocalgen.metrics.madmom_tempo import estimate_tempo_madmom, import_madmom

        import_madmom()  # not installed: say so now, before any loop is generated
        return estimate_tempo_madmom
    raise ConfigError(f"estimator={name!r}: choose one of {list(ESTIMATORS)}.")


def tempo_accuracy(estimated: Sequence[float], requested: Sequence[float]) -> dict[str, float]:
    """{"acc1": fraction of estimates within 4 % of the requested BPM, "acc2": within 4 % of the
    requested BPM times 1, 2, 3, 1/2 or 1/3}; both in [0, 1]."""
    estimate = np.asarray(estimated, dtype=np.float64).reshape(-1)
    target = np.asarray(requested, dtype=np.float64).reshape(-1)
    if estimate.shape != target.shape or not len(target):
        raise ValueError(f"need as many estimates as requested tempi (at least one): "
                         f"got {len(estimate)} and {len(target)}")
    if not (np.isfinite(target) & (target > 0)).all():
        raise ValueError(f"requested tempi must be positive BPM, got {target.tolist()}")
    levels = target[:, None] * np.array(OCTAVE_FACTORS)[None, :]
    within = np.abs(estimate[:, None] - levels) <= TOLERANCE * levels
    return {"acc1": float(within[:, 0].mean()), "acc2": float(within.any(axis=1).mean())}


def tempo_error(estimated: Sequence[float], requested: Sequence[float]) -> float:
    """The median of |estimate − request| / request over the pairs (the lower middle value for an even count)."""
    estimate = torch.tensor(estimated, dtype=torch.float64)
    target = torch.tensor(requested, dtype=torch.float64)
    return float(((estimate - target).abs() / target).median())
