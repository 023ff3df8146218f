"""What the CPU can do, read once from /proc/cpuinfo (Linux; elsewhere nothing is detected): whether bf16
autocast pays off on it, and a one-line description that runs record, so that a wall time names its machine."""

import functools
import os
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # the instructions that make bf16 matrix products fast on a CPU
SHOWN_FLAGS = ("amx_bf16", "avx512_bf16", "avx512f", "avx2")


@functools.cache
def cpu_facts() -> tuple[str, frozenset[str]]:
    """(model name, instruction-set flags) of the first CPU in /proc/cpuinfo; ("unknown", {}) without it."""
    try:
        text = CPUINFO.read_text()
    except OSError:
        return "unknown", frozenset()
    pairs = (line.split(":", 1) for line in text.split("\n\n", 1)[0].splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in pairs}
    return fields.get("model name", "unknown"), frozenset(fields.get("flags", "").split())


def bf16_instructions() -> list[str]:
    """The CPU's bf16 matrix instructions (AMX, AVX-512 BF16), most capable first; [] when it has none."""
    return [flag for flag in BF16_FLAGS if flag in cpu_facts()[1]]


def cpu_precision() -> str:
    """Lightning's precision for CPU training: "bf16-mixed" (bf16 autocast) where the CPU has bf16 matrix
    instructions, else "32-true" (without them bf16 is emulated and slower than fp32)."""
    return "bf16-mixed" if bf16_instructions() else "32-true"


def cpu_summary() -> str:
    """e.g. "AMD EPYC, 2 cores, avx2" or "Intel Xeon …, 2 cores, amx_bf16 avx512_bf16 avx512f avx2"."""
    model, flags = cpu_facts()
    shown = " ".join(flag for flag in SHOWN_FLAGS if flag in flags) or "no vector flags read"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores, {shown}"
