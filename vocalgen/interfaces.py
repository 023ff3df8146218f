"""The small typed interfaces of each part kind (docs/design.md, "How data flows").

A batch is a dict of named fields (e.g. "imitation" [B, 1, F, T], "audio" [B, 1, N], "caption"
list[str]). Parts are plain nn.Modules built by Hydra and injected into VocalGenModule.
"""

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn

from vocalgen.outputs import AudioOutput, OutputKind

Batch = dict[str, Any]
Outputs = dict[str, torch.Tensor]
# What an encoder hands on: one embedding [B, D] or tokens [B, N, D], or named conditions for
# generators with several (e.g. {"beat_phase": [B, T], "clap": [B, 512]}).
Condition = torch.Tensor | dict[str, torch.Tensor]


class Encoder(nn.Module, ABC):
    """batch → condition: an embedding [B, out_dim] (or tokens [B, N, out_dim], or named conditions)."""

    out_dim: int

    @abstractmethod
    def forward(self, batch: Batch) -> Condition: ...


class Adapter(nn.Module, ABC):
    """condition → {"condition": condition in the generator's space, **auxiliary terms for the loss}."""

    @abstractmethod
    def forward(self, condition: Condition) -> dict[str, Any]: ...


class Generator(nn.Module, ABC):
    """Produces the output (audio, latents, images) from a condition. `output` says what
    `generate` makes and how it is written; audio generators give their `sample_rate`.
    `reads_batch`: whether training_forward reads the batch's fields (its targets); one that does not
    (a stage that trains an adapter alone) lets data.cache store the encoder's output alone."""

    sample_rate: int = 0
    reads_batch: bool = True

    @property
    def output(self) -> OutputKind | None:
        """What `generate` makes: audio at `sample_rate` unless a generator says otherwise (e.g.
        ImageOutput); None for a generator of embeddings only (a retrieval head)."""
        return AudioOutput(self.sample_rate) if self.sample_rate else None

    @abstractmethod
    def training_forward(self, batch: Batch, condition: Condition) -> Outputs:
        """Predictions and targets for the loss, e.g. {"prediction": [B, 1, N], "target": [B, 1, N]}."""

    @abstractmethod
    def generate(self, condition: Condition, **sampling: Any) -> torch.Tensor:
        """condition [B, D] (or named conditions) → a batch of `output` items, e.g. audio [B, 1, N] at
        `sample_rate` or images [B, 3, H, W] in [-1, 1]."""


class Loss(nn.Module, ABC):
    """outputs (adapter and generator outputs merged) → named terms; "loss" is the total."""

    @abstractmethod
    def forward(self, outputs: Outputs, step: int) -> Outputs: ...


class Pretransform(nn.Module, ABC):
    """A frozen autoencoder whose latents a generator works in (mel VAE + vocoder, EnCodec).

    `fingerprint` identifies the weights (a latent cache built by other weights is refused).
    """

    sample_rate: int        # of the audio it encodes and decodes
    latent_channels: int

    @abstractmethod
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] at `sample_rate` → latents [B, C, …] (e.g. [B, 8, T/4, 16] or [B, 128, T])."""

    @abstractmethod
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """latents [B, C, …] → audio [B, 1, N] at `sample_rate`."""

    @property
    @abstractmethod
    def fingerprint(self) -> str: ...

    @property
    def output(self) -> OutputKind:
        """What `decode` makes: audio at `sample_rate` unless a pretransform says otherwise (images)."""
        return AudioOutput(self.sample_rate)


class Discriminator(nn.Module, ABC):
    """audio [B, 1, N] → (logits of each sub-discriminator, feature maps of each sub-discriminator)."""

    @abstractmethod
    def forward(self, audio: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]: ...
