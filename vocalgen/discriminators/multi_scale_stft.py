"""EnCodec's multi-scale STFT discriminator (Défossez et al. 2022, §3.4): one 2-D CNN per STFT
resolution on the complex spectrogram (real and imaginary parts as two channels)."""

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from vocalgen.discriminators.shapes import check_mono_audio, gather, run_stack
from vocalgen.interfaces import Discriminator

LEAK = 0.2


def _same_padding(kernel: tuple[int, int], dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    return ((kernel[0] - 1) * dilation[0] // 2, (kernel[1] - 1) * dilation[1] // 2)


class STFTDiscriminator(nn.Module):
    """audio [B, 1, N] → (logits [B, L], feature maps [B, C_i, frames, F_i] of every layer, logits map last).

    The STFT (Hann window n_fft, hop n_fft // 4, centred, scaled by the window's norm) is laid out as
    [B, 2, frames, n_fft // 2 + 1]. A first conv (kernel `kernel`) widens to `filters`; one conv per
    entry of `dilations` follows, dilated along time and striding 2 along frequency, its width growing
    by `filters_scale` per layer up to `max_filters`; then a (k, k) conv and a (k, k) conv to one
    channel, k = kernel[0].
    """

    def __init__(self, n_fft: int, filters: int = 32, max_filters: int = 1024, filters_scale: int = 1,
                 kernel: tuple[int, int] = (3, 9), dilations: Sequence[int] = (1, 2, 4)) -> None:
        super().__init__()
        if n_fft < 4:
            raise ValueError(f"discriminator n_fft={n_fft}: give a window of at least 4 samples.")
        self.n_fft, self.hop = n_fft, n_fft // 4
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        kernel = (int(kernel[0]), int(kernel[1]))
        convs = [weight_norm(nn.Conv2d(2, filters, kernel, padding=_same_padding(kernel)))]
        width = filters
        for i, dilation in enumerate(dilations):
            out = min(filters * filters_scale ** (i + 1), max_filters)
            convs.append(weight_norm(nn.Conv2d(width, out, kernel, stride=(1, 2), dilation=(dilation, 1),
                                               padding=_same_padding(kernel, (dilation, 1)))))
            width = out
        square = (kernel[0], kernel[0])
        convs.append(weight_norm(nn.Conv2d(width, width, square, padding=_same_padding(square))))
        self.convs = nn.ModuleList(convs)
        self.post = weight_norm(nn.Conv2d(width, 1, square, padding=_same_padding(square)))

    def spectrogram(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] → real and imaginary STFT parts [B, 2, frames, n_fft // 2 + 1].

        Half-precision audio is transformed in float32 (torch.stft has no half kernels on CPU).
        """
        if audio.dtype in (torch.float16, torch.bfloat16):
            audio = audio.float()
        window = self.window.to(audio.dtype)
        spec = torch.stft(audio.squeeze(1), self.n_fft, self.hop, window=window, center=True,
                          pad_mode="reflect", return_complex=True)
        spec = spec / window.pow(2).sum().sqrt()
        return torch.stack([spec.real, spec.imag], dim=1).transpose(2, 3)

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.spectrogram(audio)
        return run_stack(self.convs, self.post, x, LEAK)


class MultiScaleSTFTDiscriminator(Discriminator):
    """audio [B, 1, N] → one (logits, feature maps) pair per window in `n_ffts` (hop n_fft / 4).

    N must exceed n_fft / 2 for the largest window (reflect padding of the centred STFT).
    """

    def __init__(self, n_ffts: Sequence[int] = (1024, 2048, 512), filters: int = 32, max_filters: int = 1024,
                 filters_scale: int = 1, kernel: tuple[int, int] = (3, 9),
                 dilations: Sequence[int] = (1, 2, 4)) -> None:
        super().__init__()
        if not n_ffts:
            raise ValueError("discriminator n_ffts=[]: give at least one window, e.g. [1024, 2048, 512].")
        self.discriminators = nn.ModuleList(
            STFTDiscriminator(n, filters, max_filters, filters_scale, tuple(kernel), dilations) for n in n_ffts
        )

    def forward(self, audio: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
        check_mono_audio(audio, type(self).__name__)
        longest = max(d.n_fft for d in self.discriminators)
        if audio.shape[-1] <= longest // 2:
            raise ValueError(f"{type(self).__name__}: {audio.shape[-1]} samples are too few for n_fft={longest}; "
                             "give longer clips or smaller `n_ffts`.")
        return gather(discriminator(audio) for discriminator in self.discriminators)
