"""Pitch as classes on a log-frequency grid: what a decoder's pitch head predicts and a pitch guide embeds."""

import math

import torch

DECODE_REACH = 2     # PitchGrid.decode averages the likeliest pitch class with this many neighbours either side


class PitchGrid:
    """Pitch classes: 0 is "unvoiced", class j ≥ 1 the pitch low_hz · 2^((j − 1) / bins_per_octave) up to high_hz."""

    def __init__(self, low_hz: float, high_hz: float, bins_per_octave: int) -> None:
        self.low_hz, self.bins_per_octave = low_hz, bins_per_octave
        self.pitches = math.ceil(bins_per_octave * math.log2(high_hz / low_hz)) + 1
        self.classes = self.pitches + 1

    def classify(self, f0: torch.Tensor) -> torch.Tensor:
        """f0 in Hz [...] (0: unvoiced) → class [...] (long)."""
        position = torch.round(self.bins_per_octave * torch.log2(f0.clamp(min=self.low_hz) / self.low_hz))
        return torch.where(f0 > 0, 1 + position.clamp(0, self.pitches - 1), 0).long()

    def decode(self, logits: torch.Tensor, confidence: float = 0.0, voicing: float = 0.5) -> torch.Tensor:
        """logits [..., classes] → f0 in Hz [...]: 0 where the pitch classes together hold no more than `voicing` of
        the probability (0.5: where "unvoiced" is the likelier half) or where the likeliest pitch and its
        DECODE_REACH neighbours either side hold less than `confidence` of it, else their mean pitch (weighted by
        their probabilities, in octaves)."""
        probabilities = logits.softmax(-1)
        pitched = probabilities[..., 1:]
        best = pitched.argmax(-1, keepdim=True)
        window = best + torch.arange(-DECODE_REACH, DECODE_REACH + 1, device=logits.device)
        inside = (window >= 0) & (window < self.pitches)       # classes past the grid's ends weigh nothing
        weights = pitched.gather(-1, window.clamp(0, self.pitches - 1)) * inside
        position = (weights * window).sum(-1) / weights.sum(-1).clamp(min=1e-12)
        f0 = self.low_hz * 2 ** (position / self.bins_per_octave)
        voiced = (probabilities[..., 0] < 1 - voicing) & (weights.sum(-1) >= confidence)
        return torch.where(voiced, f0, torch.zeros_like(f0))
