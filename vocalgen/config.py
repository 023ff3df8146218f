"""Where the Hydra config tree lives, and the resolvers it uses."""

import hashlib
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from vocalgen.hardware import cpu_precision

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
CONFIG_DIR = PROJECT_ROOT / "conf"


def short_hash(*values: Any) -> str:
    """8 hex digits naming a combination of values (e.g. the stage checkpoints a cache was built from)."""
    return hashlib.sha1("|".join(map(str, values)).encode()).hexdigest()[:8]


def register_resolvers() -> None:
    """`${project_root:}` → the checkout's absolute path (where conf/ and outputs/ live),
    `${short_hash:a,b,…}` → 8 hex digits naming those values and `${cpu_precision:}` → "bf16-mixed"
    where the CPU has bf16 matrix instructions, else "32-true" (vocalgen.hardware)."""
    if not OmegaConf.has_resolver("project_root"):
        OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))
        OmegaConf.register_new_resolver("short_hash", short_hash)
    if not OmegaConf.has_resolver("cpu_precision"):
        OmegaConf.register_new_resolver("cpu_precision", cpu_precision)


def merge_sampling(base: dict[str, Any] | None, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """A checkpoint's sampling settings `base` with `overrides` on top. A guidance scale given
    without a `guidance_end` replaces the base's guidance ramp: guidance=0 is unconditional."""
    overrides = overrides or {}
    merged = {**(base or {}), **overrides}
    if "guidance" in overrides and "guidance_end" not in overrides:
        merged.pop("guidance_end", None)
    return merged


def sampling_overrides(cfg: DictConfig) -> dict[str, Any]:
    """A CLI config's `sampling` dict with its shortcuts `steps`, `guidance` and `seed` (when set) on top."""
    shortcuts = {key: cfg[key] for key in ("steps", "guidance", "seed") if cfg.get(key) is not None}
    sampling = cfg.get("sampling")
    return {**(OmegaConf.to_container(sampling) if sampling else {}), **shortcuts}


def as_list(value: Any) -> list | None:
    """None, a scalar or a list (from the command line) → None or a list."""
    if value is None:
        return None
    if OmegaConf.is_list(value) or isinstance(value, list | tuple):
        return list(value)
    return [value]
