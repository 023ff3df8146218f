"""CLAP score: mean cosine similarity of paired embeddings in a CLAP space (text–audio, imitation–audio)."""

import numpy as np
import torch
import torch.nn.functional as F


def paired_cosine(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """a [N, D], b [N, D] (row i pairs with row i) → mean over i of cos(a_i, b_i), in [−1, 1].

    Rows need not be normalised; a zero row counts as cosine 0.
    """
    a = torch.as_tensor(a).double()
    b = torch.as_tensor(b).double()
    if a.dim() != 2 or a.shape != b.shape or a.shape[0] == 0:
        raise ValueError(f"paired_cosine: expected two non-empty [N, D] sets of one shape, got {list(a.shape)} "
                         f"and {list(b.shape)}; pair each generated clip's embedding with its condition's.")
    return F.cosine_similarity(a, b, dim=1, eps=1e-12).mean().item()
