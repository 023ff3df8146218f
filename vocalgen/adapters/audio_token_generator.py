"""CLAP2Diffusion's token generator: one CLAP audio embedding → a sequence of tokens in the text encoder's space."""

import torch
from torch import Tensor, nn

from vocalgen.errors import ConfigError


class AudioTokenGenerator(nn.Module):
    """audio embedding [B, audio_dim] → audio tokens [B, num_tokens, token_dim] (docs/recipes.md, "CLAP2Diffusion").

    1. An MLP audio_dim → hidden_dim → GELU → token_dim · 2 · num_tokens makes `num_tokens` keys and as many
       values [B, num_tokens, token_dim] each (layer-normalised).
    2. `num_tokens` learned queries [num_tokens, token_dim] cross-attend over them (pre-norm, residual).
    3. `num_layers` self-attention layers (pre-norm TransformerEncoderLayer, feed-forward 4 · token_dim).
    4. A final LayerNorm and a linear projection token_dim → token_dim.

    Recipe: audio_dim 512 (CLAP), hidden_dim 256, token_dim 768 (SD's text width), 16 tokens, 4 layers.
    """

    def __init__(self, audio_dim: int = 512, token_dim: int = 768, num_tokens: int = 16, hidden_dim: int = 256,
                 num_layers: int = 4, num_heads: int = 8, dropout: float = 0.0) -> None:
        super().__init__()
        if token_dim % num_heads:
            raise ConfigError(f"adapter.tokens: token_dim ({token_dim}) must be divisible by num_heads ({num_heads}); "
                              "set adapter.tokens.num_heads to a divisor of the text encoder's width.")
        if num_tokens < 1 or num_layers < 0:
            raise ConfigError(f"adapter.tokens: num_tokens ({num_tokens}) must be ≥ 1 and num_layers ({num_layers}) "
                              "≥ 0.")
        self.audio_dim, self.token_dim, self.num_tokens = audio_dim, token_dim, num_tokens
        self.keys_values = nn.Sequential(nn.Linear(audio_dim, hidden_dim), nn.GELU(),
                                         nn.Linear(hidden_dim, token_dim * 2 * num_tokens))
        self.key_value_norm = nn.LayerNorm(token_dim)
        self.queries = nn.Parameter(torch.randn(num_tokens, token_dim) * 0.02)
        self.query_norm = nn.LayerNorm(token_dim)
        self.cross_attention = nn.MultiheadAttention(token_dim, num_heads, dropout=dropout, batch_first=True)
        layer = nn.TransformerEncoderLayer(token_dim, num_heads, dim_feedforward=4 * token_dim, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.self_attention = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.output_norm = nn.LayerNorm(token_dim)
        self.projection = nn.Linear(token_dim, token_dim)

    def forward(self, audio: Tensor) -> Tensor:
        """audio [B, audio_dim] → tokens [B, num_tokens, token_dim]."""
        if audio.dim() != 2 or audio.shape[-1] != self.audio_dim:
            raise ValueError(f"AudioTokenGenerator expects CLAP embeddings [B, {self.audio_dim}], got "
                             f"{list(audio.shape)}; set adapter.tokens.audio_dim to the CLAP joint_dim.")
        keys, values = self.key_value_norm(
            self.keys_values(audio).view(len(audio), self.num_tokens, 2, self.token_dim)).unbind(2)
        queries = self.queries.expand(len(audio), -1, -1)
        attended, _ = self.cross_attention(self.query_norm(queries), keys, values, need_weights=False)
        tokens = self.self_attention(queries + attended)
        return self.projection(self.output_norm(tokens))
