"""The "transposed SampleCNN" decoder: a latent vector upsampled ×3 per stage into a waveform."""

import torch
from torch import nn

from vocalgen.generators.latent_waveform_decoder import LatentWaveformDecoder


def upsampling_stage(in_channels: int, out_channels: int) -> nn.Sequential:
    """[B, in, L] → [B, out, 3L]: nearest ×3, Conv1d(k 3), BatchNorm, ReLU (no transposed conv)."""
    return nn.Sequential(
        nn.Upsample(scale_factor=3, mode="nearest"),
        nn.Conv1d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm1d(out_channels),
        nn.ReLU(inplace=True),
    )


class SampleCNNDecoder(LatentWaveformDecoder):
    """latent [B, latent_dim] → waveform [B, 1, 3**len(channels)] in [-1, 1] at `sample_rate`.

    `channels` lists each stage's width (recipe: [512] + [256]*6 + [128]*3 → 59 049 samples);
    `projection` the tapered 1×… projection widths before the final 1-channel tanh output.
    """

    def __init__(self, latent_dim: int, channels: list[int], projection: list[int], sample_rate: int,
                 target_field: str = "audio") -> None:
        super().__init__(sample_rate, target_field)
        self.output_samples = 3 ** len(channels)
        widths = [latent_dim, *channels]
        self.stages = nn.Sequential(*(upsampling_stage(a, b) for a, b in zip(widths[:-1], widths[1:])))
        taper = [channels[-1], *projection]
        layers: list[nn.Module] = []
        for a, b in zip(taper[:-1], taper[1:]):
            layers += [nn.Conv1d(a, b, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
        layers += [nn.Conv1d(taper[-1], 1, kernel_size=3, padding=1), nn.Tanh()]
        self.projection = nn.Sequential(*layers)

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """latent [B, latent_dim] → waveform [B, 1, output_samples]."""
        return self.projection(self.stages(latent.unsqueeze(-1)))
