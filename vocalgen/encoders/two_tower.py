"""Both towers of a trained two-tower retrieval model (QVIM) as one encoder."""

import torch
import torch.nn.functional as F

from vocalgen.interfaces import Batch, Encoder


class TwoTowerEncoder(Encoder):
    """batch → tokens [B, 2, D]: the query tower's embedding and, when batch holds the key tower's
    field, the key tower's ([B, 1, D] otherwise, e.g. at generation from an imitation). Unit norm.

    Build the towers with vocalgen.stages.load_part (conf/encoder/qvim_towers.yaml).
    """

    def __init__(self, query: Encoder, key: Encoder) -> None:
        super().__init__()
        self.query, self.key = query, key
        self.field = query.field
        self.out_dim = query.out_dim

    def forward(self, batch: Batch) -> torch.Tensor:
        tokens = [F.normalize(self.query(batch), dim=-1)]
        if self.key.field in batch:
            tokens.append(F.normalize(self.key(batch), dim=-1))
        return torch.stack(tokens, dim=1)
