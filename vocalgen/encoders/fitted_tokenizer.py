"""The tokenizer of a text model trained here: learned from the training captions (or given), kept in
the state dict so that a checkpoint needs neither the captions nor the tokenizer's files."""

from collections.abc import Sequence
from typing import Any, ClassVar

from vocalgen.encoders.clap.bpe_tokenizer import BpeTokenizer, TokenizerNotFitted
from vocalgen.errors import ConfigError

STATE_VERSION = 1  # of what get_extra_state writes


class FittedTokenizer:
    """Mixin (before nn.Module in the bases) for a text model with a byte-level BPE of up to `vocab_size`
    tokens in `_bpe` and special tokens `pad_token` and `eos_token`. `tokenizer_owner` names the model in
    errors; `tokenizer_hint` says what to give instead of fitting."""

    tokenizer_owner: ClassVar[str]
    tokenizer_hint: ClassVar[str]
    _bpe: BpeTokenizer | None
    vocab_size: int
    pad_token: str
    eos_token: str

    @property
    def is_fitted(self) -> bool:
        """Whether the model has its tokenizer (learned by `fit_to_data`, or given)."""
        return self._bpe is not None

    @property
    def tokenizer(self) -> BpeTokenizer | None:
        """The tokenizer (None until fitted or given)."""
        return self._bpe

    def fitted_tokenizer(self) -> BpeTokenizer:
        """The tokenizer; TokenizerNotFitted saying what to do when there is none yet."""
        if self._bpe is None:
            raise TokenizerNotFitted(f"{self.tokenizer_owner} has no tokenizer: {self.tokenizer_hint}, or call "
                                     "fit_to_data(captions) before using it (training does).")
        return self._bpe

    def fit_to_data(self, captions: Sequence[str]) -> None:
        """Learn the BPE from the training `captions` unless the model already has a tokenizer."""
        if self.is_fitted:
            return
        if not any(caption.strip() for caption in captions):
            raise ConfigError(f"{self.tokenizer_owner}.fit_to_data: the training data has no captions to learn a "
                              "tokenizer from; use a data set with captions (the synthetic default or "
                              f"data=audiocaps) or {self.tokenizer_hint}.")
        bpe = BpeTokenizer.train(list(captions), self.vocab_size, self.pad_token, self.eos_token)
        self._set_tokenizer(bpe, "fit_to_data")

    def _set_tokenizer(self, bpe: BpeTokenizer, source: str) -> None:
        """Take `bpe` once its ids fit the embedding's `vocab_size` rows; ConfigError naming `source` otherwise."""
        if bpe.vocab_size > self.vocab_size:
            raise ConfigError(f"{self.tokenizer_owner}: the tokenizer from {source} has {bpe.vocab_size} tokens but "
                              f"the embedding has vocab_size {self.vocab_size}; raise vocab_size to at least "
                              f"{bpe.vocab_size}.")
        self._bpe = bpe
        self.pad_token, self.eos_token = bpe.pad_token, bpe.eos_token

    def get_extra_state(self) -> dict[str, Any]:
        """The tokenizer as a JSON string (None before it has one) and its special tokens, saved in the
        state dict."""
        bpe = self._bpe
        state = {"version": STATE_VERSION, "tokenizer": bpe.to_json() if bpe else None,
                 "pad_token": self.pad_token, "eos_token": self.eos_token}
        if bpe is not None and bpe.bos_token is not None:
            state["bos_token"] = bpe.bos_token
        return state

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore the tokenizer saved by `get_extra_state`."""
        self._bpe = None
        if isinstance(state, dict) and state.get("tokenizer") is not None:
            bpe = BpeTokenizer.from_json(state["tokenizer"], state["pad_token"], state["eos_token"],
                                         state.get("bos_token"))
            self._set_tokenizer(bpe, "the state dict")
