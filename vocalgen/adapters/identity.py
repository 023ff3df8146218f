"""The adapter for chains that need none."""

import torch

from vocalgen.interfaces import Adapter, Outputs


class IdentityAdapter(Adapter):
    """condition [B, D] → {"condition": the same tensor}."""

    def forward(self, condition: torch.Tensor) -> Outputs:
        return {"condition": condition}
