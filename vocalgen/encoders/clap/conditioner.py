"""Both CLAP towers as one conditioner: audio when the batch has it, text otherwise."""

from collections.abc import Sequence

import torch

from vocalgen.encoders.clap.encoders import ClapAudioEncoder, ClapTextEncoder
from vocalgen.errors import ConfigError
from vocalgen.interfaces import Batch, Encoder


class ClapConditioner(Encoder):
    """batch → unit-norm CLAP embedding [B, out_dim]: the audio tower's when batch holds its field
    (training on the target clip, AudioLDM-style), else the text tower's on batch[text.field]
    (generation from a prompt). Build both from one CLAP checkpoint (conf/encoder/clap_checkpoint.yaml).
    """

    def __init__(self, audio: ClapAudioEncoder, text: ClapTextEncoder) -> None:
        super().__init__()
        if audio.out_dim != text.out_dim:
            raise ConfigError(f"CLAP towers disagree: audio {audio.out_dim}-d, text {text.out_dim}-d.")
        self.audio, self.text = audio, text
        self.out_dim = audio.out_dim
        self.field = audio.field

    def check_prompts(self, prompts: Sequence[str]) -> None:
        """ConfigError for an empty prompt or one longer than the text tower's context."""
        tower = self.text.tower
        for prompt in prompts:
            if not prompt.strip():
                raise ConfigError("text=\"\": the prompt is empty; describe the sound to generate.")
            tokens = tower.token_count(prompt)
            if tokens > tower.context_length:
                raise ConfigError(f"text=\"{prompt[:40]}…\": the prompt is {tokens} tokens, but the CLAP text tower "
                                  f"reads at most {tower.context_length}; shorten it.")

    def forward(self, batch: Batch) -> torch.Tensor:
        if self.audio.field in batch:
            return self.audio(batch)
        if self.text.field in batch:
            return self.text(batch)
        raise KeyError(f"ClapConditioner: the batch has neither '{self.audio.field}' nor '{self.text.field}'; "
                       f"it has {sorted(batch)}.")
