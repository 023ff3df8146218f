"""Latent diffusion (AudioLDM's generator): a UNet denoising pretransform latents under a condition."""

from typing import Any

import torch
from torch import nn

from vocalgen.errors import ConfigError
from vocalgen.generators.guidance import drop_conditions, guidance_schedule, guide
from vocalgen.generators.latent_scale import measure_latent_scale
from vocalgen.generators.noise_schedule import NoiseSchedule
from vocalgen.interfaces import Batch, Generator, Outputs, Pretransform


class LatentDiffusion(Generator):
    """DDPM training and DDIM/DDPM sampling over the latents of a frozen `pretransform`.

    `unet` is a diffusers UNet2DConditionModel over latents [B, C, T', F']; the condition [B, D]
    reaches it by FiLM (its `class_embed_type` projection, concatenated to the time embedding) and/or
    by cross-attention (CrossAttn blocks, the condition as one token), whichever the UNet has.
    Latents are scaled by 1 / std measured on the first training batch (`latent_scale`, kept in the
    state dict). In training each condition is replaced by the null (zero) vector with probability
    `condition_dropout`, for classifier-free guidance.

    training_forward → {"prediction", "target"} [B, C, T', F'] (ε or v); generate(condition [B, D])
    → audio [B, 1, N] at the pretransform's rate for clips of `samples` samples.
    """

    def __init__(self, unet: nn.Module, pretransform: Pretransform, condition_dim: int, samples: int,
                 schedule: NoiseSchedule | None = None, condition_dropout: float = 0.1,
                 audio_field: str = "audio_16k", latent_field: str = "latents") -> None:
        super().__init__()
        self.unet = unet
        self.pretransform = pretransform
        self.schedule = schedule or NoiseSchedule()
        self.condition_dim = condition_dim
        self.samples = samples
        self.condition_dropout = condition_dropout
        self.audio_field = self.target_field = audio_field
        self.latent_field = latent_field
        self.sample_rate = pretransform.sample_rate
        config = unet.config
        self.film = config.class_embed_type is not None
        blocks = [*config.down_block_types, config.mid_block_type or ""]
        self.cross_attention = any("CrossAttn" in block for block in blocks)
        if not (self.film or self.cross_attention):
            raise ConfigError("generator.unet has neither a class-embedding projection (FiLM) nor cross-attention "
                              "blocks: the condition would not reach it.")
        widths = {"projection_class_embeddings_input_dim": self.film, "cross_attention_dim": self.cross_attention}
        for key, used in widths.items():
            if used and getattr(config, key) != condition_dim:
                raise ConfigError(f"generator.unet.{key}={getattr(config, key)} but the condition is "
                                  f"{condition_dim}-d (generator.condition_dim); make them equal.")
        self.register_buffer("latent_scale", torch.zeros(()))  # 0 until measured on the first training batch

    def null_condition(self, like: torch.Tensor) -> torch.Tensor:
        """The unconditional embedding: the zero vector."""
        return torch.zeros_like(like)

    def check_condition(self, condition: torch.Tensor) -> None:
        if condition.dim() != 2 or condition.shape[1] != self.condition_dim:
            raise ConfigError(f"LatentDiffusion expects conditions [B, {self.condition_dim}], got "
                              f"{tuple(condition.shape)}; generator.condition_dim must match the encoder/adapter.")

    def latents(self, batch: Batch) -> torch.Tensor:
        """Unscaled latents [B, C, T', F']: pre-encoded (data.cache) or encoded now."""
        if self.latent_field in batch:
            return batch[self.latent_field]
        with torch.no_grad():
            return self.pretransform.encode(batch[self.audio_field])

    def denoise(self, x: torch.Tensor, t: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """The UNet's prediction for x_t [B, C, T', F'] at timesteps t [B] under condition [B, D]."""
        return self.unet(x, t, encoder_hidden_states=condition.unsqueeze(1) if self.cross_attention else None,
                         class_labels=condition if self.film else None).sample

    def training_forward(self, batch: Batch, condition: torch.Tensor) -> Outputs:
        self.check_condition(condition)
        latents = self.latents(batch)
        if self.training and not self.latent_scale:
            measure_latent_scale(self.latent_scale, latents)
        x0 = latents * self.latent_scale
        noise = torch.randn_like(x0)
        t = torch.randint(0, self.schedule.num_train_timesteps, (x0.shape[0],), device=x0.device)
        if self.training:
            condition = drop_conditions(condition, self.null_condition(condition[:1]), self.condition_dropout)
        prediction = self.denoise(self.schedule.add_noise(x0, noise, t), t, condition)
        return {"prediction": prediction, "target": self.schedule.target(x0, noise, t)}

    def latent_shape(self) -> tuple[int, ...]:
        """[C, T', F'] of the latents of a `samples`-long clip."""
        with torch.no_grad():
            probe = torch.zeros(1, 1, self.samples, device=self.latent_scale.device)
            return tuple(self.pretransform.encode(probe).shape[1:])

    @torch.no_grad()
    def sample_latents(self, condition: torch.Tensor, steps: int = 200, guidance: float = 3.5,
                       guidance_end: float | None = None, sampler: str = "ddim",
                       seed: int | None = None) -> torch.Tensor:
        """Scaled latents [B, C, T', F'] sampled under condition [B, D] with classifier-free guidance
        (scale `guidance`, ramped to `guidance_end` over the steps when given)."""
        self.check_condition(condition)
        if not self.latent_scale:
            raise ConfigError("this LatentDiffusion has no latent scale yet (it is measured on the first training "
                              "batch): generate from a trained checkpoint.")
        scheduler = self.schedule.sampler(sampler, steps)
        noise_source = torch.Generator(device="cpu").manual_seed(seed) if seed is not None else None
        x = torch.randn((condition.shape[0], *self.latent_shape()), generator=noise_source).to(condition.device)
        x = x * scheduler.init_noise_sigma
        null = self.null_condition(condition)
        for scale, t in zip(guidance_schedule(guidance, guidance_end, steps), scheduler.timesteps):
            timesteps = torch.full((x.shape[0],), int(t), device=x.device)
            if scale == 1.0:
                prediction = self.denoise(x, timesteps, condition)
            elif scale == 0.0:
                prediction = self.denoise(x, timesteps, null)
            else:
                both = self.denoise(torch.cat([x, x]), torch.cat([timesteps, timesteps]), torch.cat([null, condition]))
                prediction = guide(*both.chunk(2), scale)
            x = scheduler.step(prediction, t, x, generator=noise_source).prev_sample
        return x

    @torch.no_grad()
    def generate(self, condition: torch.Tensor, steps: int = 200, guidance: float = 3.5,
                 guidance_end: float | None = None, sampler: str = "ddim", seed: int | None = None,
                 **sampling: Any) -> torch.Tensor:
        latents = self.sample_latents(condition, steps, guidance, guidance_end, sampler, seed)
        return self.pretransform.decode(latents / self.latent_scale)
