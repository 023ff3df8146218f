"""The shared half of the decoders from one latent vector to a fixed-length waveform (QVAE's generators)."""

from abc import abstractmethod
from typing import Any

import torch

from vocalgen.errors import ConfigError
from vocalgen.interfaces import Batch, Condition, Generator, Outputs


class LatentWaveformDecoder(Generator):
    """latent [B, latent_dim] → waveform [B, 1, output_samples] at `sample_rate`, trained against the batch's
    `target_field` waveform [B, 1, output_samples]. Subclasses set `output_samples` and implement `decode` (one
    that takes more than the latent takes a condition dict holding it)."""

    output_samples: int

    def __init__(self, sample_rate: int, target_field: str = "audio") -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.target_field = target_field

    @abstractmethod
    def decode(self, latent: Condition) -> torch.Tensor:
        """latent [B, latent_dim] → waveform [B, 1, output_samples]."""

    def target(self, batch: Batch) -> torch.Tensor:
        """The batch's target waveform [B, 1, output_samples]; a ConfigError when its length differs."""
        target = batch[self.target_field]
        if target.shape[-1] != self.output_samples:
            raise ConfigError(
                f"the decoder makes {self.output_samples} samples but batch '{self.target_field}' has "
                f"{target.shape[-1]}; set data.fields.{self.target_field}.samples to {self.output_samples} "
                f"(or the decoder's length to the field's)."
            )
        return target

    def training_forward(self, batch: Batch, condition: Condition) -> Outputs:
        return {"prediction": self.decode(condition), "target": self.target(batch)}

    def generate(self, condition: Condition, **sampling: Any) -> torch.Tensor:
        return self.decode(condition)
