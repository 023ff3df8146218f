"""A 1-D UNet denoiser D(x_α, α, conditions) → [B, C, T] for α-(de)blending on latent sequences.

Per level: `blocks_per_level` conv blocks (Conv1d → adaptive group norm → SiLU, residual), widths
doubling from `base_channels` (capped at `max_channels`), down/up-sampling by 2, one skip per level.
α drives every group norm through a sinusoidal embedding and an MLP (scale and shift).

Conditions (all optional, named as in vocalgen.interfaces.Condition):
- sequences [B, T] or [B, c, T] at the latent frame rate (e.g. "beat_phase"), declared in
  `condition_channels` {name: c}: each has a small conv conditioner whose features are computed at
  every level's length (strided convs) and concatenated to the input of that level's first block,
  on the way down and on the way up;
- one vector [B, gate_dim] (`gate_condition`, e.g. "clap"): an MLP of it gives every adaptive group
  norm a multiplicative per-channel gate 2·sigmoid(g) applied after the α scale and shift
  (zero-initialised, so the gate starts at 1; the vector does not enter the α embedding).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_embedding(alpha: torch.Tensor, dim: int) -> torch.Tensor:
    """alpha [B] in [0, 1] → [B, dim]: sin and cos of 1000·α at geometrically spaced frequencies."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000.0) * torch.arange(half, device=alpha.device) / half)
    angles = 1000.0 * alpha.float()[:, None] * frequencies[None]
    embedding = torch.cat([angles.sin(), angles.cos()], dim=1)
    return F.pad(embedding, (0, dim - 2 * half))


def mlp(in_dim: int, dim: int) -> nn.Sequential:
    """[B, in_dim] → [B, dim]: Linear → SiLU → Linear."""
    return nn.Sequential(nn.Linear(in_dim, dim), nn.SiLU(), nn.Linear(dim, dim))


def zero_linear(in_dim: int, out_dim: int) -> nn.Linear:
    layer = nn.Linear(in_dim, out_dim)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class AdaptiveGroupNorm(nn.Module):
    """h [B, C, T] → GroupNorm(h) · (1 + scale) + shift, (scale, shift) from the α embedding [B, E];
    times 2·sigmoid(gate) [B, C] from the gate embedding [B, E] when `gated`."""

    def __init__(self, channels: int, embedding_dim: int, gated: bool) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(math.gcd(32, channels), channels, affine=False)
        self.modulation = nn.Sequential(nn.SiLU(), zero_linear(embedding_dim, 2 * channels))
        self.gate = nn.Sequential(nn.SiLU(), zero_linear(embedding_dim, channels)) if gated else None

    def forward(self, h: torch.Tensor, embedding: torch.Tensor, gate: torch.Tensor | None) -> torch.Tensor:
        scale, shift = self.modulation(embedding).unsqueeze(-1).chunk(2, dim=1)
        h = self.norm(h) * (1 + scale) + shift
        if self.gate is not None:
            h = h * 2 * torch.sigmoid(self.gate(gate)).unsqueeze(-1)
        return h


class ConvBlock(nn.Module):
    """[B, in, T] → [B, out, T]: residual(x) + SiLU(AdaGN(Conv1d(x)))."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, embedding_dim: int, gated: bool) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.norm = AdaptiveGroupNorm(out_channels, embedding_dim, gated)
        self.residual = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor, embedding: torch.Tensor, gate: torch.Tensor | None) -> torch.Tensor:
        return self.residual(x) + F.silu(self.norm(self.conv(x), embedding, gate))


class Level(nn.Module):
    """The conv blocks of one level: [B, in, T_l] → [B, out, T_l]."""

    def __init__(self, in_channels: int, out_channels: int, blocks: int, kernel_size: int, embedding_dim: int,
                 gated: bool) -> None:
        super().__init__()
        widths = [in_channels] + [out_channels] * blocks
        self.blocks = nn.ModuleList(ConvBlock(a, b, kernel_size, embedding_dim, gated)
                                    for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, h: torch.Tensor, embedding: torch.Tensor, gate: torch.Tensor | None) -> torch.Tensor:
        for block in self.blocks:
            h = block(h, embedding, gate)
        return h


class SequenceConditioner(nn.Module):
    """condition [B, c, T] → features [B, features, T / 2^l] for every level l = 0 … levels − 1."""

    def __init__(self, in_channels: int, features: int, levels: int, kernel_size: int) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.first = nn.Sequential(nn.Conv1d(in_channels, features, kernel_size, padding=pad), nn.SiLU(),
                                   nn.Conv1d(features, features, kernel_size, padding=pad))
        self.downs = nn.ModuleList(
            nn.Sequential(nn.SiLU(), nn.Conv1d(features, features, 3, stride=2, padding=1), nn.SiLU(),
                          nn.Conv1d(features, features, kernel_size, padding=pad))
            for _ in range(levels - 1)
        )

    def forward(self, condition: torch.Tensor) -> list[torch.Tensor]:
        features = [self.first(condition)]
        for down in self.downs:
            features.append(down(features[-1]))
        return features


class UNet1D(nn.Module):
    """x [B, channels, T], alpha [B], conditions {name: tensor} → [B, channels, T].

    T must be a multiple of 2^(levels − 1) (`multiple`). See the module docstring for conditions.
    """

    def __init__(self, channels: int = 128, base_channels: int = 256, levels: int = 4, kernel_size: int = 3,
                 blocks_per_level: int = 2, embedding_dim: int = 256, condition_channels: dict[str, int] | None = None,
                 gate_dim: int | None = None, gate_condition: str = "clap", max_channels: int | None = None,
                 condition_features: int = 32) -> None:
        super().__init__()
        if levels < 1 or blocks_per_level < 1 or kernel_size % 2 == 0:
            raise ValueError(f"UNet1D: levels ({levels}) and blocks_per_level ({blocks_per_level}) must be ≥ 1 and "
                             f"kernel_size ({kernel_size}) odd.")
        self.channels = channels
        self.levels = levels
        self.multiple = 2 ** (levels - 1)
        self.sequence_conditions = {str(name): int(c) for name, c in (condition_channels or {}).items()}
        self.vector_conditions = {gate_condition: int(gate_dim)} if gate_dim else {}
        self.gate_condition = gate_condition
        gated = bool(gate_dim)
        widths = [min(base_channels * 2 ** level, max_channels or math.inf) for level in range(levels)]
        extra = condition_features * len(self.sequence_conditions)
        pad = kernel_size // 2

        self.alpha_mlp = mlp(embedding_dim, embedding_dim)
        self.gate_mlp = mlp(gate_dim, embedding_dim) if gated else None
        self.conditioners = nn.ModuleDict({name: SequenceConditioner(c, condition_features, levels, kernel_size)
                                           for name, c in self.sequence_conditions.items()})
        self.stem = nn.Conv1d(channels, widths[0], kernel_size, padding=pad)
        self.down = nn.ModuleList(
            Level((widths[level - 1] if level else widths[0]) + extra, widths[level], blocks_per_level, kernel_size,
                  embedding_dim, gated)
            for level in range(levels)
        )
        self.downsample = nn.ModuleList(nn.Conv1d(w, w, 3, stride=2, padding=1) for w in widths[:-1])
        self.upsample = nn.ModuleList(
            nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                          nn.Conv1d(widths[level + 1], widths[level], kernel_size, padding=pad))
            for level in range(levels - 1)
        )
        self.up = nn.ModuleList(
            Level(2 * widths[level] + extra, widths[level], blocks_per_level, kernel_size, embedding_dim, gated)
            for level in range(levels - 1)
        )
        self.out = nn.Sequential(nn.GroupNorm(math.gcd(32, widths[0]), widths[0]), nn.SiLU(),
                                 nn.Conv1d(widths[0], channels, kernel_size, padding=pad))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)
        self.embedding_dim = embedding_dim

    def check(self, x: torch.Tensor, conditions: dict[str, torch.Tensor]) -> None:
        """ValueError for a wrong x shape, a T that is not a multiple of `multiple`, or wrong conditions."""
        if x.dim() != 3 or x.shape[1] != self.channels:
            raise ValueError(f"UNet1D: expected x [B, {self.channels}, T], got {tuple(x.shape)}.")
        if x.shape[-1] % self.multiple:
            raise ValueError(f"UNet1D with levels={self.levels} needs T divisible by {self.multiple} (2^(levels-1)); "
                             f"got T={x.shape[-1]}: set the latent frames to a multiple of {self.multiple} "
                             f"(e.g. {math.ceil(x.shape[-1] / self.multiple) * self.multiple}).")
        expected = {**self.sequence_conditions, **self.vector_conditions}
        if set(conditions) != set(expected):
            raise ValueError(f"UNet1D was built for conditions {sorted(expected)} (denoiser.condition_channels, "
                             f"denoiser.gate_dim/gate_condition) but got {sorted(conditions)}.")

    def sequence(self, name: str, condition: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """A sequence condition [B, T] or [B, c, T] → [B, c, T] in x's dtype; ValueError on a shape mismatch."""
        if condition.dim() == 2:
            condition = condition.unsqueeze(1)
        wanted = (x.shape[0], self.sequence_conditions[name], x.shape[-1])
        if tuple(condition.shape) != wanted:
            raise ValueError(f"UNet1D: condition '{name}' must be [B, T] or [B, c, T] = {wanted} (the latents' "
                             f"frames), got {tuple(condition.shape)}.")
        return condition.to(x.dtype)

    def forward(self, x: torch.Tensor, alpha: torch.Tensor | float,
                conditions: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        conditions = dict(conditions or {})
        self.check(x, conditions)
        alpha = torch.as_tensor(alpha, device=x.device).reshape(-1).expand(x.shape[0])
        embedding = self.alpha_mlp(sinusoidal_embedding(alpha, self.embedding_dim).to(x.dtype))
        gate = None
        if self.gate_mlp is not None:
            vector = conditions[self.gate_condition]
            if tuple(vector.shape) != (x.shape[0], self.vector_conditions[self.gate_condition]):
                raise ValueError(f"UNet1D: condition '{self.gate_condition}' must be [B, gate_dim] = "
                                 f"{(x.shape[0], self.vector_conditions[self.gate_condition])}, got "
                                 f"{tuple(vector.shape)}.")
            gate = self.gate_mlp(vector.to(x.dtype))
        per_level = [self.conditioners[name](self.sequence(name, conditions[name], x)) for name in self.conditioners]
        features = [torch.cat(level, dim=1) for level in zip(*per_level)] if per_level else []

        def with_features(h: torch.Tensor, level: int) -> torch.Tensor:
            return torch.cat([h, features[level]], dim=1) if features else h

        h = self.stem(x)
        skips = []
        for level, blocks in enumerate(self.down):
            h = blocks(with_features(h, level), embedding, gate)
            if level < self.levels - 1:
                skips.append(h)
                h = self.downsample[level](h)
        for level in reversed(range(self.levels - 1)):
            h = torch.cat([self.upsample[level](h), skips[level]], dim=1)
            h = self.up[level](with_features(h, level), embedding, gate)
        return self.out(h)
