"""PNG pictures of waveforms' log spectrograms, one panel per named clip."""

from pathlib import Path
from typing import BinaryIO

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402


def log_spectrogram(audio: torch.Tensor, n_fft: int = 1024) -> torch.Tensor:
    """[samples] → dB magnitude [n_fft // 2 + 1, frames]."""
    window = torch.hann_window(n_fft)
    spectrum = torch.stft(audio.float().cpu(), n_fft, hop_length=n_fft // 4, window=window, return_complex=True)
    return 20 * torch.log10(spectrum.abs() + 1e-5)


def save_spectrograms(path: Path | BinaryIO, clips: dict[str, torch.Tensor], sample_rate: int,
                      max_hz: float | None = None) -> Path | BinaryIO:
    """One panel per clip (title = name), frequency axis in Hz up to `max_hz` (default: Nyquist), written as a PNG
    to `path` (a file or a binary stream); returns `path`."""
    figure, axes = plt.subplots(len(clips), 1, figsize=(8, 2.2 * len(clips)), squeeze=False)
    for axis, (name, audio) in zip(axes[:, 0], clips.items()):
        image = log_spectrogram(audio.reshape(-1))
        seconds = audio.numel() / sample_rate
        axis.imshow(image.numpy(), origin="lower", aspect="auto", vmin=-100, vmax=20, cmap="magma",
                    extent=(0.0, seconds, 0.0, sample_rate / 2))
        axis.set_title(name)
        axis.set_ylim(0.0, max_hz or sample_rate / 2)
        axis.set_ylabel("Hz")
    axes[-1, 0].set_xlabel("seconds")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path
