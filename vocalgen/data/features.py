"""The QVIM log-mel front-end (docs/recipes.md, "Shared audio front-ends")."""

import torch
import torchaudio
from torch import nn


class LogMelFrontEnd(nn.Module):
    """Waveform [..., samples] at `sample_rate` → normalised log-mel [..., n_mels, frames].

    Pre-emphasis, STFT, mel filterbank, log(mel + 1e-5), then (x + 4.5) / 5. With the recipe's
    defaults a 10 s clip at 32 kHz gives [128, 1001].
    """

    def __init__(
        self,
        sample_rate: int = 32000,
        n_fft: int = 1024,
        win_length: int = 800,
        hop_length: int = 320,
        n_mels: int = 128,
        f_min: float = 0.0,
        f_max: float | None = 15000.0,
        preemphasis: float = 0.97,
    ) -> None:
        super().__init__()
        self.settings = dict(sample_rate=sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length,
                             n_mels=n_mels, f_min=f_min, f_max=f_max, preemphasis=preemphasis)
        self.sample_rate = sample_rate
        self.n_mels = n_mels
        self.preemphasis = preemphasis
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate,
            n_fft=n_fft,
            win_length=win_length,
            hop_length=hop_length,
            n_mels=n_mels,
            f_min=f_min,
            f_max=f_max,
            power=2.0,
            center=True,
        )

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        emphasised = torch.cat(
            [audio[..., :1], audio[..., 1:] - self.preemphasis * audio[..., :-1]], dim=-1
        )
        return (torch.log(self.mel(emphasised) + 1e-5) + 4.5) / 5.0

    def frames(self, samples: int) -> int:
        """Number of frames produced for a clip of `samples` samples."""
        return samples // self.mel.hop_length + 1
