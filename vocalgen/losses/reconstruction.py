"""The base of loss terms that compare a prediction with a target from the outputs dict."""

from abc import abstractmethod

import torch
from torch import nn

from vocalgen.interfaces import Outputs


class ReconstructionTerm(nn.Module):
    """outputs[prediction_key], outputs[target_key] (same shape) → scalar distance."""

    def __init__(self, prediction_key: str = "prediction", target_key: str = "target") -> None:
        super().__init__()
        self.prediction_key = prediction_key
        self.target_key = target_key

    def forward(self, outputs: Outputs) -> torch.Tensor:
        return self.distance(outputs[self.prediction_key], outputs[self.target_key])

    @abstractmethod
    def distance(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor: ...


class L1Distance(ReconstructionTerm):
    """Mean absolute difference of same-shaped tensors (waveforms [B, 1, N], mels [B, 1, T, F], …)."""

    def distance(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (prediction - target).abs().mean()


class MeanSquaredError(ReconstructionTerm):
    """Mean squared difference of same-shaped tensors (e.g. a denoiser's prediction and target)."""

    def distance(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (prediction.float() - target.float()).pow(2).mean()


class ImageGradientL1(ReconstructionTerm):
    """Mean absolute difference of the horizontal and vertical finite differences of images [B, C, H, W]:
    an edge term that weighs small shapes and thin lines, which a pixel L1 averages away, by their outline."""

    def distance(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        difference = prediction - target
        horizontal = difference[..., :, 1:] - difference[..., :, :-1]
        vertical = difference[..., 1:, :] - difference[..., :-1, :]
        return 0.5 * (horizontal.abs().mean() + vertical.abs().mean())
