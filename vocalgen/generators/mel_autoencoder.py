"""Training the mel VAE (`+experiment=mel_vae`): audio → log-mel → posterior → reconstruction."""

from typing import Any

import torch
from torch import nn

from vocalgen.data.audioldm_mel import AudioLDMMel
from vocalgen.interfaces import Batch, Generator, Outputs
from vocalgen.pretransforms.griffin_lim import GriffinLimVocoder
from vocalgen.pretransforms.kl_autoencoder import sample_posterior
from vocalgen.pretransforms.mel_vae import MelVAE


class MelVAEAutoencoder(Generator):
    """batch[audio_field] [B, 1, N] at frontend.sample_rate → {"prediction": reconstructed log-mel,
    "target": log-mel (both [B, 1, T, F], T cut to a multiple of the VAE's downsampling),
    "mu", "logvar": the posterior [B, C, T/d, F/d]}. Training samples z = μ + σ·ε, evaluation uses μ.

    `generate(audio [B, 1, N])` → the reconstruction as audio [B, 1, T · hop] through `vocoder`
    (any module with `vocode(mel [B, T, F])`; Griffin-Lim when None).
    """

    def __init__(self, vae: MelVAE, frontend: AudioLDMMel, audio_field: str = "audio_16k",
                 vocoder: nn.Module | None = None) -> None:
        super().__init__()
        self.vae = vae
        self.frontend = frontend
        self.audio_field = self.target_field = audio_field
        self.sample_rate = frontend.sample_rate
        self.vocoder = vocoder if vocoder is not None else GriffinLimVocoder(frontend)

    def mel(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] → log-mel [B, 1, T, F], T a multiple of the VAE's downsampling."""
        mel = self.frontend(audio)
        return mel[..., : mel.shape[-2] - mel.shape[-2] % self.vae.downsampling, :]

    def training_forward(self, batch: Batch, condition: torch.Tensor) -> Outputs:
        mel = self.mel(batch[self.audio_field])
        mu, logvar = self.vae.posterior(mel)
        z = sample_posterior(mu, logvar, self.training)
        return {"prediction": self.vae.decode(z), "target": mel, "mu": mu, "logvar": logvar}

    def generate(self, condition: torch.Tensor, **sampling: Any) -> torch.Tensor:
        mu, _ = self.vae.posterior(self.mel(condition))
        return self.vocoder.vocode(self.vae.decode(mu)[:, 0])
