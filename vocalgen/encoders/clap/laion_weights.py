"""Load LAION-CLAP checkpoints (local files) into :class:`ClapAudioTower` / :class:`ClapTextTower`.

laion's format: a torch file holding the CLAP state dict, plain or under "state_dict", keys possibly
prefixed "module." (DDP): "audio_branch.*", "audio_projection.*", "text_branch.*" (older files:
"transformer.*"), "token_embedding.weight", "positional_embedding", "ln_final.*", "text_projection.*",
plus parts no tower holds ("audio_transform.*", "text_transform.*", "logit_scale_a", "logit_scale_t").
A tower takes the keys under its own names and ignores the rest. Checkpoints that nest the towers
deeper (e.g. a Lightning checkpoint with "encoder.tower.audio_projection.0.weight") load too: the
common prefix before the tower's names is found and dropped.
"""

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from vocalgen.errors import CheckpointError

_WRAPPERS = ("state_dict", "model")
_STRIPPED = ("module.", "_orig_mod.")
_EXTRA = "_extra_state"
_SHOWN = 5


def read_laion_state_dict(path: str | Path) -> dict[str, Tensor]:
    """The checkpoint's tensors (``weights_only`` load, CPU), unwrapped and without "module." prefixes."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"CLAP checkpoint '{path}' not found; set pretrained= to a local laion CLAP "
                              "checkpoint (e.g. 630k-audioset-best.pt) or to null to train from scratch.")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"Cannot read CLAP checkpoint '{path}' as a torch state dict ({first}); expected "
                              "a file written by torch.save holding tensors.") from err
    for wrapper in _WRAPPERS:
        if isinstance(obj, Mapping) and isinstance(obj.get(wrapper), Mapping):
            obj = obj[wrapper]
            break
    if not isinstance(obj, Mapping) or not all(isinstance(k, str) for k in obj):
        raise CheckpointError(f"CLAP checkpoint '{path}' holds a {type(obj).__name__}, not a state dict; expected "
                              "a plain state dict or {'state_dict': ...}.")
    state = {}
    for key, value in obj.items():
        while key.startswith(_STRIPPED):
            key = key.split(".", 1)[1]
        state[key] = value
    return state


def _listing(keys: list[str]) -> str:
    """The first few keys, with a count of the rest."""
    more = f" (and {len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more


def _tower_keys(state: dict, tower: nn.Module, path: Path) -> dict:
    """The entries of `state` under the tower's names, with any outer prefix (e.g. "encoder.tower.") dropped."""
    names = tower.laion_prefixes
    if getattr(tower, "backbone", None) == "transformer" and not any(k.startswith("text_branch.") for k in state):
        state = {("text_branch." + k[len("transformer."):] if k.startswith("transformer.") else k): v
                 for k, v in state.items()}
    if any(k.startswith(names) for k in state):
        return {k: v for k, v in state.items() if k.startswith(names) or k == _EXTRA}
    anchor = names[-1] + "0.weight"  # audio_projection.0.weight / text_projection.0.weight
    outer = sorted({k[: -len(anchor)] for k in state if k.endswith("." + anchor)})
    if len(outer) > 1:
        raise CheckpointError(f"CLAP checkpoint '{path}' holds several {type(tower).__name__}s (under "
                              f"{_listing(outer)}); save the one to load on its own.")
    if not outer:
        raise CheckpointError(f"CLAP checkpoint '{path}' has no {type(tower).__name__} weights (no key starts "
                              f"with {', '.join(names)}); its keys begin {_listing(sorted(state))}.")
    prefix = outer[0]
    return {k[len(prefix):]: v for k, v in state.items()
            if k.startswith(prefix) and k[len(prefix):].startswith((*names, _EXTRA))}


def load_laion_weights(tower: nn.Module, path: str | Path) -> None:
    """Load the `tower`'s part of the laion-format checkpoint at `path`, strictly (all keys and shapes).

    Works for ClapAudioTower and ClapTextTower (its "_extra_state", the GPT-2 tokenizer, is taken when
    the file has one and otherwise left as it is). BatchNorm "num_batches_tracked" may be absent.
    Raises CheckpointError naming the file and the first offending keys.
    """
    path = Path(path).expanduser()
    loaded = _tower_keys(read_laion_state_dict(path), tower, path)
    expected = tower.state_dict()
    what = f"{type(tower).__name__}"
    hint = (" The tower's sizes (preset, embed_dim, depths, num_classes, joint_dim for audio; backbone, n_layer, "
            "n_head, n_embd, context_length, vocab_size for text) must match the checkpoint's.")
    if any(k.startswith("text_branch.embeddings.") or k.startswith("text_branch.encoder.") for k in loaded):
        hint += (" This file's text branch is a BERT/RoBERTa/BART, which ClapTextTower does not build; load only "
                 "the audio tower from it.")
    missing = [k for k in expected if k not in loaded and k != _EXTRA and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in loaded if k not in expected]
    if missing or unexpected:
        parts = [f"missing keys: {_listing(missing)}"] if missing else []
        parts += [f"unexpected keys: {_listing(unexpected)}"] if unexpected else []
        raise CheckpointError(f"CLAP checkpoint '{path}' does not fit {what}: " + "; ".join(parts) + "." + hint)
    not_tensors = [k for k, v in loaded.items() if k != _EXTRA and not isinstance(v, Tensor)]
    if not_tensors:
        raise CheckpointError(f"CLAP checkpoint '{path}': entries {_listing(not_tensors)} are not tensors.")
    wrong = [f"{k} {tuple(v.shape)} (tower: {tuple(expected[k].shape)})" for k, v in loaded.items()
             if k != _EXTRA and v.shape != expected[k].shape]
    if wrong:
        raise CheckpointError(f"CLAP checkpoint '{path}' does not fit {what}: shapes differ for {_listing(wrong)}."
                              + hint)
    tower.load_state_dict(loaded, strict=False)
