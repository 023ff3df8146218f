"""The HiFi-GAN vocoder (`+experiment=vocoder`): AudioLDM log-mel → 16 kHz waveform."""

import math
from collections.abc import Sequence
from typing import Any

import torch

from vocalgen.data.audio_io import fit_length, random_window
from vocalgen.data.audioldm_mel import AudioLDMMel
from vocalgen.errors import ConfigError
from vocalgen.interfaces import Batch, Generator, Outputs


class HifiGanVocoder(Generator):
    """A HiFi-GAN generator (transformers' SpeechT5HifiGan, built from these arguments) on the
    mels of `frontend`. The upsampling rates must multiply to the mel hop.

    training_forward → {"prediction": vocoded [B, 1, T · hop], "target": batch[audio_field] cut to it}
    (in training a random `segment`-sample window of it, when `segment` is set);
    generate(audio [B, 1, N]) → the resynthesis [B, 1, T · hop]; vocode(log-mel [B, T, F]) → [B, 1, T · hop].
    """

    def __init__(self, frontend: AudioLDMMel, upsample_rates: Sequence[int] = (5, 4, 2, 2, 2),
                 upsample_kernel_sizes: Sequence[int] = (16, 16, 8, 4, 4), upsample_initial_channel: int = 1024,
                 resblock_kernel_sizes: Sequence[int] = (3, 7, 11),
                 resblock_dilation_sizes: Sequence[Sequence[int]] = ((1, 3, 5), (1, 3, 5), (1, 3, 5)),
                 audio_field: str = "audio_16k", segment: int | None = None) -> None:
        super().__init__()
        from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig

        if math.prod(upsample_rates) != frontend.hop_length:
            raise ConfigError(f"generator.upsample_rates={list(upsample_rates)} multiply to "
                              f"{math.prod(upsample_rates)}, but the mel hop is {frontend.hop_length}.")
        if upsample_initial_channel < 2 ** len(upsample_rates):
            raise ConfigError(f"generator.upsample_initial_channel={upsample_initial_channel} halves at each of the "
                              f"{len(upsample_rates)} upsampling stages; give at least {2 ** len(upsample_rates)}.")
        config = SpeechT5HifiGanConfig(
            model_in_dim=frontend.n_mels, sampling_rate=frontend.sample_rate, upsample_rates=list(upsample_rates),
            upsample_kernel_sizes=list(upsample_kernel_sizes), upsample_initial_channel=upsample_initial_channel,
            resblock_kernel_sizes=list(resblock_kernel_sizes),
            resblock_dilation_sizes=[list(d) for d in resblock_dilation_sizes], normalize_before=False,
        )
        self.network = SpeechT5HifiGan(config)
        self.frontend = frontend
        self.audio_field = self.target_field = audio_field
        self.sample_rate = frontend.sample_rate
        if segment is not None and segment % frontend.hop_length:
            raise ConfigError(f"generator.segment={segment} must be a multiple of the mel hop {frontend.hop_length}.")
        self.segment = segment

    def vocode(self, mel: torch.Tensor) -> torch.Tensor:
        """log-mel [B, T, F] → audio [B, 1, T · hop] in [-1, 1] (cut or zero-padded to exactly T · hop:
        kernel sizes that are not a multiple of their rate add a few samples)."""
        audio = self.network(mel).unsqueeze(1).clamp(-1.0, 1.0)
        return fit_length(audio, mel.shape[-2] * self.frontend.hop_length)

    def training_forward(self, batch: Batch, condition: torch.Tensor) -> Outputs:
        audio = batch[self.audio_field]
        if self.training:
            audio = random_window(audio, self.segment, self.frontend.hop_length)
        mel = self.frontend(audio)[:, 0]
        prediction = self.vocode(mel)
        return {"prediction": prediction, "target": audio[..., : prediction.shape[-1]]}

    def generate(self, condition: torch.Tensor, **sampling: Any) -> torch.Tensor:
        return self.vocode(self.frontend(condition)[:, 0])
