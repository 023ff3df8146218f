"""A byte-level BPE (HF `tokenizers`) for text models (CLAP's GPT-2 tower, the CLIP text encoder): trained
on the captions or loaded from disk.

No GPT-2 vocabulary ships in any installed package, so by default the vocabulary is learned from the
training captions; a local ``tokenizer.json`` (or a GPT-2 style ``vocab.json`` + ``merges.txt``
folder) can be given instead. The whole tokenizer round-trips through one JSON string, which is how
a text model keeps it inside its state dict (vocalgen.encoders.fitted_tokenizer).
"""

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from vocalgen.errors import ConfigError

DEFAULT_PAD = "<pad>"
DEFAULT_EOS = "<eos>"


class TokenizerNotFitted(ConfigError):
    """A text model was used before it had a tokenizer."""


class BpeTokenizer:
    """Byte-level BPE: text ↔ ids, and a caption batch → (ids [B, L], attention mask [B, L]) ending in EOS
    (and starting with `bos_token` when it has one, as CLIP's does).

    A trained one is byte-level with no normaliser, so ``decode(encode(text)) == text`` for any text.
    """

    def __init__(self, tokenizer, pad_token: str = DEFAULT_PAD, eos_token: str = DEFAULT_EOS,
                 source: str = "memory", bos_token: str | None = None) -> None:
        self.tokenizer = tokenizer  # a tokenizers.Tokenizer
        self.pad_token = pad_token
        self.eos_token = eos_token
        self.bos_token = bos_token
        names = (pad_token, eos_token) if bos_token is None else (pad_token, eos_token, bos_token)
        ids = {name: tokenizer.token_to_id(name) for name in names}
        absent = [name for name, i in ids.items() if i is None]
        if absent:
            raise ConfigError(
                f"Tokenizer from {source} has no special token(s) {absent}; set pad_token= / eos_token= to "
                "tokens it has (for GPT-2's own tokenizer both can be '<|endoftext|>')."
            )
        self.pad_id: int = ids[pad_token]
        self.eos_id: int = ids[eos_token]
        self.bos_id: int | None = None if bos_token is None else ids[bos_token]

    @classmethod
    def train(cls, captions: Sequence[str], vocab_size: int, pad_token: str = DEFAULT_PAD,
              eos_token: str = DEFAULT_EOS, min_frequency: int = 2) -> "BpeTokenizer":
        """Learn up to `vocab_size` tokens (the 256 bytes, pad and EOS included) from `captions`."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        captions = [c for c in captions if isinstance(c, str)]
        if not captions:
            raise ValueError("BpeTokenizer.train needs at least one caption (a list of strings).")
        special = list(dict.fromkeys([pad_token, eos_token]))
        alphabet = pre_tokenizers.ByteLevel.alphabet()
        if vocab_size < len(alphabet) + len(special):
            raise ConfigError(f"vocab_size {vocab_size} is too small for a byte-level BPE: it needs at least "
                              f"{len(alphabet) + len(special)} (256 bytes + special tokens).")
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=special,
                                      initial_alphabet=alphabet, show_progress=False)
        tokenizer.train_from_iterator(captions, trainer=trainer)
        return cls(tokenizer, pad_token, eos_token, source=f"training on {len(captions)} captions")

    @classmethod
    def load(cls, path: str | Path, pad_token: str = DEFAULT_PAD, eos_token: str = DEFAULT_EOS) -> "BpeTokenizer":
        """From a ``tokenizer.json`` file, or a folder holding one (or GPT-2's ``vocab.json`` + ``merges.txt``)."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers

        path = Path(path).expanduser()
        file = path / "tokenizer.json" if path.is_dir() else path
        try:
            if file.is_file():
                return cls(Tokenizer.from_file(str(file)), pad_token, eos_token, source=f"'{file}'")
            if path.is_dir() and (path / "vocab.json").is_file() and (path / "merges.txt").is_file():
                tokenizer = Tokenizer(models.BPE.from_file(str(path / "vocab.json"), str(path / "merges.txt")))
                tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
                tokenizer.decoder = decoders.ByteLevel()
                return cls(tokenizer, pad_token, eos_token, source=f"'{path}'")
        except ConfigError:
            raise
        except Exception as err:
            raise ConfigError(f"Cannot read tokenizer '{file}' ({type(err).__name__}: {err}); expected a "
                              "`tokenizers` tokenizer.json.") from err
        raise ConfigError(f"Tokenizer path '{path}' not found (tokenizer=): give a tokenizer.json file or a folder "
                          "with tokenizer.json (or vocab.json + merges.txt), or leave it null to learn one from "
                          "the captions.")

    @classmethod
    def from_json(cls, text: str, pad_token: str = DEFAULT_PAD, eos_token: str = DEFAULT_EOS,
                  bos_token: str | None = None) -> "BpeTokenizer":
        """Rebuild from :meth:`to_json`'s string."""
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_str(text), pad_token, eos_token, source="a saved JSON string", bos_token=bos_token)

    def to_json(self) -> str:
        """The whole tokenizer (vocabulary, merges, pre-tokeniser, decoder) as one JSON string."""
        return self.tokenizer.to_str()

    def save(self, path: str | Path) -> Path:
        """Write ``tokenizer.json`` into folder `path` (created if needed); returns the file."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save(str(folder / "tokenizer.json"))
        return folder / "tokenizer.json"

    @property
    def vocab_size(self) -> int:
        """Number of token ids, special tokens included (ids run 0 … vocab_size - 1)."""
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        """text → ids, without special tokens."""
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Sequence[int]) -> str:
        """ids → text, special tokens dropped."""
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def batch(self, captions: Sequence[str], context_length: int,
              fixed_length: bool = False) -> tuple[Tensor, Tensor]:
        """captions → ids [B, L] (BOS if any, each caption cut to fit, then EOS, then pad) and the attention
        mask [B, L] (1 on real tokens); L = the longest row, at most `context_length` (with `fixed_length`,
        always `context_length`, as Stable Diffusion feeds its text encoder)."""
        start = [] if self.bos_id is None else [self.bos_id]
        room = context_length - 1 - len(start)
        rows = [start + ids[:room] + [self.eos_id]
                for ids in (e.ids for e in self.tokenizer.encode_batch(list(captions), add_special_tokens=False))]
        width = context_length if fixed_length else max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        return ids, mask


def caption_list(captions: Sequence[str] | str, who: str) -> list[str]:
    """`captions` (one string or a sequence of them) as a non-empty list of strings; ValueError or
    TypeError naming `who` otherwise."""
    captions = [captions] if isinstance(captions, str) else list(captions)
    if not captions:
        raise ValueError(f"{who} got an empty caption list; a batch needs at least one caption.")
    bad = [type(c).__name__ for c in captions if not isinstance(c, str)]
    if bad:
        raise TypeError(f"{who} expects captions as strings, got {bad[0]}.")
    return captions
