"""A loss term that a part computes itself (e.g. a quantiser's commitment loss)."""

import torch
from torch import nn

from vocalgen.interfaces import Outputs


class OutputTerm(nn.Module):
    """outputs[key] (a scalar the model returned), or 0 when the model returns none (e.g. an
    EnCodec trained without its quantiser has no commitment term)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def forward(self, outputs: Outputs) -> torch.Tensor:
        if self.key in outputs:
            return outputs[self.key]
        return next(iter(outputs.values())).new_zeros(())
