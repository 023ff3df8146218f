"""What every discriminator shares: the input check and running its conv stack."""

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

LEAK = 0.1  # HiFi-GAN's leaky-ReLU slope


def check_mono_audio(audio: torch.Tensor, who: str) -> None:
    """Raise a ValueError naming `who` unless `audio` is a waveform batch [B, 1, N]."""
    if audio.dim() != 3 or audio.shape[1] != 1:
        raise ValueError(f"{who}: expected mono audio [B, 1, N], got shape {list(audio.shape)}; "
                         "add the channel axis with audio.unsqueeze(1) or mix down to one channel.")


def run_stack(convs: nn.ModuleList, post: nn.Module, x: torch.Tensor,
              leak: float = LEAK) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """x → each conv with a leaky ReLU, then `post` → (logits flattened [B, L], every feature map,
    the unflattened logits last)."""
    features = []
    for conv in convs:
        x = F.leaky_relu(conv(x), leak)
        features.append(x)
    x = post(x)
    features.append(x)
    return x.flatten(1), features


def gather(outputs: Iterable[tuple[torch.Tensor, list[torch.Tensor]]]) -> tuple[list[torch.Tensor],
                                                                              list[list[torch.Tensor]]]:
    """Sub-discriminators' (logits, feature maps) pairs → (all logits, all feature-map lists)."""
    logits, features = [], []
    for out, maps in outputs:
        logits.append(out)
        features.append(maps)
    return logits, features
