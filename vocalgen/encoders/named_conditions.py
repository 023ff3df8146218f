"""Several encoders as one: batch → {name: condition} (e.g. beat phase and CLAP for iadb_bpm_clap)."""

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from vocalgen.conditions import encoder_fields
from vocalgen.interfaces import Batch, Encoder


class NamedConditions(Encoder):
    """batch → {name: encoders[name](batch)}, e.g. {"beat_phase": [B, T], "clap": [B, 512]}.

    `out_dims` holds each encoder's out_dim; `out_dim` is their sum. No encoders: {} (an
    unconditional generator, e.g. the baseline of conditioned ones). `optional`: an encoder whose
    fields the batch lacks is left out instead of failing.
    """

    def __init__(self, encoders: Mapping[str, Encoder], optional: bool = False) -> None:
        super().__init__()
        self.encoders = nn.ModuleDict({str(name): encoder for name, encoder in encoders.items()})
        self.optional = optional
        self.out_dims = {name: int(getattr(encoder, "out_dim", 0)) for name, encoder in self.encoders.items()}
        self.out_dim = sum(self.out_dims.values())

    def check_prompts(self, prompts: Sequence[str]) -> None:
        """The prompt check of each encoder that has one (e.g. an empty prompt refused)."""
        for encoder in self.encoders.values():
            if callable(getattr(encoder, "check_prompts", None)):
                encoder.check_prompts(prompts)

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        """{name: condition} of every encoder; with `optional`, of those whose batch fields are there
        (a generator then takes the others' null, e.g. a picture from a prompt without a sound)."""
        return {name: encoder(batch) for name, encoder in self.encoders.items()
                if not self.optional or encoder_fields(encoder) & set(batch)}
