"""Depthwise convolutions kept in fp32 under bf16 autocast.

On a CPU with bf16 matrix instructions (AMX, AVX-512 BF16), bf16 autocast speeds up the dense and pointwise
convolutions, but oneDNN's bf16 depthwise convolution backward is about twice as slow as its fp32 one: the
MobileNet towers of QVIM trained slower in bf16 than in fp32 until their depthwise convolutions were taken
out of autocast (experiments/qvim/README.md). The swap changes the class of each depthwise `nn.Conv2d` in
place, so the parameters, the state-dict keys and checkpoints stay as they were."""

import torch
from torch import Tensor, nn


class Fp32DepthwiseConv2d(nn.Conv2d):
    """An `nn.Conv2d` that runs outside autocast, in its weights' dtype: [B, C, H, W] -> [B, C', H', W']
    (fp32 out for fp32 weights, whatever dtype comes in)."""

    def forward(self, x: Tensor) -> Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return super().forward(x.to(self.weight.dtype))


def keep_depthwise_fp32(module: nn.Module) -> int:
    """Swap every depthwise convolution in `module` (groups = in_channels > 1) to Fp32DepthwiseConv2d in place;
    returns how many were swapped."""
    swapped = 0
    for child in module.modules():
        if type(child) is nn.Conv2d and child.groups > 1 and child.groups == child.in_channels:
            child.__class__ = Fp32DepthwiseConv2d
            swapped += 1
    return swapped
