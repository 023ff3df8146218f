"""A local Stable Diffusion 1.x folder in diffusers layout, as `StableDiffusionPipeline.save_pretrained` writes
it (model_index.json, vae/, text_encoder/, tokenizer/, unet/, scheduler/): checked before anything is read from
it, its UNet and scheduler settings for latent diffusion, and the checks that keep a part loaded from it
rebuildable from its arguments (a checkpoint's config has `pretrained` set to None, vocalgen.checkpoints).
Nothing is downloaded: every load is `local_files_only`.
"""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from vocalgen.errors import ConfigError

# component → the files it needs: each entry lists alternatives, an alternative "a + b" needs both files
COMPONENTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "vae": (("config.json",), ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin",
                               "diffusion_pytorch_model.safetensors.index.json")),
    "text_encoder": (("config.json",), ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")),
    "tokenizer": (("tokenizer_config.json",), ("tokenizer.json", "vocab.json + merges.txt")),
    "unet": (("config.json",), ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin",
                                "diffusion_pytorch_model.safetensors.index.json")),
    "scheduler": (("scheduler_config.json",),),
}
WHAT_TO_DO = ("give the path of a complete local Stable Diffusion 1.x folder in diffusers layout (model_index.json, "
              "vae/, text_encoder/, tokenizer/, unet/, scheduler/, as StableDiffusionPipeline.save_pretrained "
              "writes it, e.g. a copy of stable-diffusion-v1-5); nothing is downloaded.")


def _present(folder: Path, alternative: str) -> bool:
    return all((folder / name.strip()).is_file() for name in alternative.split("+"))


def check_stable_diffusion_folder(folder: str | Path, components: Sequence[str] = tuple(COMPONENTS)) -> Path:
    """`folder` as a Path once it exists, holds model_index.json, and each of `components` (default: all
    five) is listed there and has its files; ConfigError naming the folder, the first missing component or
    file, and what to do otherwise."""
    path = Path(folder).expanduser()
    unknown = [name for name in components if name not in COMPONENTS]
    if unknown:
        raise ValueError(f"check_stable_diffusion_folder: unknown component(s) {unknown}; "
                         f"choose from {list(COMPONENTS)}.")
    if not path.is_dir():
        raise ConfigError(f"Stable Diffusion folder {path} does not exist (or is not a folder): {WHAT_TO_DO}")
    index_file = path / "model_index.json"
    if not index_file.is_file():
        raise ConfigError(f"Stable Diffusion folder {path} has no model_index.json, so it is not a diffusers "
                          f"pipeline folder: {WHAT_TO_DO}")
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError) as error:
        raise ConfigError(f"Stable Diffusion folder {path}: model_index.json cannot be read ({error}): "
                          f"{WHAT_TO_DO}") from error
    for name in components:
        listed = index.get(name)
        if not isinstance(listed, list) or None in listed:
            raise ConfigError(f"Stable Diffusion folder {path}: model_index.json lists no '{name}' component: "
                              f"{WHAT_TO_DO}")
        for alternatives in COMPONENTS[name]:
            if not any(_present(path / name, alternative) for alternative in alternatives):
                wanted = " or ".join(f"{name}/{alternative}" for alternative in alternatives)
                raise ConfigError(f"Stable Diffusion folder {path} lacks its '{name}' component ({wanted} is "
                                  f"missing): {WHAT_TO_DO}")
    return path


def build_unet(pretrained: str | None = None, **architecture: Any) -> nn.Module:
    """A diffusers UNet2DConditionModel built from its config `architecture` (the keys of a folder's
    unet/config.json), or with `pretrained` (a local Stable Diffusion folder) the folder's `unet`, loaded
    once and checked to be that architecture, so that the arguments alone rebuild it from a checkpoint."""
    from diffusers import UNet2DConditionModel

    if not pretrained:
        return UNet2DConditionModel.from_config(architecture)
    path = check_stable_diffusion_folder(pretrained, ["unet"])
    loaded = UNet2DConditionModel.from_pretrained(path, subfolder="unet", local_files_only=True)
    given = {name: _listed(value) for name, value in architecture.items()}
    found = {name: _listed(loaded.config.get(name)) for name in given}
    check_same_architecture("the UNet", path / "unet", given, found)
    return loaded


def _listed(value: Any) -> Any:
    """Tuples as lists, so that a config's sequences compare equal to the folder's."""
    return list(value) if isinstance(value, tuple) else value


def read_component_config(folder: str | Path, component: str, file: str = "config.json") -> dict[str, Any]:
    """The settings of `component` in a checked folder (its `file`), without diffusers' private keys (`_…`)."""
    path = check_stable_diffusion_folder(folder, [component]) / component / file
    return {name: value for name, value in json.loads(path.read_text()).items() if not name.startswith("_")}


def check_same_architecture(who: str, component: Path, arguments: Mapping[str, Any],
                            found: Mapping[str, Any]) -> None:
    """ConfigError unless the model in `component` (its settings `found`, in `who`'s argument names) is what
    `arguments` build: those arguments rebuild it when a checkpoint is reloaded without the folder."""
    differing = {name: value for name, value in found.items() if arguments[name] != value}
    if differing:
        settings = ", ".join(f"{name}={value!r} (given {arguments[name]!r})" for name, value in differing.items())
        raise ConfigError(f"{who}: the model in {component} has {settings}; set those arguments of {who} to the "
                          f"folder's values (they rebuild it when a checkpoint is reloaded without the folder).")


def copy_weights(target: nn.Module, source: nn.Module, who: str, component: Path) -> None:
    """Load `source`'s weights into `target` strictly; ConfigError naming `component` when they do not fit."""
    try:
        target.load_state_dict(source.state_dict())
    except RuntimeError as error:
        raise ConfigError(f"{who}: the weights in {component} do not fit the model its arguments build "
                          f"({str(error).splitlines()[0]} …); is it a Stable Diffusion 1.x folder?") from error
