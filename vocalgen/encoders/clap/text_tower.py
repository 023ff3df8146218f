"""CLAP text towers: laion's bundled CLIP-style transformer or a GPT-2, then laion's projection MLP.

Attribute names follow laion's ``CLAP`` (``text_branch``, ``token_embedding``, ``positional_embedding``,
``ln_final``, ``text_projection``) so laion-format ``text_*`` keys load as they are. The GPT-2 tower keeps
its byte-level BPE inside its state dict (``_extra_state``), so a checkpoint carries the tokenizer.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vocalgen.encoders.clap.bpe_tokenizer import (
    DEFAULT_EOS,
    DEFAULT_PAD,
    BpeTokenizer,
    caption_list,
)
from vocalgen.encoders.fitted_tokenizer import FittedTokenizer
from vocalgen.errors import ConfigError

BACKBONES = ("transformer", "gpt2")
CLIP_VOCAB = 49408  # laion's bundled CLIP BPE (bpe_simple_vocab_16e6.txt.gz); <end_of_text> is the largest id


class ClapTextTower(FittedTokenizer, nn.Module):
    """captions list[str] (B of them) → L2-normalised embedding [B, joint_dim].

    backbone "transformer": laion's text transformer (`n_layer` blocks of width `n_embd`, `n_head` heads,
    causal mask), tokenised by laion's CLIP BPE, pooled at the end-of-text token. backbone "gpt2": a
    ``transformers.GPT2Model`` built from the same sizes, tokenised by a byte-level BPE of `vocab_size`
    tokens (loaded from `tokenizer`, a local path, or learned by :meth:`fit_to_data`), pooled at the
    last real token (EOS). Captions are cut to `context_length` tokens (EOS kept). `vocab_size`,
    `tokenizer`, `pad_token` and `eos_token` concern the GPT-2 backbone only. `frozen` turns off
    gradients and keeps the tower in eval mode.
    """

    laion_prefixes = ("text_branch.", "token_embedding.", "positional_embedding", "ln_final.", "text_projection.")

    tokenizer_owner = "ClapTextTower (backbone gpt2)"
    tokenizer_hint = "give tokenizer= a local tokenizer.json path (or folder)"

    def __init__(
        self,
        backbone: str = "gpt2",
        joint_dim: int = 512,
        n_layer: int = 12,
        n_head: int = 12,
        n_embd: int = 768,
        context_length: int = 77,
        vocab_size: int = 5000,
        tokenizer: str | None = None,
        pad_token: str = DEFAULT_PAD,
        eos_token: str = DEFAULT_EOS,
        frozen: bool = False,
    ) -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise ConfigError(f"ClapTextTower: backbone '{backbone}' is unknown; choose one of {list(BACKBONES)}.")
        if n_embd % n_head:
            raise ConfigError(f"ClapTextTower: n_embd ({n_embd}) must be divisible by n_head ({n_head}).")
        if context_length < 2:
            raise ConfigError(f"ClapTextTower: context_length must be at least 2, got {context_length}.")
        if backbone == "transformer" and tokenizer is not None:
            raise ConfigError("ClapTextTower: tokenizer= applies to backbone gpt2 only; the transformer backbone "
                              "always uses laion's bundled CLIP BPE. Set tokenizer: null.")
        self.backbone = backbone
        self.joint_dim = joint_dim
        self.out_dim = joint_dim
        self.context_length = context_length
        self.pad_token, self.eos_token = pad_token, eos_token
        self._bpe: BpeTokenizer | None = None
        if backbone == "transformer":
            self._build_transformer(n_layer, n_head, n_embd)
        else:
            self.vocab_size = vocab_size
            self._build_gpt2(n_layer, n_head, n_embd)
            if tokenizer is not None:
                self._set_tokenizer(BpeTokenizer.load(Path(tokenizer), pad_token, eos_token), f"'{tokenizer}'")
        self.text_projection = nn.Sequential(nn.Linear(n_embd, joint_dim), nn.ReLU(), nn.Linear(joint_dim, joint_dim))
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def _build_transformer(self, n_layer: int, n_head: int, n_embd: int) -> None:
        """laion's CLAP text branch for text_cfg.model_type "transformer", initialised as laion does."""
        from laion_clap.clap_module.model import Transformer

        self.vocab_size = CLIP_VOCAB
        self.text_branch = Transformer(width=n_embd, layers=n_layer, heads=n_head, act_layer=nn.GELU)
        self.token_embedding = nn.Embedding(CLIP_VOCAB, n_embd)
        self.positional_embedding = nn.Parameter(torch.empty(self.context_length, n_embd))
        self.ln_final = nn.LayerNorm(n_embd)
        causal = torch.full((self.context_length, self.context_length), float("-inf")).triu_(1)
        self.register_buffer("attn_mask", causal, persistent=False)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        proj_std = n_embd**-0.5 * (2 * n_layer) ** -0.5
        for block in self.text_branch.resblocks:
            nn.init.normal_(block.attn.in_proj_weight, std=n_embd**-0.5)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=(2 * n_embd) ** -0.5)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)

    def _build_gpt2(self, n_layer: int, n_head: int, n_embd: int) -> None:
        """A randomly initialised GPT-2 of the given sizes (built offline from a config)."""
        from transformers import GPT2Config, GPT2Model

        config = GPT2Config(vocab_size=self.vocab_size, n_positions=self.context_length, n_embd=n_embd,
                            n_layer=n_layer, n_head=n_head, bos_token_id=None, eos_token_id=None)
        self.text_branch = GPT2Model(config)

    # --- tokenizer -------------------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        """Whether the tower can tokenise (always for the transformer backbone)."""
        return self.backbone == "transformer" or self._bpe is not None

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore the GPT-2 backbone's tokenizer saved in the state dict (the transformer has its own)."""
        if self.backbone != "transformer":
            super().set_extra_state(state)

    def token_count(self, caption: str) -> int:
        """Real tokens of `caption` (end token included) before any cut to context_length."""
        return int(self.tokenize([caption], context_length=1 << 14)[1].sum())

    def tokenize(self, captions: Sequence[str], context_length: int | None = None) -> tuple[Tensor, Tensor]:
        """captions → token ids [B, L] and attention mask [B, L] (1 on real tokens), L ≤ context_length
        (the tower's unless given)."""
        context_length = context_length or self.context_length
        captions = caption_list(captions, "ClapTextTower")
        if self.backbone == "gpt2":
            return self.fitted_tokenizer().batch(captions, context_length)
        return _clip_tokenize(captions, context_length)

    # --- forward ---------------------------------------------------------------------------------------

    def train(self, mode: bool = True) -> "ClapTextTower":
        """A frozen tower stays in eval mode (no dropout)."""
        return super().train(mode and not self.frozen)

    def features(self, captions: Sequence[str]) -> Tensor:
        """captions → the pooled text feature [B, n_embd], before projection."""
        ids, mask = self.tokenize(captions)
        device = self.text_projection[0].weight.device
        ids, mask = ids.to(device), mask.to(device)
        rows = torch.arange(ids.shape[0], device=device)
        if self.backbone == "gpt2":
            hidden = self.text_branch(input_ids=ids, attention_mask=mask).last_hidden_state  # [B, L, n_embd]
            return hidden[rows, mask.sum(dim=1) - 1]
        length = ids.shape[1]  # trailing pads are dropped: under the causal mask they cannot reach the EOT
        x = self.token_embedding(ids) + self.positional_embedding[:length]
        x = self.text_branch(x.permute(1, 0, 2), attn_mask=self.attn_mask[:length, :length]).permute(1, 0, 2)
        x = self.ln_final(x)  # [B, L, n_embd]
        return x[rows, ids.argmax(dim=-1)]

    def forward(self, captions: Sequence[str]) -> Tensor:
        """captions (B strings) → unit-norm embedding [B, joint_dim]."""
        return F.normalize(self.text_projection(self.features(captions)), dim=-1)

    def embed(self, captions: Sequence[str]) -> Tensor:
        """captions (B strings) → unit-norm embedding [B, joint_dim]."""
        return self(captions)


def _clip_tokenize(captions: list[str], context_length: int) -> tuple[Tensor, Tensor]:
    """laion's CLIP BPE → ids [B, L] (start, text, end-of-text, zero padding) and mask [B, L], L ≤ context_length.

    laion's `tokenize` drops the end-of-text token of a caption it cuts; here the last kept position
    becomes end-of-text again, so pooling at the largest id still lands on it.
    """
    from laion_clap.clap_module.tokenizer import tokenize

    ids = tokenize(captions, context_length=context_length)  # [B, context_length]
    end_of_text = CLIP_VOCAB - 1
    cut = (ids[:, -1] != 0) & (ids[:, -1] != end_of_text)
    ids[cut, -1] = end_of_text
    mask = (ids != 0).long()
    length = int(mask.sum(dim=1).max())
    return ids[:, :length], mask[:, :length]
