"""GAN objectives for the waveform discriminators (vocalgen.discriminators).

Each function takes the lists a Discriminator returns (one logits tensor, or one list of feature
maps, per sub-discriminator) and reduces over sub-discriminators by "sum" (HiFi-GAN) or "mean"
(EnCodec's 1/K). Kinds:
  "lsgan" (HiFi-GAN):  D: (1 − D(x))² + D(G(z))²          G: (1 − D(G(z)))²
  "hinge" (EnCodec):   D: max(0, 1 − D(x)) + max(0, 1 + D(G(z)))   G: max(0, 1 − D(G(z)))
each averaged over a sub-discriminator's logits.
"""

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vocalgen.interfaces import Discriminator

Kind = Literal["lsgan", "hinge"]
Reduction = Literal["sum", "mean"]
KINDS = ("lsgan", "hinge")
REDUCTIONS = ("sum", "mean")


def _check(kind: str, reduction: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"adversarial kind={kind!r}: choose one of {list(KINDS)}.")
    _check_reduction(reduction)


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"adversarial reduction={reduction!r}: choose one of {list(REDUCTIONS)}.")


def _reduce(terms: Sequence[Tensor], reduction: Reduction) -> Tensor:
    if not terms:
        raise ValueError("adversarial loss: the discriminator returned no sub-discriminator outputs.")
    total = torch.stack(list(terms)).sum()
    return total / len(terms) if reduction == "mean" else total


def discriminator_real_fake(real_logits: Sequence[Tensor], fake_logits: Sequence[Tensor], kind: Kind = "lsgan",
                            reduction: Reduction = "sum") -> tuple[Tensor, Tensor]:
    """Logits per sub-discriminator (any shape, e.g. [B, L]) → (term on real, term on fake), scalars."""
    _check(kind, reduction)
    if len(real_logits) != len(fake_logits):
        raise ValueError(f"adversarial loss: {len(real_logits)} real but {len(fake_logits)} fake logit tensors.")
    if kind == "lsgan":
        real = [(1 - r).pow(2).mean() for r in real_logits]
        fake = [f.pow(2).mean() for f in fake_logits]
    else:
        real = [F.relu(1 - r).mean() for r in real_logits]
        fake = [F.relu(1 + f).mean() for f in fake_logits]
    return _reduce(real, reduction), _reduce(fake, reduction)


def discriminator_loss(real_logits: Sequence[Tensor], fake_logits: Sequence[Tensor], kind: Kind = "lsgan",
                       reduction: Reduction = "sum") -> Tensor:
    """The discriminator's loss (scalar): its term on real plus its term on fake."""
    real, fake = discriminator_real_fake(real_logits, fake_logits, kind, reduction)
    return real + fake


def generator_adversarial_loss(fake_logits: Sequence[Tensor], kind: Kind = "lsgan",
                               reduction: Reduction = "sum") -> Tensor:
    """The generator's adversarial loss (scalar) from the logits of its output per sub-discriminator."""
    _check(kind, reduction)
    if kind == "lsgan":
        terms = [(1 - f).pow(2).mean() for f in fake_logits]
    else:
        terms = [F.relu(1 - f).mean() for f in fake_logits]
    return _reduce(terms, reduction)


def feature_matching_loss(real_features: Sequence[Sequence[Tensor]], fake_features: Sequence[Sequence[Tensor]],
                          reduction: Reduction = "sum", relative: bool = False) -> Tensor:
    """Feature maps per sub-discriminator per layer → scalar: mean L1 of each (real, fake) map pair, real
    maps detached, summed over layers and reduced over sub-discriminators.

    "sum" with relative=False is HiFi-GAN's; "mean" with relative=True is EnCodec's (each layer's L1
    divided by the mean |real map|, then averaged over layers as well).
    """
    _check_reduction(reduction)
    if len(real_features) != len(fake_features):
        raise ValueError(f"feature matching: {len(real_features)} real but {len(fake_features)} fake "
                         "sub-discriminator feature lists.")
    terms = []
    for i, (reals, fakes) in enumerate(zip(real_features, fake_features)):
        if len(reals) != len(fakes) or not reals:
            raise ValueError(f"feature matching: sub-discriminator {i} gave {len(reals)} real and {len(fakes)} "
                             "fake feature maps; give the same non-empty count.")
        layers = []
        for real, fake in zip(reals, fakes):
            real = real.detach()
            distance = (real - fake).abs().mean()
            if relative:
                distance = distance / (real.abs().mean() + 1e-8)
            layers.append(distance)
        layer_total = torch.stack(layers).sum()
        terms.append(layer_total / len(layers) if reduction == "mean" else layer_total)
    return _reduce(terms, reduction)


class AdversarialObjective(nn.Module):
    """The two halves of a GAN step, for a LightningModule's manual optimisation (a parameter-free module).

    kind: "lsgan" (HiFi-GAN) or "hinge" (EnCodec); reduction over sub-discriminators: "sum"
    (HiFi-GAN) or "mean" (EnCodec); relative_features: EnCodec's normalised feature matching.
    HiFi-GAN: defaults (with mel L1 × 45 beside). EnCodec: kind="hinge", reduction="mean",
    relative_features=True, adversarial_weight=3, feature_weight=3.
    """

    def __init__(self, kind: Kind = "lsgan", feature_weight: float = 2.0, adversarial_weight: float = 1.0,
                 reduction: Reduction = "sum", relative_features: bool = False) -> None:
        super().__init__()
        _check(kind, reduction)
        self.kind, self.reduction, self.relative_features = kind, reduction, relative_features
        self.feature_weight, self.adversarial_weight = feature_weight, adversarial_weight

    def discriminator_terms(self, discriminator: Discriminator, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """real, fake audio [B, 1, N] → {"disc_loss", "disc_real", "disc_fake"} (scalars).

        `fake` is detached here: only the discriminator receives gradients.
        """
        real_logits, _ = discriminator(real)
        fake_logits, _ = discriminator(fake.detach())
        on_real, on_fake = discriminator_real_fake(real_logits, fake_logits, self.kind, self.reduction)
        return {"disc_loss": on_real + on_fake, "disc_real": on_real, "disc_fake": on_fake}

    def generator_terms(self, discriminator: Discriminator, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """real, fake audio [B, 1, N] → {"adversarial", "feature_matching"} (unweighted) and
        "generator_total" = adversarial_weight · adversarial + feature_weight · feature_matching.

        The real pass runs without gradients. Gradients reach the discriminator's parameters through
        the fake pass: step only the generator's optimiser with them (and zero the discriminator's).
        """
        with torch.no_grad():
            _, real_features = discriminator(real)
        fake_logits, fake_features = discriminator(fake)
        adversarial = generator_adversarial_loss(fake_logits, self.kind, self.reduction)
        matching = feature_matching_loss(real_features, fake_features, self.reduction, self.relative_features)
        total = self.adversarial_weight * adversarial + self.feature_weight * matching
        return {"adversarial": adversarial, "feature_matching": matching, "generator_total": total}
