"""What epoch-level evaluators share: tensors gathered batch by batch, joined (and gathered across processes)."""

from collections.abc import Callable

import torch
from torch import Tensor

Gather = Callable[[Tensor], Tensor]


def join_parts(parts: dict[str, list[Tensor]], gather: Gather | None = None) -> dict[str, Tensor]:
    """{name: the batches' tensors [B, …]} → {name: all of them [N, …] on the CPU}; `gather` (all processes'
    rows, stacked) applied first when given."""
    joined = {name: torch.cat(values) for name, values in parts.items()}
    if gather is not None:
        joined = {name: gather(value).reshape(-1, *value.shape[1:]) for name, value in joined.items()}
    return {name: value.cpu() for name, value in joined.items()}
