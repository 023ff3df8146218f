"""Pitch as classification: the cross-entropy of a decoder's per-frame pitch-class logits against the target's
classes; optionally the pitched ones blurred over their neighbours (as CREPE does) so that a near miss costs less
than a far one."""

import torch
from torch.nn import functional as F

from vocalgen.losses.reconstruction import ReconstructionTerm


def blurred_pitch_targets(classes: torch.Tensor, count: int, blur: float) -> torch.Tensor:
    """classes [...] (long; 0 "unvoiced", 1 … count − 1 pitches on a log grid) → target distributions
    [..., count]: one-hot for "unvoiced", else a Gaussian of `blur` classes' deviation over the pitch classes."""
    if blur <= 0:
        return F.one_hot(classes, count).float()
    pitches = torch.arange(1, count, device=classes.device, dtype=torch.float32)
    gaussian = torch.exp(-0.5 * ((pitches - classes.unsqueeze(-1).float()) / blur) ** 2)
    gaussian = gaussian / gaussian.sum(-1, keepdim=True)
    unvoiced = (classes == 0).unsqueeze(-1).float()
    return torch.cat([unvoiced, gaussian * (1 - unvoiced)], dim=-1)


class PitchCrossEntropy(ReconstructionTerm):
    """outputs["pitch_logits"] [B, T, classes] and outputs["pitch_target"] [B, T] (long; class 0 "unvoiced"; not
    the same shape, unlike most ReconstructionTerms) → the mean over frames of the cross-entropy with the targets,
    one-hot or (`blur` > 0) blurred over `blur` classes' deviation."""

    def __init__(self, blur: float = 0.0, prediction_key: str = "pitch_logits",
                 target_key: str = "pitch_target") -> None:
        super().__init__(prediction_key, target_key)
        self.blur = blur

    def distance(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        wanted = blurred_pitch_targets(target, prediction.shape[-1], self.blur)
        return -(wanted * prediction.float().log_softmax(-1)).sum(-1).mean()
