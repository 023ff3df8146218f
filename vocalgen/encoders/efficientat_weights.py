"""Load EfficientAT ``mn*`` checkpoints (e.g. ``mn10_as.pt``) into :class:`MobileNetV3` by file path."""

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from vocalgen.encoders.mobilenet_v3 import MobileNetV3

_WRAPPER_KEYS = ("state_dict", "model")
_KEY_PREFIXES = ("module.", "_orig_mod.", "model.")
_HEAD_PREFIX = "classifier."
_SHOWN = 5


def _strip_prefixes(key: str) -> str:
    """Drop DDP / torch.compile / Lightning-style prefixes: 'module.features.0...' -> 'features.0...'."""
    while key.startswith(_KEY_PREFIXES):
        key = key.split(".", 1)[1]
    return key


def _read_state_dict(path: Path) -> dict[str, Tensor]:
    """The checkpoint's tensors keyed by unprefixed name (plain or wrapped in 'state_dict' / 'model')."""
    if not path.is_file():
        raise FileNotFoundError(
            f"EfficientAT checkpoint '{path}' not found; download mn10_as.pt from the EfficientAT releases "
            "(github.com/fschmid56/EfficientAT) and point the config at it."
        )
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"Cannot read EfficientAT checkpoint '{path}' as a tensor state dict ({reason}); if it is a "
            "pickled model, re-save it with torch.save(model.state_dict(), path)."
        ) from err
    for wrapper in _WRAPPER_KEYS:
        if isinstance(obj, Mapping) and isinstance(obj.get(wrapper), Mapping):
            obj = obj[wrapper]
            break
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items()
    ):
        raise ValueError(
            f"EfficientAT checkpoint '{path}' holds a {type(obj).__name__}, not a state dict of tensors; "
            "expected a plain state dict or {'state_dict': ...} / {'model': ...}."
        )
    return {_strip_prefixes(k): v for k, v in obj.items()}


def _listing(keys: list[str]) -> str:
    """First few keys, comma-separated, with a count of the rest."""
    more = f" (and {len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more


def load_efficientat_weights(model: MobileNetV3, path: str | Path) -> None:
    """Load an EfficientAT mn* checkpoint (plain state dict or {'state_dict'|'model': ...}) into `model`.

    The classifier head (``classifier.*``) is dropped; the feature extractor must match exactly.
    BatchNorm ``num_batches_tracked`` counters may be absent.
    """
    path = Path(path)
    loaded = {k: v for k, v in _read_state_dict(path).items() if not k.startswith(_HEAD_PREFIX)}
    expected = model.state_dict()
    missing = [k for k in expected if k not in loaded and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in loaded if k not in expected]
    if missing or unexpected:
        parts = [f"missing keys: {_listing(missing)}"] if missing else []
        parts += [f"unexpected keys: {_listing(unexpected)}"] if unexpected else []
        raise ValueError(
            f"EfficientAT checkpoint '{path}' does not fit MobileNetV3(width_mult={model.width_mult}): "
            + "; ".join(parts)
            + ". Is this an EfficientAT mn* checkpoint with the default channel-only squeeze-excitation?"
        )
    for key, tensor in loaded.items():
        if tensor.shape != expected[key].shape:
            raise ValueError(
                f"EfficientAT checkpoint '{path}': '{key}' has shape {tuple(tensor.shape)}, "
                f"the model expects {tuple(expected[key].shape)}. Is this an mn10 checkpoint? width_mult "
                f"(now {model.width_mult}) and in_channels must match the checkpoint."
            )
    model.load_state_dict(loaded, strict=True)
