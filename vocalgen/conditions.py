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
    """One request per input file, prompt or BPM: each list holds one value (joining every request,
    e.g. one sound under several prompts, or one BPM for every reference clip) or as many as the
    longest. ConfigError naming what the checkpoint's encoder cannot take."""
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
    given = {"input": inputs or [], "caption": text or [], "bpm": bpm or []}
    count = max(len(values) for values in given.values())
    for kind, values in given.items():
        if len(values) not in (0, 1, count):
            raise ConfigError(f"{len(values)} values of {kind} for {count} outputs: give one, or one per output.")
    read = {path: {name: reader(path) for name, reader in readers.items()} for path in dict.fromkeys(given["input"])}
    requests = []
    for i in range(count):
        request, parts = Request(""), []
        if inputs:
            path = inputs[i if len(inputs) > 1 else 0]
            request.item.update(read[path])
            parts.append(path.stem)
        if text:
            request.item["caption"] = text[i if len(text) > 1 else 0]
            parts.append(slug(request.item["caption"]))
        if bpm:
            value = bpm[i if len(bpm) > 1 else 0]
            request.item["bpm"] = torch.tensor(validate_bpm(value, "bpm="))
            parts.append(f"bpm{value:g}")
        request.name = "_".join(parts)
        requests.append(request)
    return with_distinct_names(requests)


def with_distinct_names(requests: list[Request]) -> list[Request]:
    """`requests` with `_2`, `_3`, … added to names met before (the same prompt twice, two files
    of one name), so that no output overwrites another."""
    seen: dict[str, int] = {}
    for request in requests:
        seen[request.name] = seen.get(request.name, 0) + 1
        if seen[request.name] > 1:
            request.name = f"{request.name}_{seen[request.name]}"
    return requests
