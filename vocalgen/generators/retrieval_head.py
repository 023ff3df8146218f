"""The retrieval "generator": a second tower embeds the reference; output = a ranked embedding space."""

from typing import Any

import torch
import torch.nn.functional as F

from vocalgen.interfaces import Batch, Encoder, Generator, Outputs


class RetrievalHead(Generator):
    """Pairs the condition (the query tower's embedding [B, D]) with `tower(batch)` [B, D].

    training_forward → {"query": L2(condition) [B, D], "key": L2(tower(batch)) [B, D]};
    generate(condition) → the query embedding [B, D]; embed_keys(batch) → key embeddings [B, D].
    """

    sample_rate = 0

    def __init__(self, tower: Encoder) -> None:
        super().__init__()
        self.tower = tower
        self.out_dim = tower.out_dim

    def embed_keys(self, batch: Batch) -> torch.Tensor:
        return F.normalize(self.tower(batch), dim=-1)

    def training_forward(self, batch: Batch, condition: torch.Tensor) -> Outputs:
        return {"query": F.normalize(condition, dim=-1), "key": self.embed_keys(batch)}

    def generate(self, condition: torch.Tensor, **sampling: Any) -> torch.Tensor:
        return F.normalize(condition, dim=-1)
