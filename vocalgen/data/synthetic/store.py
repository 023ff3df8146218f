"""Writing a generated folder once, atomically, with a `.complete.json` marker of its parameters."""

import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

MARKER = ".complete.json"


def ensure_built(target: Path, params: dict[str, Any], write: Callable[[Path], None], version: int = 1) -> Path:
    """Return `target`, first generating it with `write(folder)` when it does not exist.

    `write` fills a hidden sibling folder that is renamed into place after the marker (holding
    `params` and the generator's `version`) is written, so an interrupted build leaves nothing. An existing
    folder is reused when its marker holds the same parameters and version (a marker without a version is
    version 1); one that an older version built with the same parameters is rebuilt (what it holds is all
    generated); otherwise a ValueError names it.
    """
    stored = _marker(target)
    if stored is not None and stored[0] == params and stored[1] < version:
        logging.getLogger(__name__).warning("%s was built by an older version of its generator: rebuilding it.",
                                            target)
        shutil.rmtree(target)
    if not target.exists():
        _build(target, {**params, "version": version}, write)
        stored = _marker(target)
    if stored != (params, version):
        found = f"was built with {stored[0]} (version {stored[1]})" if stored else f"has no {MARKER} (incomplete or " \
            "not synthetic)"
        raise ValueError(f"{target} {found}, but {params} (version {version}) was requested; delete that folder or "
                         "choose another root.")
    return target


def _marker(target: Path) -> tuple[dict[str, Any], int] | None:
    """(the parameters, the generator version; 1 when not written) of `target`'s marker; None without one."""
    marker = target / MARKER
    if not marker.is_file():
        return None
    stored = json.loads(marker.read_text(encoding="utf-8"))
    return stored, int(stored.pop("version", 1))


def _build(target: Path, params: dict[str, Any], write: Callable[[Path], None]) -> None:
    """Write into a temporary sibling of `target`, add the marker, and rename it into place."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        write(partial)
        (partial / MARKER).write_text(json.dumps(params, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        try:
            os.replace(partial, target)
        except OSError:
            if not (target / MARKER).is_file():  # not a concurrent build finishing first
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """Write (n,) float audio in [-1, 1] as mono 16-bit PCM, quantised here so bytes are reproducible."""
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    sf.write(path, pcm, sample_rate, subtype="PCM_16")
