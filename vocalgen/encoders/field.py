"""The encoder of autoencoders: the condition is the input itself."""

import torch

from vocalgen.interfaces import Batch, Encoder


class FieldEncoder(Encoder):
    """batch[field] (e.g. audio [B, 1, N]) passed on unchanged as the condition: an autoencoder
    (mel VAE, vocoder, EnCodec) reconstructs what it is given."""

    out_dim = 0

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field = field

    def forward(self, batch: Batch) -> torch.Tensor:
        if self.field not in batch:
            raise KeyError(f"FieldEncoder: the batch has no field '{self.field}' (encoder.field); "
                           f"it has {sorted(batch)}.")
        return batch[self.field]
