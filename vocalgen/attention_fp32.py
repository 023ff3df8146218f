"""diffusers attention kept in fp32 under bf16 autocast.

PyTorch's CPU flash attention in bf16 is slow for the narrow heads of the CPU-sized UNets: on a Xeon with AMX,
`image_ldm_cpu` took 1.41× the fp32 time a step in bf16, and in a UNet built as its own (16 × 16 × 8 latents,
batch 16) the attention's bf16 backward was 47 % of the step; with the attention in fp32 its bf16 step took 0.95×
the fp32 time (README, Benchmarks). Only diffusers' default
processor (AttnProcessor2_0) is swapped: a processor that a system set on purpose (e.g. adapters) is left."""

import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import Tensor, nn


class Fp32AttnProcessor(AttnProcessor2_0):
    """diffusers' scaled-dot-product attention run outside autocast, on fp32 inputs: hidden states [B, N, C] (or
    [B, C, H, W]) and the optional encoder states [B, M, C'] -> fp32 output of the hidden states' shape."""

    def __call__(self, attn: Attention, hidden_states: Tensor, encoder_hidden_states: Tensor | None = None,
                 *args, **kwargs) -> Tensor:
        with torch.autocast(hidden_states.device.type, enabled=False):
            context = None if encoder_hidden_states is None else encoder_hidden_states.float()
            return super().__call__(attn, hidden_states.float(), context, *args, **kwargs)


def keep_attention_fp32(module: nn.Module) -> int:
    """Give every diffusers Attention in `module` whose processor is the default AttnProcessor2_0 a
    Fp32AttnProcessor instead; returns how many were given one."""
    swapped = 0
    for child in module.modules():
        if isinstance(child, Attention) and type(child.processor) is AttnProcessor2_0:
            child.set_processor(Fp32AttnProcessor())
            swapped += 1
    return swapped
