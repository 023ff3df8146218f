"""Train-time augmentation of log-mel batches [B, 1, F, T] (docs/recipes.md, "Shared audio front-ends")."""

import torch
from torch import Tensor, nn


def random_masks(size: int, max_width: int, count: int, batch: int, device: torch.device) -> Tensor:
    """`count` random bands of width 0…max_width along an axis of `size` → bool mask [B, size]."""
    widths = torch.randint(0, max_width + 1, (batch, count, 1)).to(device)
    starts = (torch.rand(batch, count, 1).to(device) * (size - widths + 1)).long()
    positions = torch.arange(size, device=device).view(1, 1, size)
    return ((positions >= starts) & (positions < starts + widths)).any(dim=1)


def freq_mixstyle(x: Tensor, alpha: float, eps: float = 1e-5) -> Tensor:
    """Mix each example's per-frequency statistics with another's: x [B, C, F, T] → same shape.

    Mean and std over (channel, time) per frequency bin, mixed by λ ~ Beta(α, α) (Freq-MixStyle).
    """
    mean = x.mean(dim=(1, 3), keepdim=True)
    std = (x.var(dim=(1, 3), keepdim=True) + eps).sqrt()
    weight = torch.distributions.Beta(alpha, alpha).sample((len(x), 1, 1, 1)).to(x)
    order = torch.randperm(len(x), device=x.device)
    mixed_mean = weight * mean + (1 - weight) * mean[order]
    mixed_std = weight * std + (1 - weight) * std[order]
    return (x - mean) / std * mixed_std + mixed_mean


class SpectrogramAugment(nn.Module):
    """Frequency masks, time masks, a random circular time shift and Freq-MixStyle on [B, C, F, T].

    Active only in training mode; in eval mode the input passes through unchanged. Masked cells
    take the value `fill` (0 is the mean of the normalised log-mel).
    """

    def __init__(self, freq_mask: int = 8, freq_masks: int = 1, time_mask: int = 200, time_masks: int = 1,
                 max_shift: int = 100, mixstyle_p: float = 0.3, mixstyle_alpha: float = 0.4,
                 fill: float = 0.0) -> None:
        super().__init__()
        self.freq_mask, self.freq_masks = freq_mask, freq_masks
        self.time_mask, self.time_masks = time_mask, time_masks
        self.max_shift = max_shift
        self.mixstyle_p, self.mixstyle_alpha = mixstyle_p, mixstyle_alpha
        self.fill = fill

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return x
        batch, _, bins, frames = x.shape
        if self.mixstyle_p > 0 and batch > 1 and torch.rand(()) < self.mixstyle_p:
            x = freq_mixstyle(x, self.mixstyle_alpha)
        if self.max_shift > 0:
            shifts = torch.randint(-self.max_shift, self.max_shift + 1, (batch,)).tolist()
            x = torch.stack([example.roll(shift, dims=-1) for example, shift in zip(x, shifts)])
        freq = random_masks(bins, min(self.freq_mask, bins), self.freq_masks, batch, x.device)
        time = random_masks(frames, min(self.time_mask, frames), self.time_masks, batch, x.device)
        masked = freq.view(batch, 1, bins, 1) | time.view(batch, 1, 1, frames)
        return x.masked_fill(masked, self.fill)
