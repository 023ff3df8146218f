"""Adversarial training as a config part: a discriminator, its objective, optimizer and start step."""

from collections.abc import Callable

from torch import nn
from torch.optim import Optimizer

from vocalgen.interfaces import Discriminator, Outputs


class AdversarialTraining(nn.Module):
    """Trains `discriminator` on outputs[real_key] vs outputs[fake_key] (audio [B, 1, N]) and adds its
    generator terms to the loss from generator step `start_step` on (`objective`: an
    AdversarialObjective). `optimizer` is a partial taking the discriminator's parameters;
    `gradient_clip` (norm) applies to both optimizers, since Lightning clips only automatic steps.
    """

    def __init__(self, discriminator: Discriminator, objective: nn.Module, optimizer: Callable[..., Optimizer],
                 start_step: int = 0, real_key: str = "target", fake_key: str = "prediction",
                 gradient_clip: float | None = None) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.objective = objective
        self.optimizer_factory = optimizer
        self.start_step = start_step
        self.real_key, self.fake_key = real_key, fake_key
        self.gradient_clip = gradient_clip

    def active(self, step: int) -> bool:
        return step >= self.start_step

    def discriminator_terms(self, outputs: Outputs) -> Outputs:
        """{"disc_loss", …}: the discriminator's loss on real vs (detached) generated audio."""
        return self.objective.discriminator_terms(self.discriminator, outputs[self.real_key],
                                                  outputs[self.fake_key].detach())

    def generator_terms(self, outputs: Outputs) -> Outputs:
        """{"adversarial", "feature_matching", "generator_total"}: what the generator adds to its loss."""
        return self.objective.generator_terms(self.discriminator, outputs[self.real_key], outputs[self.fake_key])
