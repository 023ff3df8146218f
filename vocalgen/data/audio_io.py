"""Reading audio files of any common format, channel count and sample rate."""

from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from vocalgen.errors import BadAudioFile, ConfigError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")


def audio_files(path: str | Path, key: str = "input") -> list[Path]:
    """`path` itself, or the audio files of folder `path` (sorted); ConfigError naming the config
    `key` if there are none."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"{key}={path} does not exist; give an audio file or a folder of them.")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise ConfigError(f"{key}={path} holds no audio files ({', '.join(AUDIO_EXTENSIONS)}).")
    return files


def read_audio(path: str | Path, sample_rate: int) -> torch.Tensor:
    """Read `path`, downmix to mono and resample to `sample_rate`.

    Returns a float32 tensor [samples]. Raises BadAudioFile naming the file when it is missing,
    empty, unreadable, or holds non-finite samples.
    """
    path = Path(path)
    if not path.is_file():
        raise BadAudioFile(f"{path}: no such audio file. Check the data root and the file lists.")
    try:
        samples, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as error:  # soundfile raises several types for corrupt / unknown formats
        raise BadAudioFile(f"{path}: not a readable audio file ({error}). Replace or remove it.") from error
    if samples.shape[0] == 0:
        raise BadAudioFile(f"{path}: the file holds no samples. Replace or remove it.")
    if not np.isfinite(samples).all():
        raise BadAudioFile(f"{path}: the file holds NaN or infinite samples. Replace or remove it.")
    mono = torch.from_numpy(samples.mean(axis=1))
    if file_rate != sample_rate:
        mono = AF.resample(mono, file_rate, sample_rate)
    return mono


def fit_length(audio: torch.Tensor, length: int) -> torch.Tensor:
    """Zero-pad or cut the last axis of `audio` [..., samples] to `length` samples."""
    excess = audio.shape[-1] - length
    if excess >= 0:
        return audio[..., :length]
    return torch.nn.functional.pad(audio, (0, -excess))


def random_window(audio: torch.Tensor, length: int | None, step: int = 1) -> torch.Tensor:
    """A random `length`-sample window of audio [..., N] starting at a multiple of `step` (all of it
    when `length` is None or not shorter): autoencoders and vocoders train on short windows."""
    if length is None or audio.shape[-1] <= length:
        return audio
    start = int(torch.randint(0, (audio.shape[-1] - length) // step + 1, ())) * step
    return audio[..., start : start + length]


def write_audio(path: str | Path, audio: torch.Tensor, sample_rate: int) -> Path:
    """Write a mono waveform [samples] (or [1, samples]) as 16-bit wav; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = audio.detach().float().cpu().reshape(-1).clamp(-1.0, 1.0).numpy()
    sf.write(str(path), samples, sample_rate, subtype="PCM_16")
    return path
