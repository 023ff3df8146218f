"""The frozen pretransform of latent audio diffusion: AudioLDM mel → mel VAE latents, and back
through the VAE decoder and a vocoder."""

import torch
from torch import nn

from vocalgen.fingerprint import weights_fingerprint
from vocalgen.generators.mel_autoencoder import MelVAEAutoencoder
from vocalgen.interfaces import Pretransform


class MelLatentPretransform(Pretransform):
    """audio [B, 1, N] ↔ latents [B, C, T/d, F/d] through a trained mel VAE (`autoencoder`, the
    generator of a mel_vae checkpoint) and a trained vocoder (the generator of a vocoder checkpoint;
    None: the autoencoder's own, Griffin-Lim unless it was given one). Frozen and always in eval mode.
    Encoding takes the posterior mean."""

    def __init__(self, autoencoder: MelVAEAutoencoder, vocoder: nn.Module | None = None) -> None:
        super().__init__()
        self.autoencoder = autoencoder
        self.vocoder = vocoder
        self.sample_rate = autoencoder.sample_rate
        self.latent_channels = autoencoder.vae.latent_channels
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "MelLatentPretransform":
        return super().train(False)

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.vae.posterior(self.autoencoder.mel(audio))[0]

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        mel = self.autoencoder.vae.decode(latents)[:, 0]
        return (self.vocoder or self.autoencoder.vocoder).vocode(mel)

    @property
    def fingerprint(self) -> str:
        return weights_fingerprint(self)
