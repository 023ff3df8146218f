"""The speed options of a config, applied to a built module before training: `channels_last` (the 4-d
weights of its convolutions stored channels-last, so oneDNN picks its channels-last kernels), `depthwise_fp32`
and `attention_fp32` (depthwise convolutions and diffusers attention kept out of bf16 autocast,
vocalgen/depthwise_fp32.py, vocalgen/attention_fp32.py) and then `compile`
(torch.compile of the networks `compile_parts` names, vocalgen/compilation.py).

None changes what the module computes beyond rounding, nor its state-dict keys: checkpoints of runs with
and without them load into each other."""

import logging

import torch
from omegaconf import DictConfig
from torch import nn

from vocalgen.compilation import compile_parts
from vocalgen.depthwise_fp32 import keep_depthwise_fp32

log = logging.getLogger(__name__)
# the boolean speed options that apply_speedups reads besides `compile`
SPEED_OPTIONS = ("channels_last", "depthwise_fp32", "attention_fp32")


def apply_speedups(module: nn.Module, cfg: DictConfig) -> list[str]:
    """Apply cfg.channels_last, cfg.depthwise_fp32, cfg.attention_fp32 and cfg.compile (with compile_parts,
    compile_mode) to `module` in place; returns what was applied, e.g. ["channels_last", "depthwise_fp32: 30
    convolutions", "compile: encoder.backbone, generator.tower.backbone"]."""
    applied = []
    if cfg.get("channels_last"):
        module.to(memory_format=torch.channels_last)
        applied.append("channels_last")
    if cfg.get("depthwise_fp32"):
        applied.append(f"depthwise_fp32: {keep_depthwise_fp32(module)} convolutions")
    if cfg.get("attention_fp32"):
        from vocalgen.attention_fp32 import keep_attention_fp32  # imports diffusers: only for the systems that use it

        applied.append(f"attention_fp32: {keep_attention_fp32(module)} attention layers")
    if cfg.get("compile"):
        names = compile_parts(module, list(cfg.get("compile_parts") or []), cfg.get("compile_mode"))
        applied.append(f"compile: {', '.join(names)}")
    if applied:
        log.info("speed options: %s", "; ".join(applied))
    return applied
