"""The AudioLDM mel front-end (docs/recipes.md, "Shared audio front-ends"), shared by the mel VAE,
the vocoder and the latent diffusion pretransform."""

import torch
import torchaudio
from torch import nn

from vocalgen.errors import ConfigError

LOG_FLOOR = 1e-5


class AudioLDMMel(nn.Module):
    """Waveform [..., N] at `sample_rate` → log-mel [..., frames, n_mels] with frames = N // hop_length.

    Magnitude STFT (Hann window of `win_length`, centred), Slaney mel filterbank, log(max(x, 1e-5)).
    Time comes before frequency, as in AudioLDM: a 10.24 s clip at 16 kHz gives [1024, 64].
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = 1024, win_length: int = 1024, hop_length: int = 160,
                 n_mels: int = 64, f_min: float = 0.0, f_max: float = 8000.0) -> None:
        super().__init__()
        if f_max > sample_rate / 2:
            raise ConfigError(f"mel f_max={f_max} Hz is above the Nyquist frequency of {sample_rate} Hz.")
        self.settings = dict(sample_rate=sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length,
                             n_mels=n_mels, f_min=f_min, f_max=f_max)
        self.sample_rate = sample_rate
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length, n_mels=n_mels,
            f_min=f_min, f_max=f_max, power=1.0, center=True, norm="slaney", mel_scale="slaney",
        )

    def frames(self, samples: int) -> int:
        """Mel frames of a clip of `samples` samples."""
        return samples // self.hop_length

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        frames = self.frames(audio.shape[-1])
        with torch.autocast(audio.device.type, enabled=False):
            magnitude = self.mel(audio.float())[..., :frames]
        return torch.log(magnitude.clamp(min=LOG_FLOOR)).transpose(-1, -2)
