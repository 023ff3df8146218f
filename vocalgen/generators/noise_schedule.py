"""The DDPM noise schedule and its samplers (diffusers schedulers configured by plain arguments)."""

from typing import Any

import torch

from vocalgen.errors import ConfigError

SAMPLERS = ("ddim", "ddpm")


class NoiseSchedule:
    """β schedule over `num_train_timesteps` (recipe: 1000 steps, β 0.0015 → 0.0195 "scaled_linear":
    the square of a linspace of √β, which the LDM code calls "linear"), with ε- or v-prediction.

    add_noise(x0, noise, t) → x_t; target(x0, noise, t) → what the network predicts;
    sampler(kind, steps) → a diffusers scheduler set to `steps` inference steps.
    """

    def __init__(self, num_train_timesteps: int = 1000, beta_start: float = 0.0015, beta_end: float = 0.0195,
                 beta_schedule: str = "scaled_linear", prediction_type: str = "epsilon") -> None:
        from diffusers import DDPMScheduler

        if prediction_type not in ("epsilon", "v_prediction"):
            raise ConfigError(f"generator.prediction_type={prediction_type!r}: choose epsilon or v_prediction.")
        self.settings: dict[str, Any] = dict(num_train_timesteps=num_train_timesteps, beta_start=beta_start,
                                             beta_end=beta_end, beta_schedule=beta_schedule,
                                             prediction_type=prediction_type)
        self.training = DDPMScheduler(**self.settings, clip_sample=False)
        self.num_train_timesteps = num_train_timesteps
        self.prediction_type = prediction_type

    @property
    def betas(self) -> torch.Tensor:
        return self.training.betas

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.training.add_noise(x0, noise, t)

    def target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """ε, or v = √ᾱ ε − √(1 − ᾱ) x0."""
        return noise if self.prediction_type == "epsilon" else self.training.get_velocity(x0, noise, t)

    def sampler(self, kind: str, steps: int) -> Any:
        from diffusers import DDIMScheduler, DDPMScheduler

        if kind not in SAMPLERS:
            raise ConfigError(f"sampler={kind!r}: choose one of {SAMPLERS}.")
        if not 1 <= steps <= self.num_train_timesteps:
            raise ConfigError(f"steps={steps}: choose 1 to {self.num_train_timesteps} sampling steps.")
        if kind == "ddim":
            scheduler = DDIMScheduler(**self.settings, clip_sample=False, set_alpha_to_one=False)
        else:
            scheduler = DDPMScheduler(**self.settings, clip_sample=False)
        scheduler.set_timesteps(steps)
        return scheduler
