"""The tokenizer of a text model trained here: learned from the training captions (or given), kept in
the state dict so that a checkpoint needs neither the captions nor the tokenizer's files."""

from collections.abc import Sequence
from typing import Any

from vocalgen.encoders.clap.bpe_tokenizer import (
    BpeTokenizer,
    check_vocabulary,
    fit_bpe,
    tokenizer_from_state,
    tokenizer_state,
)


class FittedTokenizer:
    """Mixin (before nn.Module in the bases) for a text model with a byte-level BPE of up to `vocab_size`
    tokens in `_bpe`, special tokens `pad_token` and `eos_token`; `tokenizer_owner` names it in errors and
    `tokenizer_hint` says what to give instead of fitting."""

    _bpe: BpeTokenizer | None
    vocab_size: int
    pad_token: str
    eos_token: str
    tokenizer_owner: str
    tokenizer_hint: str

    @property
    def is_fitted(self) -> bool:
        """Whether the model has its tokenizer (learned by `fit_to_data`, or given)."""
        return self._bpe is not None

    @property
    def tokenizer(self) -> BpeTokenizer | None:
        """The tokenizer (None until fitted or given)."""
        return self._bpe

    def fit_to_data(self, captions: Sequence[str]) -> None:
        """Learn the BPE from the training `captions` unless the model already has a tokenizer."""
        if self.is_fitted:
            return
        bpe = fit_bpe(captions, self.vocab_size, self.pad_token, self.eos_token, self.tokenizer_owner,
                      self.tokenizer_hint)
        self._set_tokenizer(bpe, "fit_to_data")

    def _set_tokenizer(self, bpe: BpeTokenizer, source: str) -> None:
        self._bpe = check_vocabulary(bpe, self.vocab_size, self.tokenizer_owner, source)
        self.pad_token, self.eos_token = bpe.pad_token, bpe.eos_token

    def get_extra_state(self) -> dict[str, Any]:
        """The tokenizer as a JSON string (None if there is none yet), saved in the state dict."""
        return tokenizer_state(self._bpe, self.pad_token, self.eos_token)

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore the tokenizer saved by `get_extra_state`."""
        bpe = tokenizer_from_state(state) if isinstance(state, dict) else None
        self._bpe = None
        if bpe is not None:
            self._set_tokenizer(bpe, "the state dict")
