"""Stable Diffusion's text encoder: a transformers CLIPTextModel whose tokens condition an image generator."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import Tensor

from vocalgen.encoders.clap.bpe_tokenizer import (
    DEFAULT_EOS,
    DEFAULT_PAD,
    BpeTokenizer,
    caption_list,
)
from vocalgen.encoders.fitted_tokenizer import FittedTokenizer
from vocalgen.errors import ConfigError
from vocalgen.interfaces import Batch, Encoder
from vocalgen.stable_diffusion_folder import check_same_architecture, check_stable_diffusion_folder, copy_weights


def clip_text_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ClipTextEncoder size arguments that rebuild the CLIPTextModel of transformers config `config`."""
    names = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "hidden_act")
    return {**{name: config[name] for name in names}, "context_length": config["max_position_embeddings"]}


class ClipTextEncoder(FittedTokenizer, Encoder):
    """batch[field] (B caption strings) → text tokens [B, context_length, hidden_size] (the CLIP text
    model's last hidden state, final layer norm applied), what a UNet cross-attends to; out_dim = hidden_size.

    Every caption is tokenised as BOS (if the tokenizer has one), its tokens cut to fit, EOS, then padding
    up to `context_length`, as Stable Diffusion feeds its text encoder (the causal attention keeps the
    real tokens' states independent of the padding).

    Two ways to get it:
      - from its sizes (the defaults are SD 1.x's CLIP ViT-L/14 text model), with a byte-level BPE of up to
        `vocab_size` tokens learned from the training captions (:meth:`fit_to_data`);
      - `pretrained`: a local SD 1.x folder whose `text_encoder` weights and `tokenizer` (transformers
        CLIPTokenizer) are loaded; its sizes must be the arguments' so that they rebuild it from a checkpoint.
    Either way the tokenizer is kept in the state dict (`_extra_state`), so a checkpoint needs neither the
    captions nor the folder.
    """

    tokenizer_owner = "ClipTextEncoder"
    tokenizer_hint = "give pretrained= a local Stable Diffusion folder"

    def __init__(self, pretrained: str | None = None, field: str = "caption", vocab_size: int = 49408,
                 hidden_size: int = 768, intermediate_size: int = 3072, num_hidden_layers: int = 12,
                 num_attention_heads: int = 12, context_length: int = 77, hidden_act: str = "quick_gelu",
                 pad_token: str = DEFAULT_PAD, eos_token: str = DEFAULT_EOS) -> None:
        super().__init__()
        from transformers import CLIPTextConfig, CLIPTextModel

        if hidden_size % num_attention_heads:
            raise ConfigError(f"ClipTextEncoder: hidden_size ({hidden_size}) must be divisible by "
                              f"num_attention_heads ({num_attention_heads}).")
        if context_length < 3:
            raise ConfigError(f"ClipTextEncoder: context_length must be at least 3 (BOS, a token, EOS), got "
                              f"{context_length}.")
        self.arguments = {"vocab_size": vocab_size, "hidden_size": hidden_size, "intermediate_size": intermediate_size,
                          "num_hidden_layers": num_hidden_layers, "num_attention_heads": num_attention_heads,
                          "context_length": context_length, "hidden_act": hidden_act}
        # eos_token_id 2 selects transformers' id-independent pooling; its pooled output is not used here
        config = CLIPTextConfig(vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=intermediate_size,
                                num_hidden_layers=num_hidden_layers, num_attention_heads=num_attention_heads,
                                max_position_embeddings=context_length, hidden_act=hidden_act,
                                bos_token_id=None, pad_token_id=None, eos_token_id=2)
        self.model = CLIPTextModel(config)
        self.field = field
        self.out_dim = hidden_size
        self.vocab_size = vocab_size
        self.context_length = context_length
        self.pad_token, self.eos_token = pad_token, eos_token
        self._bpe: BpeTokenizer | None = None
        if pretrained:
            self.load_stable_diffusion(Path(pretrained))

    def load_stable_diffusion(self, folder: Path) -> None:
        """Copy the weights of `folder`/text_encoder into this model (once its sizes are the arguments') and
        take `folder`/tokenizer as the tokenizer."""
        from tokenizers import Tokenizer
        from transformers import CLIPTextModel, CLIPTokenizer

        path = check_stable_diffusion_folder(folder, ["text_encoder", "tokenizer"])
        loaded = CLIPTextModel.from_pretrained(path, subfolder="text_encoder", local_files_only=True)
        check_same_architecture("ClipTextEncoder", path / "text_encoder", self.arguments,
                                clip_text_arguments(loaded.config.to_dict()))
        copy_weights(self.model, loaded, "ClipTextEncoder", path / "text_encoder")
        clip = CLIPTokenizer.from_pretrained(path, subfolder="tokenizer", local_files_only=True)
        backend = Tokenizer.from_str(clip.backend_tokenizer.to_str())  # a plain copy: no padding, no truncation
        backend.no_padding()
        backend.no_truncation()
        bpe = BpeTokenizer(backend, str(clip.pad_token), str(clip.eos_token), f"'{path / 'tokenizer'}'",
                           bos_token=str(clip.bos_token))
        self._set_tokenizer(bpe, f"'{path / 'tokenizer'}'")

    # --- tokenizer -------------------------------------------------------------------------------------

    def tokenize(self, captions: Sequence[str]) -> tuple[Tensor, Tensor]:
        """captions (B strings) → token ids [B, context_length] and attention mask [B, context_length]
        (1 on real tokens: BOS, the caption's, EOS)."""
        captions = caption_list(captions, "ClipTextEncoder")
        return self.fitted_tokenizer().batch(captions, self.context_length, fixed_length=True)

    def check_prompts(self, prompts: Sequence[str]) -> None:
        """ConfigError for an empty prompt (a long one is cut to `context_length`, as Stable Diffusion does)."""
        if any(not prompt.strip() for prompt in prompts):
            raise ConfigError('text="": a prompt is empty; describe the picture, or leave text out to draw from the '
                              "sound alone.")

    # --- forward ---------------------------------------------------------------------------------------

    def hidden_states(self, captions: Sequence[str]) -> tuple[Tensor, Tensor]:
        """captions (B strings) → text tokens [B, context_length, hidden_size] and their attention mask
        [B, context_length] (1 on real tokens), tokenised once."""
        ids, mask = self.tokenize(captions)
        tokens = self.model(input_ids=ids.to(self.model.device)).last_hidden_state
        return tokens, mask.to(tokens.device)

    def forward(self, batch: Batch) -> Tensor:
        """batch[field] (B strings) → text tokens [B, context_length, hidden_size]."""
        return self.hidden_states(self.captions(batch))[0]

    def captions(self, batch: Batch) -> list[str]:
        """batch[field]; KeyError naming the field when the batch lacks it."""
        if self.field not in batch:
            raise KeyError(f"ClipTextEncoder: the batch has no field '{self.field}' (encoder.field); it has "
                           f"{sorted(batch)}.")
        return batch[self.field]
