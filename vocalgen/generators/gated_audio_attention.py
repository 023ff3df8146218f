"""Gated audio cross-attention inside a diffusers UNet2DConditionModel, as attention processors.

Every cross-attention layer (`attn2`) of the UNet gets a processor that runs the layer's own text
cross-attention and adds a gated attention over audio tokens, IP-Adapter style (both read the same
normalised hidden states n of the transformer block):

    out = TextAttn(n, text_tokens) + tanh(g) · Attn(LN(n), audio_tokens[slots])

with g initialised small, so the frozen text → image model starts unchanged. Which audio tokens a
layer sees follows its place: the foreground slots at the down blocks, every slot at the mid block,
the ambience slots at the up blocks (CLAP2Diffusion's hierarchy). Self-attention layers (`attn1`)
get a processor that ignores the audio tokens, so that passing them raises no warning.
"""

import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import nn

from vocalgen.errors import ConfigError

AUDIO_KWARG = "audio_tokens"  # the UNet's cross_attention_kwargs key that carries them
PLACES = ("down", "mid", "up")


class IgnoresAudio(AttnProcessor2_0):
    """diffusers' scaled-dot-product processor that accepts (and ignores) the audio tokens."""

    def __call__(self, attn: Attention, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, temb: torch.Tensor | None = None,
                 audio_tokens: torch.Tensor | None = None) -> torch.Tensor:
        return super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask, temb)


class GatedAudioAttention(nn.Module):
    """The processor of one cross-attention layer of width `width`: its text attention plus
    tanh(gate) · MultiheadAttention(LayerNorm(hidden [B, N, width]), audio tokens [B, S, audio_dim]
    [:, slots]) → [B, N, width]. `dropout` acts on the attention weights while it trains."""

    def __init__(self, width: int, audio_dim: int, heads: int, slots: tuple[int, int], gate_init: float = 0.01,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if width % heads:
            raise ConfigError(f"gated audio attention: a layer {width} wide cannot have {heads} heads "
                              "(generator.audio_attention.heads must divide every cross-attention width).")
        self.norm = nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, dropout=dropout, kdim=audio_dim, vdim=audio_dim,
                                               batch_first=True)
        self.gate = nn.Parameter(torch.tensor(float(gate_init)))
        self.slots = slots
        self.text = AttnProcessor2_0()

    def __call__(self, attn: Attention, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, temb: torch.Tensor | None = None,
                 audio_tokens: torch.Tensor | None = None) -> torch.Tensor:
        out = self.text(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        if audio_tokens is None:
            return out
        start, end = self.slots
        tokens = audio_tokens[:, start:end].to(hidden_states.dtype)
        attended, _ = self.attention(self.norm(hidden_states), tokens, tokens, need_weights=False)
        return out + torch.tanh(self.gate) * attended


def place_of(processor_name: str) -> str:
    """'down', 'mid' or 'up' for a UNet processor name such as 'down_blocks.0.attentions.0.…attn2.processor'."""
    return next(place for place in PLACES if processor_name.startswith(place))


def install_gated_audio_attention(unet: nn.Module, audio_dim: int, slots: dict[str, tuple[int, int]],
                                  heads: int = 8, gate_init: float = 0.01, dropout: float = 0.0) -> int:
    """Give every cross-attention layer of `unet` a GatedAudioAttention over the audio token `slots`
    of its place ({"down": (start, end), "mid": …, "up": …}) and every self-attention layer
    IgnoresAudio; returns the number of gated layers. The processors become sub-modules of the UNet
    (`…attn2.processor`): their parameters are saved with it and trained by a param_groups rule such
    as `{modules: ["generator.unet.*.attn2.processor"]}` placed before the UNet's frozen rule."""
    if set(slots) != set(PLACES):
        raise ConfigError(f"generator.audio_attention slots name {sorted(slots)}; give each of {list(PLACES)}.")
    processors = {}
    layers = {name.removesuffix(".processor"): module for name, module in unet.named_modules()
              if isinstance(module, Attention)}
    for name in unet.attn_processors:
        layer = layers[name.removesuffix(".processor")]
        if layer.is_cross_attention:
            width = layer.to_q.out_features
            processors[name] = GatedAudioAttention(width, audio_dim, heads, slots[place_of(name)], gate_init, dropout)
        else:
            processors[name] = IgnoresAudio()
    gated = sum(isinstance(processor, GatedAudioAttention) for processor in processors.values())
    if not gated:
        raise ConfigError("generator.audio_attention is set, but generator.unet has no cross-attention layer to "
                          "gate audio into (use CrossAttn blocks).")
    unet.set_attn_processor(processors)
    return gated
