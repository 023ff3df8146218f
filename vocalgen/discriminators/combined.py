"""Several discriminators as one: HiFi-GAN's MPD + MSD, or any other mix a config names."""

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from vocalgen.discriminators.shapes import check_mono_audio
from vocalgen.interfaces import Discriminator


class CombinedDiscriminator(Discriminator):
    """audio [B, 1, N] → the sub-discriminators' logits and feature-map lists, concatenated in order.

    `discriminators` is a list, or a dict name → discriminator (names kept in `names`, e.g. for
    logging; a list gets "0", "1", …).
    """

    def __init__(self, discriminators: Sequence[Discriminator] | Mapping[str, Discriminator]) -> None:
        super().__init__()
        if isinstance(discriminators, Mapping):
            named = {str(name): d for name, d in discriminators.items()}
        else:
            named = {str(i): d for i, d in enumerate(discriminators)}
        if not named:
            raise ValueError("CombinedDiscriminator: `discriminators` is empty; give at least one.")
        for name, d in named.items():
            if not isinstance(d, Discriminator):
                raise ValueError(f"CombinedDiscriminator: discriminators[{name}] is a {type(d).__name__}, not a "
                                 "vocalgen.interfaces.Discriminator; give it a `_target_`.")
        self.discriminators = nn.ModuleDict(named)

    @property
    def names(self) -> list[str]:
        return list(self.discriminators.keys())

    def forward(self, audio: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
        check_mono_audio(audio, type(self).__name__)
        logits: list[torch.Tensor] = []
        features: list[list[torch.Tensor]] = []
        for d in self.discriminators.values():
            out, maps = d(audio)
            logits.extend(out)
            features.extend(maps)
        return logits, features
