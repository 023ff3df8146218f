"""A clip's register — the octave its pitch lies in — predicted once for the whole clip: a decoder guided by a vocal
imitation gets the chroma from the imitation, which is sung in the imitator's own register, and must choose the
octave itself; one choice per clip is easier to learn than one per frame."""

import torch
from torch import nn

from vocalgen.generators.clip_context import clip_summary
from vocalgen.generators.pitch_grid import PitchGrid
from vocalgen.generators.pitch_smoothing import clip_register


class RegisterHead(nn.Module):
    """Decoder features [B, T, dim] → logits [B, classes] over the PitchGrid's classes for the clip's register
    (clip_register of its pitch; class 0: no voiced frame), from the features' mean and maximum over time
    (clip_summary)."""

    def __init__(self, dim: int, grid: PitchGrid) -> None:
        super().__init__()
        self.grid = grid
        self.project = nn.Linear(2 * dim, grid.classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.project(clip_summary(features))

    def target(self, f0: torch.Tensor) -> torch.Tensor:
        """f0 [B, T] in Hz → the register's class [B] (long), what forward's logits are trained towards."""
        return self.grid.classify(clip_register(f0))

    def pitch(self, logits: torch.Tensor) -> torch.Tensor:
        """logits [B, classes] → the register in Hz [B] (PitchGrid.decode; 0 where "no voiced frame" wins)."""
        return self.grid.decode(logits.float())
