"""The bench's variants of one experiment: the same config trained or sampled three ways, and the plain step
that the speed-ups are measured against."""

from contextlib import AbstractContextManager, nullcontext

import torch
from omegaconf import DictConfig

from vocalgen.hardware import cpu_precision
from vocalgen.speedups import SPEED_OPTIONS

# variant → Hydra overrides; the experiment's own speed options (channels_last, the fp32 islands) hold in all three
VARIANTS: dict[str, list[str]] = {
    "fp32": ["trainer.precision=32-true", "compile=false"],
    "bf16": ["trainer.precision=bf16-mixed", "compile=false"],
    "compiled": ["trainer.precision=32-true", "compile=true"],
}


def default_variants() -> list[str]:
    """Every variant, the precision that trainer=cpu picks on this machine first (bf16 where the CPU has bf16
    matrix instructions, else fp32): the bench measures the first variant's speed-up and overhead in pairs."""
    first = "bf16" if cpu_precision() == "bf16-mixed" else "fp32"
    return [first, *(variant for variant in VARIANTS if variant != first)]


# the published code's step: the model as built, fp32, none of the speed options (vocalgen/speedups.py)
PLAIN_STEP: list[str] = ["trainer.precision=32-true", "compile=false", *(f"{option}=false" for option in SPEED_OPTIONS)]


def autocast_for(cfg: DictConfig) -> AbstractContextManager:
    """bf16 autocast on the CPU when cfg.trainer.precision is bf16-mixed (as Lightning does), else nothing."""
    if cfg.trainer.precision == "bf16-mixed":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return nullcontext()
