"""The HiFi-GAN vocoder (`+experiment=vocoder`): AudioLDM log-mel → 16 kHz waveform."""

import math
from collections.abc import Sequence

import torch

from vocalgen.data.audioldm_mel import AudioLDMMel
from vocalgen.errors import ConfigError
from vocalgen.generators.mel_vocoder import MelVocoder


class HifiGanVocoder(MelVocoder):
    """A HiFi-GAN generator (transformers' SpeechT5HifiGan, built from these arguments) on the
    mels of `frontend` (see MelVocoder). The upsampling rates must multiply to the mel hop; kernel
    sizes that are not a multiple of their rate add a few samples, which `vocode` cuts."""

    def __init__(self, frontend: AudioLDMMel, upsample_rates: Sequence[int] = (5, 4, 2, 2, 2),
                 upsample_kernel_sizes: Sequence[int] = (16, 16, 8, 4, 4), upsample_initial_channel: int = 1024,
                 resblock_kernel_sizes: Sequence[int] = (3, 7, 11),
                 resblock_dilation_sizes: Sequence[Sequence[int]] = ((1, 3, 5), (1, 3, 5), (1, 3, 5)),
                 audio_field: str = "audio_16k", segment: int | None = None) -> None:
        super().__init__(frontend, audio_field, segment)
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

    def waveform(self, mel: torch.Tensor) -> torch.Tensor:
        return self.network(mel)
