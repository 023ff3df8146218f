"""The beat-phase sawtooth that conditions loop generation on tempo (docs/recipes.md, "α-(de)blending")."""

import torch

from vocalgen.data.beats import beat_phase, even_beats, validate_bpm
from vocalgen.interfaces import Batch, Encoder


class BeatPhaseEncoder(Encoder):
    """batch → beat phase [B, frames] at `frame_rate` (latent frames per second), rising 0 → 1 per beat.

    From batch[field] ([B, T], beats of the data) when present; else from batch[bpm_field] ([B]
    tempi, at generation) with evenly spaced beats from `offset` seconds.
    """

    out_dim = 1  # one channel per frame

    def __init__(self, frames: int = 1024, frame_rate: float = 75.0, field: str = "beat_phase",
                 bpm_field: str = "bpm", offset: float = 0.0) -> None:
        super().__init__()
        self.frames = frames
        self.frame_rate = frame_rate
        self.field = field
        self.bpm_field = bpm_field
        self.offset = offset

    def from_bpm(self, bpm: float) -> torch.Tensor:
        """One tempo → phase [frames]; beats continue past the clip so that short clips have two."""
        seconds = self.frames / self.frame_rate + 2 * 60.0 / bpm
        return beat_phase(even_beats(bpm, seconds, self.offset), self.frames, self.frame_rate)

    def forward(self, batch: Batch) -> torch.Tensor:
        if self.field in batch:
            phase = batch[self.field]
            if phase.dim() == 3 and phase.shape[1] == 1:
                phase = phase[:, 0]
            if phase.dim() != 2:
                raise ValueError(f"BeatPhaseEncoder: batch['{self.field}'] must be [B, frames], got "
                                 f"{tuple(phase.shape)}.")
            return phase.float()
        if self.bpm_field not in batch:
            raise KeyError(f"BeatPhaseEncoder: the batch has neither '{self.field}' (encoder.field) nor "
                           f"'{self.bpm_field}' (encoder.bpm_field); it has {sorted(batch)}.")
        tempi = batch[self.bpm_field]
        device = tempi.device if isinstance(tempi, torch.Tensor) else torch.device("cpu")
        values = tempi.reshape(-1).tolist() if isinstance(tempi, torch.Tensor) else list(tempi)
        bpms = [validate_bpm(value, f"batch['{self.bpm_field}'][{i}]") for i, value in enumerate(values)]
        return torch.stack([self.from_bpm(bpm) for bpm in bpms]).to(device)
