"""A Vocos-style decoder for EnCodec latents: a ConvNeXt backbone at the latent frame rate and an inverse-STFT
head (the `vocos` package's modules, MIT licence), in place of EnCodec's upsampling SEANet decoder."""

import torch
from torch import nn


def istft_synthesis(backbone: nn.Module, head: nn.Module, frames: torch.Tensor) -> torch.Tensor:
    """frames [B, C, T] → Vocos backbone [B, T, dim] → ISTFT head → audio [B, T · hop]. The head runs in fp32
    whatever the autocast: the inverse STFT has no bf16 complex kernels on the CPU."""
    features = backbone(frames)
    with torch.autocast(features.device.type, enabled=False):
        return head(features.float())


class VocosLatentDecoder(nn.Module):
    """latents [B, dimension, T] → audio [B, 1, T · hop]: `num_layers` ConvNeXt blocks of width `dim`
    (`intermediate_dim` inside) give each latent frame the log-magnitude and phase of one STFT frame of
    4 · hop points, which an inverse STFT overlaps and adds ("same" padding). Every frame is synthesised at
    once, harmonics included, where SEANet's transposed convolutions must learn to build each sinusoid; the
    vocos package's EnCodec decoder is this one at dim 384, 1152 inside, 8 layers."""

    def __init__(self, dimension: int, hop: int, dim: int = 384, intermediate_dim: int = 1152,
                 num_layers: int = 8) -> None:
        super().__init__()
        from vocos.heads import ISTFTHead
        from vocos.models import VocosBackbone

        self.backbone = VocosBackbone(input_channels=dimension, dim=dim, intermediate_dim=intermediate_dim,
                                      num_layers=num_layers)
        self.head = ISTFTHead(dim=dim, n_fft=4 * hop, hop_length=hop, padding="same")

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        """latents [B, dimension, T] → audio [B, 1, T · hop]."""
        return istft_synthesis(self.backbone, self.head, latents).unsqueeze(1)
