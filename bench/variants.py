"""The bench's variants of one experiment: the same config trained or sampled three ways, and the plain step
that the speed-ups are measured against."""

from contextlib import AbstractContextManager, nullcontext

import torch
from omegaconf import DictConfig

# variant → Hydra overrides; the experiment's own speed options (channels_last) hold in all three
VARIANTS: dict[str, list[str]] = {
    "fp32": ["trainer.precision=32-true", "compile=false"],
    "bf16": ["trainer.precision=bf16-mixed", "compile=false"],
    "compiled": ["trainer.precision=32-true", "compile=true"],
}
# the published code's step: the model as built, fp32, no channels_last, no torch.compile
PLAIN_STEP: list[str] = ["trainer.precision=32-true", "compile=false", "channels_last=false"]


def autocast_for(cfg: DictConfig) -> AbstractContextManager:
    """bf16 autocast on the CPU when cfg.trainer.precision is bf16-mixed (as Lightning does), else nothing."""
    if cfg.trainer.precision == "bf16-mixed":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return nullcontext()
