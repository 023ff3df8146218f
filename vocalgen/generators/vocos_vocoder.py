"""A Vocos vocoder (`+experiment=vocos`): AudioLDM log-mel → 16 kHz waveform through a ConvNeXt backbone and an
inverse-STFT head, the `vocos` package's own modules (MIT licence) trained here from scratch (its pretrained
weights are for other mels and cannot be downloaded here anyway)."""

import torch

from vocalgen.data.audioldm_mel import AudioLDMMel
from vocalgen.errors import ConfigError
from vocalgen.generators.mel_vocoder import MelVocoder
from vocalgen.pretransforms.vocos_decoder import istft_synthesis


class VocosVocoder(MelVocoder):
    """log-mel [B, T, F] → ConvNeXt backbone (`num_layers` blocks of width `dim`, `intermediate_dim` inside)
    → per frame the log-magnitude and phase of an `n_fft`-point STFT frame → inverse STFT at the mel's hop
    ("same" padding: T · hop samples). See MelVocoder for training and generation. Every frame is
    synthesised at once (no upsampling stack), which is why it trains and runs much faster than HiFi-GAN."""

    def __init__(self, frontend: AudioLDMMel, dim: int = 512, intermediate_dim: int = 1536, num_layers: int = 8,
                 n_fft: int | None = None, audio_field: str = "audio_16k", segment: int | None = None) -> None:
        super().__init__(frontend, audio_field, segment)
        from vocos.heads import ISTFTHead
        from vocos.models import VocosBackbone

        hop = frontend.hop_length
        n_fft = n_fft or 4 * hop
        if n_fft <= hop or (n_fft - hop) % 2:
            raise ConfigError(f"generator.n_fft={n_fft} must exceed the mel hop {hop} by an even number of samples "
                              "(the inverse STFT's 'same' padding trims (n_fft − hop) / 2 at each end; default "
                              "4 × hop, as Vocos uses).")
        self.backbone = VocosBackbone(input_channels=frontend.n_mels, dim=dim, intermediate_dim=intermediate_dim,
                                      num_layers=num_layers)
        self.head = ISTFTHead(dim=dim, n_fft=n_fft, hop_length=hop, padding="same")

    def waveform(self, mel: torch.Tensor) -> torch.Tensor:
        return istft_synthesis(self.backbone, self.head, mel.transpose(1, 2))
