"""The "generator" of a stage that trains only an adapter whose outputs are the loss's inputs."""

from typing import Any

import torch

from vocalgen.interfaces import Batch, Condition, Generator, Outputs


class PassThrough(Generator):
    """Adds nothing: training_forward → {} (the loss reads the adapter's outputs, e.g. CLAP2Diffusion's projector:
    "query", "key", "entropy"); generate(condition) → the condition itself (e.g. audio tokens [B, N, D]).

    It has no parameters and makes no output file kind (`output` is None, like a retrieval head's). It reads
    nothing of the batch, so data.cache can store the (frozen) encoder's outputs and training skips the encoder.
    """

    reads_batch = False

    def training_forward(self, batch: Batch, condition: Condition) -> Outputs:
        return {}

    def generate(self, condition: torch.Tensor, **sampling: Any) -> torch.Tensor:
        return condition
