"""`compile=true`: torch.compile the parts an experiment names in `compile_parts`, in place.

`nn.Module.compile` replaces a module's call by its compiled graph and leaves its parameters and state-dict
keys as they are, so checkpoints of compiled and plain runs load into each other. Only calls through
`module(...)` are compiled: name the networks the parts call (e.g. `generator.unet`, `generator.denoiser`),
not the parts themselves, whose training_forward / generate are plain methods."""

import logging
from collections.abc import Sequence
from fnmatch import fnmatchcase

from torch import nn

from vocalgen.errors import ConfigError

log = logging.getLogger(__name__)


def compiled_module_names(model: nn.Module, patterns: Sequence[str]) -> list[str]:
    """The names of the sub-modules of `model` that `patterns` name (dotted paths; `*` wildcards as fnmatch),
    outermost first: a module under one already named is left to it. ConfigError for a pattern naming none."""
    names = [name for name, _ in model.named_modules() if name]
    chosen: list[str] = []
    for pattern in patterns:
        matched = [name for name in names if fnmatchcase(name, pattern)]
        if not matched:
            raise ConfigError(f"compile_parts: {pattern!r} names no module of this model; its top-level parts are "
                              f"{sorted({name.split('.')[0] for name in names})} (dotted paths, e.g. "
                              "generator.unet).")
        chosen.extend(name for name in matched if name not in chosen)
    return [name for name in chosen if not any(name.startswith(outer + ".") for outer in chosen)]


def compile_parts(model: nn.Module, patterns: Sequence[str], mode: str | None = None) -> list[str]:
    """Compile in place (nn.Module.compile, torch.compile's `mode`) each sub-module of `model` that `patterns`
    name; returns their names. ConfigError when `patterns` is empty: compile=true needs to know what to compile."""
    if not patterns:
        raise ConfigError("compile=true but compile_parts is empty: name the networks to compile, e.g. "
                          "compile_parts=[generator.unet] (the experiments of the diffusion systems and QVIM name "
                          "theirs).")
    names = compiled_module_names(model, patterns)
    for name in names:
        model.get_submodule(name).compile(mode=mode)
    log.info("torch.compile (mode %s): %s", mode or "default", ", ".join(names))
    return names
