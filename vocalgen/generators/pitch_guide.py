"""A pitch contour given with the condition (e.g. the imitation's own f0), turned into decoder frames."""

import math

import torch
from torch import nn

from vocalgen.errors import ConfigError
from vocalgen.generators.pitch_grid import PitchGrid

OCTAVE_HARMONICS = 8   # Fourier periods of one octave / m, m = 1…8: the pitch's chroma, alike in every octave
REGISTER_OCTAVES = 4   # and of 2, 4, 8, 16 octaves: its register
CHROMA_SHARPNESS = 20.0  # the chroma prior's κ: half its height one grid bin away, 7 % two bins away


def fourier_pitch_features(classes: int, bins_per_octave: int, channels: int) -> torch.Tensor:
    """[classes, channels]: row j ≥ 1 (the pitch j − 1 bins above the grid's lowest) holds sin and cos of its
    position over the periods of OCTAVE_HARMONICS and REGISTER_OCTAVES (the octave's first, then alternating with
    the registers', as many as channels // 2 allow), the other channels 0; row 0 ("unvoiced") is 0. Pitches an
    octave apart agree on every chroma channel, so a linear read-out can keep a pitch's chroma while the rest of
    the network picks the octave."""
    chroma = [bins_per_octave / m for m in range(1, OCTAVE_HARMONICS + 1)]
    register = [bins_per_octave * 2.0**k for k in range(1, REGISTER_OCTAVES + 1)]
    periods = [p for pair in zip(chroma, register + [None] * len(chroma)) for p in pair if p is not None]
    periods = periods[: channels // 2]
    angles = 2 * math.pi * torch.arange(classes - 1, dtype=torch.float32).unsqueeze(1) / torch.tensor(periods)
    features = torch.zeros(classes, channels)
    features[1:, : 2 * len(periods)] = torch.cat([angles.sin(), angles.cos()], dim=1)
    return features


class PitchGuide(nn.Module):
    """f0 [B, T_in] in Hz (0 where unvoiced), frames centred at i · hop at the decoder's sample rate → a learned
    embedding of its pitch class per frame [B, channels, frames], to add to a decoder's input frames.

    `grid` maps Hz to classes (PitchGrid.classify: 0 unvoiced, then the grid's pitches); the guide's first
    `frames` frames are used (a longer query, e.g. a 4-s imitation for a 2.68-s sound, is cut), so the guide must
    be tracked at the decoder's sample rate and hop. The embedding starts as fourier_pitch_features (trainable),
    so the pitch is in the frames from the first step: from zero, Adam moves an entry by about the learning rate a
    step (≈ 0.14 over a CPU run's 176 steps). In single runs the two starts scored alike
    (experiments/qvae/README.md); what moved the pitch was the chroma prior.

    `chroma_prior`: a vocal imitation carries a sound's pitch contour but in the imitator's own register, so the
    guide also gives a prior over the decoder's pitch classes that favours the guide's chroma in every octave
    (chroma_logits), leaving the octave to the decoder; 0 turns it off. `neutral_voicing`: the prior raises the
    "unvoiced" class as much as the guide's chroma, so it says which pitch if the frame is voiced, not whether
    (a tracker that gives every loud frame a pitch, noise too, would otherwise push noise towards harmonics).
    """

    def __init__(self, grid: PitchGrid, channels: int, frames: int, name: str, chroma_prior: float = 0.0,
                 neutral_voicing: bool = False) -> None:
        super().__init__()
        self.grid, self.frames, self.name = grid, frames, name
        classes, bins_per_octave = grid.classes, grid.bins_per_octave
        self.embedding = nn.Embedding.from_pretrained(fourier_pitch_features(classes, bins_per_octave, channels),
                                                      freeze=False)
        self.chroma_prior = chroma_prior
        offsets = torch.arange(classes).view(-1, 1) - torch.arange(classes).view(1, -1)     # [guide, class]
        kernel = torch.exp(CHROMA_SHARPNESS * (torch.cos(2 * math.pi * offsets / bins_per_octave) - 1))
        kernel[:, 0] = 1.0 if neutral_voicing else 0.0   # "unvoiced" raised like the chroma, or not at all
        kernel[0, :] = 0.0   # an unvoiced guide frame says nothing
        self.register_buffer("kernel", kernel, persistent=False)

    def guide_classes(self, f0: torch.Tensor) -> torch.Tensor:
        """f0 [B, T_in] in Hz → the pitch classes of its first `frames` frames [B, frames] (long)."""
        if f0.shape[-1] < self.frames:
            raise ConfigError(f"the pitch guide '{self.name}' has {f0.shape[-1]} frames; the decoder needs at least "
                              f"{self.frames}: track it at the decoder's sample rate and hop over at least the "
                              "output's length.")
        return self.grid.classify(f0[..., : self.frames])

    def forward(self, f0: torch.Tensor) -> torch.Tensor:
        """f0 [B, T_in] in Hz → embedded pitch classes [B, channels, frames]."""
        return self.embedding(self.guide_classes(f0)).transpose(1, 2)

    def chroma_logits(self, f0: torch.Tensor) -> torch.Tensor:
        """f0 [B, T_in] in Hz → a prior to add to the pitch logits [B, frames, classes]: chroma_prior ·
        exp(κ (cos(2π Δ / bins_per_octave) − 1)), Δ the class's distance in bins from the guide's pitch; for the
        "unvoiced" class chroma_prior with neutral_voicing, else 0; 0 everywhere where the guide is unvoiced."""
        return self.chroma_prior * self.kernel[self.guide_classes(f0)]
