"""Named conditions routed to the paths of a diffusers UNet2DConditionModel."""

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from vocalgen.errors import ConfigError
from vocalgen.generators.gated_audio_attention import AUDIO_KWARG, GatedAudioAttention
from vocalgen.interfaces import Condition

ROUTES = ("cross_attention", "film", "audio_attention")
SINGLE = "condition"  # the name of a condition given as one tensor


def named(condition: Condition) -> dict[str, torch.Tensor]:
    """A condition tensor, or named conditions, as {name: tensor}."""
    return dict(condition) if isinstance(condition, Mapping) else {SINGLE: condition}


def as_tokens(tensor: torch.Tensor) -> torch.Tensor:
    """tokens [B, N, D] as they are; a vector [B, D] as one token [B, 1, D]."""
    return tensor if tensor.dim() == 3 else tensor.unsqueeze(1)


class ConditionRouting:
    """Which named condition reaches which path of the UNet (`routes`: name → path):

    - "cross_attention": tokens [B, N, D] (a vector [B, D] is one token) are the keys and values of
      the UNet's cross-attention blocks (`encoder_hidden_states`); several names are concatenated
      along N in the order of `routes`, each with the UNet's `cross_attention_dim` D.
    - "film": a vector [B, D] projected into the time embedding (the UNet's class embedding,
      `class_labels`); several names are concatenated along D.
    - "audio_attention": tokens [B, S, D_audio] attended by the gated audio cross-attention that
      install_gated_audio_attention put into the UNet's cross-attention layers (passed as the
      `audio_tokens` cross-attention keyword); several names are concatenated along S.

    A condition given as one tensor goes by the name "condition". Without `routes`, the
    condition goes to every path the UNet has (AudioLDM: FiLM; QVIM-LDM's cross-attention variant:
    both).
    """

    def __init__(self, unet: nn.Module, routes: Mapping[str, str] | None = None) -> None:
        config = unet.config
        blocks = [*config.down_block_types, config.mid_block_type or ""]
        gated = [processor for processor in getattr(unet, "attn_processors", {}).values()
                 if isinstance(processor, GatedAudioAttention)]
        available = {"film": config.class_embed_type is not None,
                     "cross_attention": any("CrossAttn" in block for block in blocks), "audio_attention": bool(gated)}
        if routes is None:
            routes = {SINGLE: [path for path in ("cross_attention", "film") if available[path]]}
            if not routes[SINGLE]:
                raise ConfigError("generator.unet has neither a class-embedding projection (FiLM) nor cross-attention "
                                  "blocks: the condition would not reach it.")
        if not routes:
            raise ConfigError("generator.routes is empty: name at least one condition and its path.")
        self.routes = {name: [paths] if isinstance(paths, str) else list(paths) for name, paths in routes.items()}
        for name, paths in self.routes.items():
            unknown = [path for path in paths if path not in ROUTES]
            if unknown or not paths:
                raise ConfigError(f"generator.routes.{name}={paths}: each condition goes to one or more of {ROUTES}.")
            missing = [path for path in paths if not available[path]]
            if missing:
                raise ConfigError(f"generator.routes.{name} sends it to {missing}, but generator.unet has no such path "
                                  "(film needs class_embed_type; cross_attention needs CrossAttn blocks; "
                                  "audio_attention needs generator.audio_attention).")
        self.widths = {"film": config.projection_class_embeddings_input_dim,
                       "cross_attention": config.cross_attention_dim,
                       "audio_attention": gated[0].attention.kdim if gated else None}

    def names(self, path: str) -> list[str]:
        return [name for name, paths in self.routes.items() if path in paths]

    def check(self, condition: Condition, fill_missing: bool = False) -> dict[str, torch.Tensor]:
        """The named conditions, after checking that every routed name is there with the right width;
        with `fill_missing` (generation), an absent token condition is its null: one zero token."""
        conditions = named(condition)
        if fill_missing:
            conditions = self.with_nulls(conditions)
        absent = sorted(set(self.routes) - set(conditions))
        if absent:
            raise ConfigError(f"the generator routes conditions {absent}, but the encoder gives {sorted(conditions)}; "
                              "make generator.routes name the encoder's conditions.")
        flat = [name for name in self.names("film") if conditions[name].dim() != 2]
        if flat:
            raise ConfigError(f"the conditions {flat} go to film, which takes vectors [B, D]; got "
                              f"{[tuple(conditions[name].shape) for name in flat]}. Route tokens to cross_attention.")
        film_width = sum(conditions[name].shape[-1] for name in self.names("film"))
        if self.names("film") and film_width != self.widths["film"]:
            raise ConfigError(f"the conditions {self.names('film')} sent to film are {film_width}-d together, but "
                              f"generator.unet.projection_class_embeddings_input_dim={self.widths['film']}; make "
                              "them equal.")
        for path, width_key in (("cross_attention", "unet.cross_attention_dim"),
                                ("audio_attention", "audio_attention.audio_dim")):
            for name in self.names(path):
                if conditions[name].shape[-1] != self.widths[path]:
                    raise ConfigError(f"the condition '{name}' sent to {path} is {conditions[name].shape[-1]}-d, but "
                                      f"generator.{width_key}={self.widths[path]}; make them equal.")
        return conditions

    def with_nulls(self, conditions: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """`conditions` and a zero token [B, 1, D] for each routed token condition they lack (attention over
        one zero token equals attention over any number of them: the null a dropped condition trained)."""
        present = next(iter(conditions.values()), None)
        if present is None:
            return conditions
        filled = dict(conditions)
        for name, paths in self.routes.items():
            if name not in filled and "film" not in paths:
                filled[name] = present.new_zeros(present.shape[0], 1, self.widths[paths[0]])
        return filled

    def unet_inputs(self, condition: Condition) -> dict[str, Any]:
        """The UNet's keyword arguments: encoder_hidden_states [B, N, D], class_labels [B, D] and
        cross_attention_kwargs {"audio_tokens": [B, S, D_audio]} (None where nothing is routed)."""
        conditions = named(condition)
        tokens = [as_tokens(conditions[name]) for name in self.names("cross_attention")]
        vectors = [conditions[name] for name in self.names("film")]
        audio = [as_tokens(conditions[name]) for name in self.names("audio_attention")]
        return {"encoder_hidden_states": torch.cat(tokens, dim=1) if tokens else None,
                "class_labels": torch.cat(vectors, dim=-1) if vectors else None,
                "cross_attention_kwargs": {AUDIO_KWARG: torch.cat(audio, dim=1)} if audio else None}
