"""Iterative α-(de)blending (IADB, Heitz et al. 2023) on pretransform latents, with classifier-free guidance.

Training: x1 = latents · latent_scale (by default 1 / std of the first training batch's latents,
kept in the checkpoint), x0 ~ N(0, I), α ~ U(0, 1), x_α = (1 − α) x0 + α x1;
outputs {"prediction": D(x_α, α, c), "target": x1 − x0} for an MSE loss.
Sampling with T steps: x = x0; for t in 0 … T−1: x += (α_{t+1} − α_t) · d, α_t = t / T, where
d = u + w · (c − u), u = D(x, α_t, null), c = D(x, α_t, conditions), w = guidance (Euler, IADB's;
sampler="heun" is the second-order alternative of vocalgen.generators.blending_samplers).

Condition dropout (training mode only, never in eval mode or at sampling): each sample's named
conditions are all replaced by the null condition together with probability `condition_dropout`,
and besides each one alone with probability `separate_dropout` (0 by default; > 0 teaches a
two-condition model each condition without the other). The null is zeros, or ("learned") a learned
vector [D] per vector condition and a learned per-channel constant [c] (broadcast over T) per
sequence condition, both starting at zero.
"""

from collections.abc import Mapping

import torch
from torch import nn

from vocalgen.errors import ConfigError
from vocalgen.generators.blending_samplers import integrate
from vocalgen.generators.guidance import guide
from vocalgen.generators.latent_scale import measure_latent_scale
from vocalgen.generators.seeding import seeded_generator
from vocalgen.interfaces import Batch, Condition, Generator, Outputs, Pretransform

NULL_CONDITIONS = ("zeros", "learned")


class IADBGenerator(Generator):
    """conditions {name: [B, T] / [B, c, T] / [B, D]} → latents [B, C, frames] → audio [B, 1, N] at `sample_rate`.

    `denoiser`: a UNet1D (or any module with its forward(x, alpha, conditions), `channels`,
    `sequence_conditions` and `vector_conditions`). `pretransform`: frozen, decodes the latents (and
    encodes batch[audio_field] when the batch has no pre-encoded batch[latent_field] [B, C, T]);
    may be None when training on pre-encoded latents only. `latent_scale` multiplies the
    pretransform's latents (to bring them near unit variance, like x0) and generation divides by it;
    None: measured as 1 / std on the first training batch (a buffer, saved in checkpoints).
    """

    def __init__(self, denoiser: nn.Module, pretransform: Pretransform | None = None, frames: int = 1024,
                 latent_field: str = "latents", audio_field: str = "audio_24k", condition_dropout: float = 0.1,
                 null_condition: str = "zeros", separate_dropout: float = 0.0,
                 latent_scale: float | None = None) -> None:
        super().__init__()
        if null_condition not in NULL_CONDITIONS:
            raise ConfigError(f"generator.null_condition must be one of {NULL_CONDITIONS}, got '{null_condition}'.")
        for key, p in (("condition_dropout", condition_dropout), ("separate_dropout", separate_dropout)):
            if not 0.0 <= p <= 1.0:
                raise ConfigError(f"generator.{key} is a probability in [0, 1], got {p}.")
        multiple = getattr(denoiser, "multiple", 1)
        if frames % multiple:
            raise ConfigError(f"generator.frames={frames} must be a multiple of {multiple} for this denoiser "
                              f"(2^(levels-1)); e.g. {-(-frames // multiple) * multiple}.")
        if pretransform is not None and pretransform.latent_channels != denoiser.channels:
            raise ConfigError(f"generator.denoiser.channels={denoiser.channels} but the pretransform's latents have "
                              f"{pretransform.latent_channels} channels; make them equal.")
        self.denoiser = denoiser
        self.pretransform = pretransform
        if pretransform is not None:
            pretransform.requires_grad_(False).eval()
        self.frames = frames
        self.latent_field = latent_field
        self.audio_field = audio_field
        self.target_field = audio_field  # the reference audio that sample callbacks write beside the output
        self.condition_dropout = condition_dropout
        self.separate_dropout = separate_dropout
        self.null_condition = null_condition
        self.register_buffer("latent_scale", torch.tensor(float(latent_scale or 0.0)))  # 0: not measured yet
        self.shapes = {**{name: (c, 1) for name, c in denoiser.sequence_conditions.items()},
                       **{name: (d,) for name, d in denoiser.vector_conditions.items()}}
        self.nulls = nn.ParameterDict(
            {name: nn.Parameter(torch.zeros(shape)) for name, shape in self.shapes.items()}
            if null_condition == "learned" else {}
        )

    @property
    def sample_rate(self) -> int:
        if self.pretransform is None:
            raise ConfigError("IADBGenerator has no pretransform (generator.pretransform): it cannot make audio.")
        return self.pretransform.sample_rate

    def train(self, mode: bool = True) -> "IADBGenerator":
        """The pretransform stays in eval mode."""
        super().train(mode)
        if self.pretransform is not None:
            self.pretransform.eval()
        return self

    def named(self, condition: Condition | None) -> dict[str, torch.Tensor]:
        """condition → {name: tensor}, sequences as [B, c, T]; a bare tensor is the denoiser's only condition."""
        if condition is None:
            conditions: dict[str, torch.Tensor] = {}
        elif isinstance(condition, torch.Tensor):
            if len(self.shapes) != 1:
                raise TypeError(f"IADBGenerator: got one condition tensor, but the denoiser takes the named "
                                f"conditions {sorted(self.shapes)}; pass a dict (e.g. encoder NamedConditions).")
            conditions = {next(iter(self.shapes)): condition}
        elif isinstance(condition, Mapping):
            conditions = dict(condition)
        else:
            raise TypeError(f"IADBGenerator: the condition must be a dict of named tensors, got {type(condition)}.")
        unknown = set(conditions) - set(self.shapes)
        if unknown or len(conditions) != len(self.shapes):
            raise ValueError(f"IADBGenerator: the denoiser takes the conditions {sorted(self.shapes)} but got "
                             f"{sorted(conditions)}; align the encoder's names with denoiser.condition_channels "
                             f"and denoiser.gate_condition.")
        return {name: value.unsqueeze(1) if len(self.shapes[name]) == 2 and value.dim() == 2 else value
                for name, value in conditions.items()}

    def null(self, name: str, value: torch.Tensor) -> torch.Tensor:
        """The null condition shaped like `value` ([B, c, T] or [B, D])."""
        if self.null_condition == "zeros":
            return torch.zeros_like(value)
        return self.nulls[name].to(value.dtype).unsqueeze(0).expand_as(value)

    def drop_conditions(self, conditions: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """In training mode, replace conditions by the null per sample (see the module docstring)."""
        if not self.training or not conditions:
            return conditions
        first = next(iter(conditions.values()))
        batch, device = first.shape[0], first.device
        together = torch.rand(batch, device=device) < self.condition_dropout
        dropped = {}
        for name, value in conditions.items():
            drop = together | (torch.rand(batch, device=device) < self.separate_dropout)
            mask = drop.view(batch, *[1] * (value.dim() - 1))
            dropped[name] = torch.where(mask, self.null(name, value), value)
        return dropped

    def latents(self, batch: Batch) -> torch.Tensor:
        """x1 [B, C, T]: batch[latent_field], or batch[audio_field] encoded by the pretransform; × latent_scale
        (measured on this batch if not yet known, in training mode)."""
        if self.latent_field in batch:
            latents = batch[self.latent_field]
        elif self.pretransform is not None and self.audio_field in batch:
            latents = self.pretransform.encode(batch[self.audio_field])
        else:
            raise KeyError(f"IADBGenerator: the batch has neither '{self.latent_field}' (generator.latent_field) nor "
                           f"'{self.audio_field}' (generator.audio_field, needs generator.pretransform); it has "
                           f"{sorted(batch)}.")
        latents = latents.float()
        if self.training and not self.latent_scale:
            measure_latent_scale(self.latent_scale, latents)
        return latents * self.latent_scale

    def training_forward(self, batch: Batch, condition: Condition) -> Outputs:
        """→ {"prediction": D(x_α, α, c) [B, C, T], "target": x1 − x0 [B, C, T]}."""
        x1 = self.latents(batch)
        conditions = self.drop_conditions(self.named(condition))
        x0 = torch.randn_like(x1)
        alpha = torch.rand(x1.shape[0], device=x1.device, dtype=x1.dtype)
        a = alpha.view(-1, 1, 1)
        x_alpha = (1 - a) * x0 + a * x1
        return {"prediction": self.denoiser(x_alpha, alpha, conditions), "target": x1 - x0}

    def direction(self, x: torch.Tensor, alpha: torch.Tensor, conditions: dict[str, torch.Tensor],
                  guidance: float) -> torch.Tensor:
        """d = u + w (c − u): only c when w = 1 (or unconditional), only u when w = 0, else u and c in one batch."""
        if not conditions or guidance == 1.0:
            return self.denoiser(x, alpha, conditions)
        nulls = {name: self.null(name, value) for name, value in conditions.items()}
        if guidance == 0.0:
            return self.denoiser(x, alpha, nulls)
        both = {name: torch.cat([nulls[name], value]) for name, value in conditions.items()}
        u, c = self.denoiser(torch.cat([x, x]), torch.cat([alpha, alpha]), both).chunk(2)
        return guide(u, c, guidance)

    def device(self) -> torch.device:
        tensor = next(iter(self.denoiser.parameters()), None)
        if tensor is None:
            tensor = next(iter(self.denoiser.buffers()), None)
        return tensor.device if tensor is not None else torch.device("cpu")

    @torch.no_grad()
    def sample_latents(self, condition: Condition | None, steps: int = 100, guidance: float = 1.0,
                       generator: torch.Generator | None = None, batch_size: int | None = None,
                       sampler: str = "euler") -> torch.Tensor:
        """conditions → latents [B, channels, frames] (divided back by latent_scale: the pretransform's scale).

        B comes from the conditions, or `batch_size` (default 1) for an unconditional denoiser.
        `generator` draws x0 (on its own device), so a seeded generator makes sampling repeatable.
        `sampler`: "euler" (IADB's, `steps` network calls) or "heun" (2 · steps − 1 calls, second order;
        vocalgen.generators.blending_samplers).
        """
        if not self.latent_scale:
            raise ConfigError("this IADBGenerator has no latent scale yet (generator.latent_scale=null measures it "
                              "on the first training batch): generate from a trained checkpoint.")
        conditions = self.named(condition)
        device = self.device()
        conditions = {name: value.to(device) for name, value in conditions.items()}
        sizes = {value.shape[0] for value in conditions.values()} | ({batch_size} if batch_size else set())
        if len(sizes) > 1:
            raise ValueError(f"IADBGenerator: the conditions and batch_size disagree on the batch size: "
                             f"{sorted(sizes)}.")
        batch = sizes.pop() if sizes else 1
        shape = (batch, self.denoiser.channels, self.frames)
        x = torch.randn(shape, generator=generator, device=generator.device if generator else device).to(device)
        x = integrate(lambda x, alpha: self.direction(x, alpha, conditions, guidance), x, steps, sampler)
        return x / self.latent_scale

    @torch.no_grad()
    def generate(self, condition: Condition | None, steps: int = 100, guidance: float = 1.0, seed: int | None = None,
                 batch_size: int | None = None, sampler: str = "euler") -> torch.Tensor:
        """conditions → audio [B, 1, frames · hop] at `sample_rate`, decoded by the pretransform."""
        if self.pretransform is None:
            raise ConfigError("IADBGenerator.generate needs generator.pretransform to decode the latents.")
        generator = seeded_generator(seed)
        latents = self.sample_latents(condition, steps, guidance, generator, batch_size, sampler)
        return self.pretransform.decode(latents)
