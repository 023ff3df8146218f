"""An encoder that runs a spectrogram backbone on one batch field."""

from pathlib import Path

import torch
from torch import nn

from vocalgen.interfaces import Batch, Encoder


class SpectrogramEncoder(Encoder):
    """batch[field] [B, 1, F, T] → backbone features [B, out_dim] (or, from a backbone that does not pool, e.g.
    MobileNetV3 with pool=False, its feature map [B, out_dim, F', T']).

    `pretrained`: optional local path of EfficientAT weights for a MobileNetV3 backbone.
    `augment`: a module applied to the input in training mode (e.g. SpectrogramAugment).
    """

    def __init__(self, backbone: nn.Module, field: str = "imitation", pretrained: str | None = None,
                 augment: nn.Module | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.field = field
        self.augment = augment
        self.out_dim = backbone.out_dim
        if pretrained:
            from vocalgen.encoders.efficientat_weights import load_efficientat_weights

            load_efficientat_weights(backbone, Path(pretrained))

    def forward(self, batch: Batch) -> torch.Tensor:
        spectrogram = batch[self.field]
        if self.augment is not None and self.training:
            spectrogram = self.augment(spectrogram)
        return self.backbone(spectrogram)
