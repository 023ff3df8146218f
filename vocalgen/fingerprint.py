"""Short fingerprints of a module's weights (which VAE, EnCodec or encoder made a cache)."""

import hashlib

import torch
from torch import nn


def weights_fingerprint(module: nn.Module, length: int = 16) -> str:
    """sha1 over the names, shapes, dtypes and bytes of every tensor of `module`'s state dict
    (first `length` hex digits): the same weights give the same fingerprint, any change another."""
    digest = hashlib.sha1()
    for name, tensor in sorted(module.state_dict().items()):
        if not isinstance(tensor, torch.Tensor):  # extra state, e.g. a tokenizer
            digest.update(f"{name}|{tensor!r}".encode())
            continue
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tuple(tensor.shape)}|{tensor.dtype}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()[:length]
