"""Generation requests → condition batches: audio files, text prompts and BPMs, read as the
checkpoint's encoder expects them (the fields it was trained on)."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

from vocalgen.data.beats import validate_bpm
from vocalgen.errors import ConfigError


@dataclass
class Request:
    """One output to generate: its file stem and its condition item (field name → value)."""

    name: str
    item: dict[str, Any] = field(default_factory=dict)


def encoder_fields(encoder: nn.Module) -> set[str]:
    """The batch fields an encoder (and its sub-encoders) read: every `field` attribute it holds."""
    return {module.field for module in encoder.modules() if isinstance(getattr(module, "field", None), str)}


def file_fields(config: dict[str, Any], encoder: nn.Module) -> dict[str, Any]:
    """Readers of the data fields that the encoder reads from an audio file (e.g. the imitation's
    log-mel, a 48 kHz waveform for CLAP), built as the checkpoint was trained."""
    wanted = encoder_fields(encoder)
    readers = {name: instantiate(OmegaConf.create(spec)) for name, spec in config["data"]["fields"].items()
               if spec is not None and name in wanted}
    return {name: reader for name, reader in readers.items() if not getattr(reader, "reads_pair", False)}


def slug(text: str, limit: int = 40) -> str:
    """A file-name-safe short form of `text`."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:limit] or "prompt"


def build_requests(config: dict[str, Any], encoder: nn.Module, inputs: list[Path] | None = None,
                   text: list[str] | None = None, bpm: list[float] | None = None) -> list[Request]:
    """One request per input file, else per prompt, else per BPM; a single prompt or BPM joins every
    request (e.g. BPM and a CLAP reference clip together). ConfigError naming what the checkpoint's
    encoder cannot take."""
    fields = encoder_fields(encoder)
    if not (inputs or text or bpm):
        raise ConfigError("nothing to generate from: give input=<audio file or folder>, text=\"…\" or bpm=….")
    if text and "caption" not in fields:
        raise ConfigError(f"text=… needs a checkpoint whose encoder reads captions; this one reads {sorted(fields)}.")
    if bpm and not ({"bpm", "beat_phase"} & fields):
        raise ConfigError(f"bpm=… needs a checkpoint conditioned on tempo; this one reads {sorted(fields)}.")
    readers = file_fields(config, encoder) if inputs else {}
    if inputs and not readers:
        raise ConfigError(f"input=… gives audio, but this checkpoint's encoder reads {sorted(fields)}, no audio field.")
    if inputs:
        requests = [Request(path.stem, {name: reader(path) for name, reader in readers.items()}) for path in inputs]
    elif text:
        requests = [Request(slug(prompt)) for prompt in text]
    else:
        requests = [Request("") for _ in bpm]
    for kind, values in (("caption", text), ("bpm", bpm)):
        if not values:
            continue
        if len(values) not in (1, len(requests)):
            raise ConfigError(f"{len(values)} values of {kind} for {len(requests)} outputs: give one, or one per "
                              "output.")
        for i, request in enumerate(requests):
            value = values[i if len(values) > 1 else 0]
            if kind == "bpm":
                request.item[kind] = torch.tensor(validate_bpm(value, "bpm="))
                request.name = f"{request.name}_bpm{value:g}".lstrip("_")
            else:
                request.item[kind] = value
                request.name = request.name if inputs is None else f"{request.name}_{slug(value)}"
    return requests
