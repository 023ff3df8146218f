"""One embedding per caption, pooled from the token states of a text encoder that a UNet cross-attends to."""

from typing import Literal

import torch
from torch import Tensor

from vocalgen.encoders.clip_text import ClipTextEncoder
from vocalgen.errors import ConfigError
from vocalgen.interfaces import Batch, Encoder

POOLINGS = ("mean", "eos")


class PooledTextEncoder(Encoder):
    """batch[text.field] (B captions) → caption embedding [B, D], pooled from `text`'s tokens [B, L, D].

    `pooling`:
      - "mean" (default): the mean of the real tokens' states (BOS, the caption's, EOS; padding left out). The image
        LDM's text encoder is trained only through the UNet's cross-attention, which reads every token, so no single
        token is trained to summarise the caption; the mean of what the UNet attends to is the summary that exists
        for an encoder learned from scratch as for a pretrained one, and it is what audio tokens read by the same
        cross-attention should match on average. Padding is left out: its length says nothing about the caption.
      - "eos": the EOS token's state, which is CLIP's pooled output (`pooler_output`); the better choice for a
        pretrained CLIP text encoder, whose EOS state is trained contrastively to summarise the caption.
    The causal attention keeps the real tokens' states independent of the padding either way. out_dim = D.
    """

    def __init__(self, text: ClipTextEncoder, pooling: Literal["mean", "eos"] = "mean") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ConfigError(f"encoder pooling={pooling!r}: choose one of {list(POOLINGS)}.")
        if not callable(getattr(text, "hidden_states", None)):
            raise ConfigError(f"PooledTextEncoder needs a text encoder with hidden_states(captions) → (tokens, mask), "
                              f"such as ClipTextEncoder; got {type(text).__name__}.")
        self.text, self.pooling = text, pooling
        self.out_dim = text.out_dim

    def forward(self, batch: Batch) -> Tensor:
        """batch[text.field] → [B, D]."""
        tokens, mask = self.text.hidden_states(self.text.captions(batch))
        if self.pooling == "eos":
            return tokens[torch.arange(len(tokens), device=tokens.device), mask.sum(dim=1) - 1]
        weights = mask.to(tokens.dtype).unsqueeze(-1)
        return (tokens * weights).sum(dim=1) / weights.sum(dim=1)
