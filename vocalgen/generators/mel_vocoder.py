"""What every mel vocoder stage shares (`+experiment=vocoder` HiFi-GAN, `+experiment=vocos`): AudioLDM log-mel
→ 16 kHz waveform, trained on random windows of the clips; later stages call `vocode`."""

from abc import abstractmethod
from typing import Any

import torch

from vocalgen.data.audio_io import fit_length, random_window
from vocalgen.data.audioldm_mel import AudioLDMMel
from vocalgen.errors import ConfigError
from vocalgen.interfaces import Batch, Generator, Outputs


class MelVocoder(Generator):
    """A network from the log-mels of `frontend` to audio at its rate.

    training_forward → {"prediction": vocoded [B, 1, T · hop], "target": batch[audio_field] cut to it}
    (in training a random `segment`-sample window of it, when `segment` is set);
    generate(audio [B, 1, N]) → the resynthesis [B, 1, T · hop]; vocode(log-mel [B, T, F]) → [B, 1, T · hop].
    A subclass gives `waveform`.
    """

    def __init__(self, frontend: AudioLDMMel, audio_field: str = "audio_16k", segment: int | None = None) -> None:
        super().__init__()
        if segment is not None and segment % frontend.hop_length:
            raise ConfigError(f"generator.segment={segment} must be a multiple of the mel hop {frontend.hop_length}.")
        self.frontend = frontend
        self.audio_field = self.target_field = audio_field
        self.sample_rate = frontend.sample_rate
        self.segment = segment

    @abstractmethod
    def waveform(self, mel: torch.Tensor) -> torch.Tensor:
        """log-mel [B, T, F] → audio [B, N] with N ≈ T · hop."""

    def vocode(self, mel: torch.Tensor) -> torch.Tensor:
        """log-mel [B, T, F] → audio [B, 1, T · hop] in [-1, 1] (cut or zero-padded to exactly T · hop)."""
        audio = self.waveform(mel).unsqueeze(1).clamp(-1.0, 1.0)
        return fit_length(audio, mel.shape[-2] * self.frontend.hop_length)

    def training_forward(self, batch: Batch, condition: torch.Tensor) -> Outputs:
        audio = batch[self.audio_field]
        if self.training:
            audio = random_window(audio, self.segment, self.frontend.hop_length)
        prediction = self.vocode(self.frontend(audio)[:, 0])
        return {"prediction": prediction, "target": audio[..., : prediction.shape[-1]]}

    def generate(self, condition: torch.Tensor, **sampling: Any) -> torch.Tensor:
        return self.vocode(self.frontend(condition)[:, 0])
