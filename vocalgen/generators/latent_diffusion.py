"""Latent diffusion (AudioLDM's generator): a UNet denoising pretransform latents under a condition."""

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from vocalgen.errors import ConfigError
from vocalgen.generators.condition_routing import ConditionRouting, named
from vocalgen.generators.guidance import drop_conditions, guidance_schedule, guide_in_order
from vocalgen.generators.latent_scale import measure_latent_scale
from vocalgen.generators.noise_schedule import NoiseSchedule
from vocalgen.generators.seeding import seeded_generator
from vocalgen.interfaces import Batch, Condition, Generator, Outputs, Pretransform
from vocalgen.outputs import OutputKind


class LatentDiffusion(Generator):
    """DDPM training and DDIM/DDPM sampling over the latents of a frozen `pretransform` (a mel VAE +
    vocoder for audio, an image VAE for images).

    `unet` is a diffusers UNet2DConditionModel over latents [B, C, …]; named conditions reach it as
    `routes` says (see ConditionRouting: cross-attention tokens, FiLM vectors; by default the one
    condition [B, D] goes to every path the UNet has). Latents are scaled by `latent_scale`, by default
    1 / std measured on the first training batch (kept in the state dict). In training each condition is
    replaced by its null (zeros) with probability `condition_dropout`, for classifier-free guidance.

    Gated audio attention (the "audio_attention" route) is added to a trained model by
    generators.audio_path.with_audio_attention. `target_field` is the batch field the pretransform
    encodes (audio [B, 1, N], images [B, 3, H, W]; `audio_field` is its former name, as older
    checkpoints give it); generated items have the shape `item_shape` (default [1, samples]).
    training_forward → {"prediction", "target"} [B, C, …] (ε or v); generate(condition) → items
    [B, *item_shape] of the pretransform's output kind.
    """

    def __init__(self, unet: nn.Module, pretransform: Pretransform, condition_dim: int | None = None,
                 samples: int | None = None, schedule: NoiseSchedule | None = None,
                 condition_dropout: float = 0.1, audio_field: str = "audio_16k", latent_field: str = "latents",
                 routes: dict[str, str | list[str]] | None = None, target_field: str | None = None,
                 item_shape: Sequence[int] | None = None, latent_scale: float | None = None) -> None:
        super().__init__()
        self.unet = unet
        self.pretransform = pretransform
        self.schedule = schedule or NoiseSchedule()
        self.routing = ConditionRouting(unet, routes)
        self.condition_dim = condition_dim  # of the one condition vector, when the experiment gives it
        if item_shape is None and samples is None:
            raise ConfigError("generator.samples (audio length) or generator.item_shape (e.g. [3, 64, 64] for "
                              "images) must be given: the shape of what the generator makes.")
        self.item_shape = tuple(item_shape) if item_shape is not None else (1, samples)
        self.condition_dropout = condition_dropout
        self.audio_field = self.target_field = target_field or audio_field
        self.latent_field = latent_field
        self.sample_rate = getattr(pretransform, "sample_rate", 0)
        if condition_dim is not None:
            self.routing.check({name: torch.zeros(1, condition_dim) for name in self.routing.routes})
        # 0 until measured on the first training batch, unless known (e.g. 1 for Stable Diffusion's UNet)
        self.register_buffer("latent_scale", torch.tensor(float(latent_scale or 0.0)))

    @property
    def output(self) -> OutputKind:
        return self.pretransform.output

    def null_condition(self, condition: Condition) -> dict[str, torch.Tensor]:
        """The unconditional input: zeros in place of every named condition."""
        return {name: torch.zeros_like(value) for name, value in named(condition).items()}

    def latents(self, batch: Batch) -> torch.Tensor:
        """Unscaled latents [B, C, T', F']: pre-encoded (data.cache) or encoded now."""
        if self.latent_field in batch:
            return batch[self.latent_field]
        with torch.no_grad():
            return self.pretransform.encode(batch[self.audio_field])

    def denoise(self, x: torch.Tensor, t: torch.Tensor, condition: Condition) -> torch.Tensor:
        """The UNet's prediction for x_t [B, C, …] at timesteps t [B] under the (named) condition."""
        return self.unet(x, t, **self.routing.unet_inputs(condition)).sample

    def training_forward(self, batch: Batch, condition: Condition) -> Outputs:
        conditions = self.routing.check(condition)
        latents = self.latents(batch)
        if self.training and not self.latent_scale:
            measure_latent_scale(self.latent_scale, latents)
        x0 = latents * self.latent_scale
        noise = torch.randn_like(x0)
        t = torch.randint(0, self.schedule.num_train_timesteps, (x0.shape[0],), device=x0.device)
        if self.training:
            conditions = {name: drop_conditions(value, torch.zeros_like(value[:1]), self.condition_dropout)
                          for name, value in conditions.items()}
        prediction = self.denoise(self.schedule.add_noise(x0, noise, t), t, conditions)
        return {"prediction": prediction, "target": self.schedule.target(x0, noise, t)}

    def latent_shape(self) -> tuple[int, ...]:
        """[C, …] of the latents of one item of `item_shape`."""
        with torch.no_grad():
            probe = torch.zeros(1, *self.item_shape, device=self.latent_scale.device)
            return tuple(self.pretransform.encode(probe).shape[1:])

    @torch.no_grad()
    def sample_latents(self, condition: Condition, steps: int = 200, guidance: float | Mapping[str, float] = 3.5,
                       guidance_end: float | None = None, sampler: str = "ddim",
                       seed: int | None = None) -> torch.Tensor:
        """Scaled latents [B, C, …] sampled under the (named) condition with classifier-free guidance:
        one scale `guidance` (ramped to `guidance_end` over the steps when given) against the null of
        every condition, or {name: scale, …} guiding by each named condition in turn (e.g. {"text": 7.5,
        "audio": 3}: text against nothing, then text + audio against text; see guide_in_order). A routed
        token condition that is absent (a prompt without a sound) is its null."""
        condition = self.routing.check(condition, fill_missing=True)
        first = next(iter(condition.values()))
        if not self.latent_scale:
            raise ConfigError("this LatentDiffusion has no latent scale yet (it is measured on the first training "
                              "batch): generate from a trained checkpoint.")
        scheduler = self.schedule.sampler(sampler, steps)
        noise_source = seeded_generator(seed)
        x = torch.randn((first.shape[0], *self.latent_shape()), generator=noise_source).to(first.device)
        x = x * scheduler.init_noise_sigma
        variants, scales = self.guidance_variants(condition, guidance, guidance_end, steps)
        for step_scales, t in zip(scales, scheduler.timesteps):
            timesteps = torch.full((x.shape[0],), int(t), device=x.device)
            if len(variants) == 1:
                prediction = self.denoise(x, timesteps, variants[0])
            else:
                batched = {name: torch.cat([variant[name] for variant in variants]) for name in condition}
                predictions = self.denoise(torch.cat([x] * len(variants)), torch.cat([timesteps] * len(variants)),
                                           batched).chunk(len(variants))
                prediction = guide_in_order(predictions, step_scales)
            x = scheduler.step(prediction, t, x, generator=noise_source).prev_sample
        return x

    def guidance_variants(self, condition: dict[str, torch.Tensor], guidance: float | Mapping[str, float],
                          guidance_end: float | None, steps: int) -> tuple[list[dict], list[list[float]]]:
        """The conditions the UNet sees at each step (none, then one more guided name at a time) and
        each step's scales. Names a mapping leaves out stay conditioned throughout; a single scale of
        1 or 0 needs one UNet call (the condition, or its null)."""
        null = self.null_condition(condition)
        if not isinstance(guidance, Mapping):
            ramp = guidance_schedule(guidance, guidance_end, steps)
            if all(scale == ramp[0] for scale in ramp) and ramp[0] in (0.0, 1.0):
                return [condition if ramp[0] else null], [[]] * steps
            return [null, condition], [[scale] for scale in ramp]
        unknown = sorted(set(guidance) - set(condition))
        if unknown or guidance_end is not None:
            raise ConfigError(f"guidance={dict(guidance)}: per-condition scales take names of the conditions "
                              f"{sorted(condition)} (unknown: {unknown}) and no guidance_end.")
        guided = list(guidance)
        variants = [{name: condition[name] if name not in guided or guided.index(name) < k else null[name]
                     for name in condition} for k in range(len(guided) + 1)]
        return variants, [[float(guidance[name]) for name in guided]] * steps

    @torch.no_grad()
    def generate(self, condition: Condition, steps: int = 200, guidance: float | Mapping[str, float] = 3.5,
                 guidance_end: float | None = None, sampler: str = "ddim", seed: int | None = None,
                 condition_norms: Mapping[str, float] | None = None, **sampling: Any) -> torch.Tensor:
        """Items [B, *item_shape] of the pretransform's output kind. `condition_norms` {name: n} scales a
        named condition's tokens [B, S, D] to a mean L2 norm of n first (CLAP2Diffusion's "Norm 60")."""
        if condition_norms:
            condition = {name: with_mean_norm(value, condition_norms[name]) if name in condition_norms else value
                         for name, value in named(condition).items()}
        latents = self.sample_latents(condition, steps, guidance, guidance_end, sampler, seed)
        return self.pretransform.decode(latents / self.latent_scale)


def with_mean_norm(tokens: torch.Tensor, norm: float) -> torch.Tensor:
    """tokens [B, S, D] (or [B, D]) scaled per item so that their mean L2 norm over S is `norm`."""
    norms = tokens.norm(dim=-1, keepdim=True)
    mean = norms.mean(dim=-2, keepdim=True) if tokens.dim() == 3 else norms
    return tokens * (norm / mean.clamp_min(1e-8))
