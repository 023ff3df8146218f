"""Griffin-Lim phase reconstruction: a vocoder that needs no training (a rough fallback)."""

import torch
import torchaudio
from torch import nn

from vocalgen.data.audioldm_mel import AudioLDMMel


class GriffinLimVocoder(nn.Module):
    """log-mel [B, T, F] of `frontend` → audio [B, 1, T · hop]: inverse mel scale then `iterations`
    of Griffin-Lim. Blurry but audible; the mel VAE uses it when no trained vocoder is given."""

    def __init__(self, frontend: AudioLDMMel, iterations: int = 32) -> None:
        super().__init__()
        settings = frontend.settings
        self.hop_length = settings["hop_length"]
        self.inverse_mel = torchaudio.transforms.InverseMelScale(
            n_stft=settings["n_fft"] // 2 + 1, n_mels=settings["n_mels"], sample_rate=settings["sample_rate"],
            f_min=settings["f_min"], f_max=settings["f_max"], norm="slaney", mel_scale="slaney",
        )
        self.griffin_lim = torchaudio.transforms.GriffinLim(
            n_fft=settings["n_fft"], win_length=settings["win_length"], hop_length=self.hop_length, power=1.0,
            n_iter=iterations,
        )

    @torch.no_grad()
    def vocode(self, mel: torch.Tensor) -> torch.Tensor:
        magnitude = self.inverse_mel(mel.float().exp().transpose(-1, -2)).clamp(min=0)
        audio = self.griffin_lim(magnitude)
        return audio[..., : mel.shape[-2] * self.hop_length].unsqueeze(1)
