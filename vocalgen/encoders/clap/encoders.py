"""CLAP towers as vocalgen Encoders: one batch field → unit-norm embedding [B, joint_dim]."""

from collections.abc import Sequence
from pathlib import Path

import torch

from vocalgen.encoders.clap.audio_tower import ClapAudioTower
from vocalgen.encoders.clap.laion_weights import load_laion_weights
from vocalgen.encoders.clap.text_tower import ClapTextTower
from vocalgen.interfaces import Batch, Encoder


class ClapAudioEncoder(Encoder):
    """batch[field] [B, 1, N] or [B, N] at tower.sample_rate (48 kHz) → embedding [B, out_dim], unit norm.

    `pretrained`: optional local path of a laion CLAP checkpoint; its audio_* weights are loaded.
    """

    def __init__(self, tower: ClapAudioTower, field: str = "audio_48k", pretrained: str | None = None) -> None:
        super().__init__()
        self.tower = tower
        self.field = field
        self.out_dim = tower.joint_dim
        self.sample_rate = tower.sample_rate
        if pretrained:
            load_laion_weights(tower, Path(pretrained))

    def forward(self, batch: Batch) -> torch.Tensor:
        if self.field not in batch:
            raise KeyError(f"ClapAudioEncoder: the batch has no field '{self.field}' (encoder.field); it has "
                           f"{sorted(batch)}.")
        audio = batch[self.field]
        if audio.dim() == 3 and audio.shape[1] == 1:
            audio = audio[:, 0]
        if audio.dim() != 2:
            raise ValueError(f"ClapAudioEncoder: batch['{self.field}'] must be mono audio [B, 1, N] or [B, N] at "
                             f"{self.sample_rate} Hz, got shape {tuple(audio.shape)}.")
        return self.tower.embed(audio)


class ClapTextEncoder(Encoder):
    """batch[field] (B caption strings) → embedding [B, out_dim], unit norm.

    `pretrained`: optional local path of a laion-format checkpoint; its text_* weights are loaded (the
    laion transformer backbone, or a GPT-2 tower saved by vocalgen).
    """

    def __init__(self, tower: ClapTextTower, field: str = "caption", pretrained: str | None = None) -> None:
        super().__init__()
        self.tower = tower
        self.field = field
        self.out_dim = tower.joint_dim
        if pretrained:
            load_laion_weights(tower, Path(pretrained))

    @property
    def is_fitted(self) -> bool:
        """Whether the tower has its tokenizer (see :meth:`fit_to_data`)."""
        return self.tower.is_fitted

    def fit_to_data(self, captions: Sequence[str]) -> None:
        """Learn the GPT-2 tower's tokenizer from the training captions (no-op when it has one)."""
        self.tower.fit_to_data(captions)

    def forward(self, batch: Batch) -> torch.Tensor:
        if self.field not in batch:
            raise KeyError(f"ClapTextEncoder: the batch has no field '{self.field}' (encoder.field); it has "
                           f"{sorted(batch)}.")
        return self.tower.embed(batch[self.field])
