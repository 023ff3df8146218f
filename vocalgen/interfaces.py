"""The small typed interfaces of each part kind (DESIGN.md, "How data flows").

A batch is a dict of named fields (e.g. "imitation" [B, 1, F, T], "audio" [B, 1, N], "caption"
list[str]). Parts are plain nn.Modules built by Hydra and injected into VocalGenModule.
"""

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn

Batch = dict[str, Any]
Outputs = dict[str, torch.Tensor]


class Encoder(nn.Module, ABC):
    """batch → condition: an embedding [B, out_dim] (or tokens [B, N, out_dim])."""

    out_dim: int

    @abstractmethod
    def forward(self, batch: Batch) -> torch.Tensor: ...


class Adapter(nn.Module, ABC):
    """condition → {"condition": condition in the generator's space, **auxiliary terms for the loss}."""

    @abstractmethod
    def forward(self, condition: torch.Tensor) -> Outputs: ...


class Generator(nn.Module, ABC):
    """Produces the output (audio, latents, images) from a condition."""

    sample_rate: int

    @abstractmethod
    def training_forward(self, batch: Batch, condition: torch.Tensor) -> Outputs:
        """Predictions and targets for the loss, e.g. {"prediction": [B, 1, N], "target": [B, 1, N]}."""

    @abstractmethod
    def generate(self, condition: torch.Tensor, **sampling: Any) -> torch.Tensor:
        """condition [B, D] → output, e.g. audio [B, 1, N] at `sample_rate`."""


class Loss(nn.Module, ABC):
    """outputs (adapter and generator outputs merged) → named terms; "loss" is the total."""

    @abstractmethod
    def forward(self, outputs: Outputs, step: int) -> Outputs: ...
