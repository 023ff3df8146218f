"""The VocalDM alignment adapter: QVIM embeddings → CLAP's audio-embedding space."""

import torch.nn.functional as F
from torch import Tensor, nn

from vocalgen.interfaces import Adapter, Outputs


class AlignmentMLP(Adapter):
    """in_dim → hidden → LayerNorm → GELU → out_dim → LayerNorm → L2-normalise
    (docs/recipes.md, "QVIM-LDM").

    Input [B, D] or tokens [B, N, D] (TwoTowerEncoder: imitation, reference). Returns
    {"condition": adapted first token [B, out_dim]} and, with a second token,
    {"adapted_reference": [B, out_dim]}.
    """

    def __init__(self, in_dim: int = 960, hidden_dim: int = 1024, out_dim: int = 512) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.LayerNorm(hidden_dim), nn.GELU(),
                                 nn.Linear(hidden_dim, out_dim), nn.LayerNorm(out_dim))
        self.out_dim = out_dim

    def forward(self, condition: Tensor) -> Outputs:
        tokens = condition if condition.dim() == 3 else condition.unsqueeze(1)
        if tokens.shape[-1] != self.net[0].in_features:
            raise ValueError(f"adapter.in_dim={self.net[0].in_features} but the encoder gives {tokens.shape[-1]}-d "
                             "embeddings; set adapter.in_dim to the QVIM tower's output size.")
        adapted = F.normalize(self.net(tokens), dim=-1)
        outputs = {"condition": adapted[:, 0]}
        if adapted.shape[1] > 1:
            outputs["adapted_reference"] = adapted[:, 1]
        return outputs
