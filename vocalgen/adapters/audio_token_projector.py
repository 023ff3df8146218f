"""CLAP2Diffusion's projector: a CLAP audio embedding → hierarchical audio tokens for the image UNet (stage 1)."""

from typing import Any

import torch.nn.functional as F
from torch import Tensor

from vocalgen.adapters.audio_token_generator import AudioTokenGenerator
from vocalgen.adapters.hierarchical_decomposer import HierarchicalDecomposer
from vocalgen.errors import ConfigError
from vocalgen.interfaces import Adapter, Condition, Outputs


class AudioTokenProjector(Adapter):
    """{"audio": CLAP embedding [B, A], "text": caption embedding [B, D] (optional)} → audio tokens and loss inputs.

    The token generator makes N tokens [B, N, D] from the audio; the decomposer re-weights and orders them into
    foreground, background and ambience slots (docs/recipes.md, "CLAP2Diffusion"). A bare tensor [B, A] is taken as
    the audio alone, and "text" may be absent: generation needs no caption.

    Outputs:
      "condition"        audio tokens [B, N, D], slots in the order foreground, background, ambience
      "groups"           each slot's group id [B, N] (0 foreground, 1 background, 2 ambience)
      "assignment"       each slot token's soft group weights [B, N, 3]
      "entropy"          the mean entropy of the group assignment (scalar), for the loss
      "temperature"      the assignment temperature used (scalar)
      "audio_embedding"  the mean of the audio tokens [B, D]; "query": the same, unit norm
      with a caption:
      "text_embedding"   the caption embedding [B, D] as given; "key": the same, unit norm
    """

    def __init__(self, tokens: AudioTokenGenerator, decomposer: HierarchicalDecomposer, audio: str = "audio",
                 text: str = "text") -> None:
        super().__init__()
        if (decomposer.num_tokens, decomposer.token_dim) != (tokens.num_tokens, tokens.token_dim):
            raise ConfigError(f"adapter.decomposer takes {decomposer.num_tokens} tokens of {decomposer.token_dim}, but "
                              f"adapter.tokens makes {tokens.num_tokens} of {tokens.token_dim}; set both alike.")
        self.tokens, self.decomposer = tokens, decomposer
        self.audio, self.text = audio, text
        self.out_dim = tokens.token_dim

    def named(self, condition: Condition) -> tuple[Tensor, Tensor | None]:
        """condition → (audio embedding [B, A], caption embedding [B, D] or None)."""
        if isinstance(condition, Tensor):
            return condition, None
        if self.audio not in condition:
            raise KeyError(f"AudioTokenProjector: the condition has no '{self.audio}' (adapter.audio); it has "
                           f"{sorted(condition)}.")
        text = condition.get(self.text)
        if text is not None and (text.dim() != 2 or text.shape[-1] != self.out_dim):
            raise ConfigError(f"AudioTokenProjector: '{self.text}' is {list(text.shape)}, but the loss compares the "
                              f"pooled audio tokens with one caption embedding [B, {self.out_dim}]; pool the text "
                              "tokens with vocalgen.encoders.pooled_text.PooledTextEncoder (encoder.encoders.text).")
        return condition[self.audio], text

    def forward(self, condition: Condition) -> Outputs:
        audio, text = self.named(condition)
        decomposed = self.decomposer(self.tokens(audio))
        pooled = decomposed["tokens"].mean(dim=1)
        outputs: dict[str, Any] = {"condition": decomposed["tokens"], "groups": decomposed["groups"],
                                   "assignment": decomposed["assignment"], "entropy": decomposed["entropy"],
                                   "temperature": decomposed["temperature"], "audio_embedding": pooled,
                                   "query": F.normalize(pooled, dim=-1)}
        if text is not None:
            outputs.update(text_embedding=text, key=F.normalize(text, dim=-1))
        return outputs
