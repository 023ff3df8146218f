"""Finding, reading and loading vocalgen checkpoints (by path or by MLflow run id)."""

import re
from pathlib import Path
from typing import Any

import torch

from vocalgen.callbacks.config_in_checkpoint import CHECKPOINT_KEY
from vocalgen.errors import CheckpointError
from vocalgen.module import VocalGenModule, build_module
from vocalgen.tracking import BEST_CHECKPOINT_TAG, CHECKPOINT_DIR_TAG, store_uri

RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint dict at `path`; CheckpointError if missing, unreadable or not vocalgen's."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist. Give an existing .ckpt file or an MLflow run id.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(f"checkpoint {path} cannot be read ({error}); is it a vocalgen .ckpt file?") from error
    if not isinstance(checkpoint, dict) or CHECKPOINT_KEY not in checkpoint:
        raise CheckpointError(f"checkpoint {path} holds no vocalgen config; was it written by vocalgen.train?")
    return checkpoint


def resolve_checkpoint(reference: str, mlflow_dir: str | Path, which: str = "last") -> Path:
    """A checkpoint path, or the `which` ("last" or "best") checkpoint of an MLflow run id (the best is
    the one its training tagged; runs from before that tag: the newest epoch checkpoint)."""
    path = Path(reference)
    if path.exists() or not RUN_ID.match(reference):
        return path
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        run = MlflowClient(store_uri(mlflow_dir)).get_run(reference)
    except MlflowException as error:
        raise CheckpointError(f"MLflow run {reference} not found in {mlflow_dir}.") from error
    best = run.data.tags.get(BEST_CHECKPOINT_TAG)
    if which == "best" and best and Path(best).is_file():
        return Path(best)
    folder = run.data.tags.get(CHECKPOINT_DIR_TAG)
    if folder is None:
        raise CheckpointError(f"MLflow run {reference} has no '{CHECKPOINT_DIR_TAG}' tag: it saved no checkpoints.")
    candidates = [Path(folder) / "last.ckpt"] if which == "last" else sorted(Path(folder).glob("epoch*.ckpt"))
    existing = [candidate for candidate in candidates if candidate.is_file()]
    if not existing:
        raise CheckpointError(f"MLflow run {reference}: no {which} checkpoint in {folder}.")
    return existing[-1]


def without_pretrained(config: Any) -> Any:
    """`config` with every `pretrained` path set to None: the checkpoint's weights supersede them,
    so a checkpoint loads on machines that lack those files."""
    if isinstance(config, dict):
        return {k: None if k == "pretrained" else without_pretrained(v) for k, v in config.items()}
    if isinstance(config, list):
        return [without_pretrained(v) for v in config]
    return config


def require_generator(path: str | Path, config: dict[str, Any], targets: tuple[str, ...], tool: str) -> None:
    """CheckpointError unless the checkpoint's generator is one of `targets` (class paths)."""
    target = config.get("generator", {}).get("_target_", "?")
    if target not in targets:
        raise CheckpointError(
            f"checkpoint {path} comes from experiment '{config.get('experiment_name')}' (generator {target}); "
            f"{tool} needs one whose generator is {' or '.join(targets)} (e.g. +experiment=qvim)."
        )


def load_module(path: str | Path, generators: tuple[str, ...] = (), tool: str = "") -> tuple[VocalGenModule,
                                                                                             dict[str, Any]]:
    """The trained module (eval mode, CPU) and the resolved config embedded in the checkpoint.

    With `generators`, a checkpoint whose generator is none of them gives a CheckpointError
    naming `tool` (before anything is built).
    """
    checkpoint = read_checkpoint(path)
    config = checkpoint[CHECKPOINT_KEY]["config"]
    if generators:
        require_generator(path, config, generators, tool)
    module = build_module(without_pretrained(config))
    module.load_state_dict(checkpoint["state_dict"])
    return module.eval(), config
