"""HiFi-GAN's multi-period discriminator (Kong et al. 2020, §2.2): one 2-D CNN per period p sees the
waveform folded into p columns, so each looks at samples p apart (periodic structure)."""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from vocalgen.discriminators.shapes import check_mono_audio, gather, run_stack
from vocalgen.interfaces import Discriminator


class PeriodDiscriminator(nn.Module):
    """audio [B, 1, N] → (logits [B, L], feature maps [B, C_i, H_i, p] of every layer, logits map last).

    The signal is reflect-padded to a multiple of `period` and reshaped to [B, 1, N/p, p]. Every conv
    but the last of `channels` strides (stride, 1) along the folded time axis; all use kernels
    (kernel_size, 1), so the p columns never mix until the output.
    """

    def __init__(self, period: int, channels: Sequence[int] = (32, 128, 512, 1024, 1024),
                 kernel_size: int = 5, stride: int = 3) -> None:
        super().__init__()
        if period < 1:
            raise ValueError(f"discriminator period={period}: give a period ≥ 1.")
        if not channels:
            raise ValueError("discriminator channels=[]: give at least one width.")
        self.period = period
        widths = [1, *channels]
        pad = (kernel_size - 1) // 2
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(c_in, c_out, (kernel_size, 1), (stride if i < len(channels) - 1 else 1, 1),
                                  padding=(pad, 0)))
            for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:]))
        )
        self.post = weight_norm(nn.Conv2d(widths[-1], 1, (3, 1), padding=(1, 0)))

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        batch, _, length = audio.shape
        remainder = length % self.period
        if remainder:
            audio = F.pad(audio, (0, self.period - remainder), mode="reflect")
        x = audio.reshape(batch, 1, -1, self.period)
        return run_stack(self.convs, self.post, x)


class MultiPeriodDiscriminator(Discriminator):
    """audio [B, 1, N] → one (logits [B, L_p], feature maps) pair per period in `periods`.

    `channels` are the conv widths of each period's stack (HiFi-GAN: 32, 128, 512, 1024, 1024).
    """

    def __init__(self, periods: Sequence[int] = (2, 3, 5, 7, 11),
                 channels: Sequence[int] = (32, 128, 512, 1024, 1024),
                 kernel_size: int = 5, stride: int = 3) -> None:
        super().__init__()
        if not periods:
            raise ValueError("discriminator periods=[]: give at least one period, e.g. [2, 3, 5, 7, 11].")
        self.discriminators = nn.ModuleList(
            PeriodDiscriminator(p, channels, kernel_size, stride) for p in periods
        )

    def forward(self, audio: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
        check_mono_audio(audio, type(self).__name__)
        return gather(discriminator(audio) for discriminator in self.discriminators)
