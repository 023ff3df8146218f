"""MelGAN / HiFi-GAN's multi-scale discriminator (Kumar et al. 2019; Kong et al. 2020, §2.3): identical
grouped 1-D CNNs on the raw waveform and on copies average-pooled ×2 and ×4."""

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from vocalgen.discriminators.shapes import check_mono_audio, gather, run_stack
from vocalgen.interfaces import Discriminator

# HiFi-GAN's stack: (width, kernel, stride, groups) per conv.
CHANNELS = (128, 128, 256, 512, 1024, 1024, 1024)
KERNELS = (15, 41, 41, 41, 41, 41, 5)
STRIDES = (1, 2, 2, 4, 4, 1, 1)
GROUPS = (1, 4, 16, 16, 16, 16, 1)


class ScaleDiscriminator(nn.Module):
    """audio [B, 1, N] → (logits [B, L], feature maps [B, C_i, N_i] of every layer, logits map last)."""

    def __init__(self, channels: Sequence[int] = CHANNELS, kernels: Sequence[int] = KERNELS,
                 strides: Sequence[int] = STRIDES, groups: Sequence[int] = GROUPS,
                 use_spectral_norm: bool = False) -> None:
        super().__init__()
        lengths = {len(channels), len(kernels), len(strides), len(groups)}
        if len(lengths) != 1 or not channels:
            raise ValueError(f"discriminator: channels {list(channels)}, kernels {list(kernels)}, strides "
                             f"{list(strides)} and groups {list(groups)} must be non-empty and of one length.")
        norm = spectral_norm if use_spectral_norm else weight_norm
        widths = [1, *channels]
        convs = []
        for c_in, c_out, k, s, g in zip(widths[:-1], widths[1:], kernels, strides, groups):
            if c_in % g or c_out % g:
                raise ValueError(f"discriminator: groups={g} must divide both widths {c_in} → {c_out}; "
                                 "change `groups` or `channels`.")
            convs.append(norm(nn.Conv1d(c_in, c_out, k, s, padding=(k - 1) // 2, groups=g)))
        self.convs = nn.ModuleList(convs)
        self.post = norm(nn.Conv1d(widths[-1], 1, 3, padding=1))

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = audio
        return run_stack(self.convs, self.post, x)


class MultiScaleDiscriminator(Discriminator):
    """audio [B, 1, N] → one (logits, feature maps) pair per scale: raw, pooled ×2, ×4, …

    Each further scale average-pools the previous one (kernel 4, stride 2, padding 2). The conv stacks
    share the shape given by `channels`, `kernels`, `strides`, `groups` (defaults: HiFi-GAN's; every
    group count must divide its in- and out-width). `spectral_norm_first` puts spectral instead of
    weight norm on the raw-scale stack, as HiFi-GAN does.
    """

    def __init__(self, scales: int = 3, channels: Sequence[int] = CHANNELS, kernels: Sequence[int] = KERNELS,
                 strides: Sequence[int] = STRIDES, groups: Sequence[int] = GROUPS,
                 spectral_norm_first: bool = False) -> None:
        super().__init__()
        if scales < 1:
            raise ValueError(f"discriminator scales={scales}: give at least 1.")
        self.discriminators = nn.ModuleList(
            ScaleDiscriminator(channels, kernels, strides, groups, use_spectral_norm=spectral_norm_first and i == 0)
            for i in range(scales)
        )
        self.pool = nn.AvgPool1d(4, stride=2, padding=2)

    def forward(self, audio: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
        check_mono_audio(audio, type(self).__name__)
        scales = [audio]
        for _ in self.discriminators[1:]:
            scales.append(self.pool(scales[-1]))
        return gather(discriminator(x) for discriminator, x in zip(self.discriminators, scales))
