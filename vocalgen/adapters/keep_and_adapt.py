"""Named conditions of which some pass through unchanged and the others become one adapted condition."""

from typing import Any

from torch import nn

from vocalgen.errors import ConfigError
from vocalgen.interfaces import Adapter


class KeepAndAdapt(Adapter):
    """{name: condition} → {"condition": {kept names as they are, `name`: adapter(the other names)["condition"]},
    plus the adapter's other outputs}. E.g. CLAP2Diffusion's stage 2: the text tokens [B, L, D] go on
    to the UNet's cross-attention while the projector turns the CLAP embedding (alone) into audio
    tokens [B, S, D] under the name "audio".

    `unwrap`: the adapter takes the one other condition itself (a tensor) instead of a dict of them, e.g. a VAE
    head under the name "latent" beside a pitch contour that passes on (qvae_cpu)."""

    def __init__(self, adapter: nn.Module, keep: list[str], name: str, unwrap: bool = False) -> None:
        super().__init__()
        self.adapter = adapter
        self.keep = list(keep)
        self.name = name
        self.unwrap = unwrap

    def forward(self, condition: dict[str, Any]) -> dict[str, Any]:
        kept = {key: value for key, value in condition.items() if key in self.keep}
        others = {key: value for key, value in condition.items() if key not in self.keep}
        if not others:  # e.g. a prompt without a sound: nothing to adapt, the generator takes its null
            return {"condition": kept}
        if self.unwrap and len(others) != 1:
            raise ConfigError(f"adapter.unwrap=true passes one condition to the adapter, but {sorted(others)} are not "
                              f"kept (adapter.keep={self.keep}): keep all but one.")
        adapted = self.adapter(next(iter(others.values())) if self.unwrap else others)
        return {**{k: v for k, v in adapted.items() if k != "condition"},
                "condition": {**kept, self.name: adapted["condition"]}}
