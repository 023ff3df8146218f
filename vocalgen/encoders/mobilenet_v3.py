"""EfficientAT-style MobileNetV3 audio tower ("mn10" at width 1.0) for log-mel spectrograms.

Module names and parameter shapes follow EfficientAT's ``models/mn`` (fschmid56/EfficientAT) so that its
published ``mn*_as`` feature extractors load with ``strict=True`` (see ``efficientat_weights.py``):

    features.0                      stem: conv 3x3 stride 2 -> BN -> Hardswish
    features.1 .. features.15       inverted residual blocks, ``features.i.block.j``
    features.16                     1x1 conv to 6 * last block width (960 at width 1.0) -> BN -> Hardswish

Each conv/BN/activation triple is an ``nn.Sequential`` (conv ``.0``, BN ``.1``), as in torchvision's
``ConvNormActivation``. Squeeze-excitation uses EfficientAT's default (channel-wise only, reduction 4), whose
keys are ``...block.j.conc_se_layers.0.fc1/fc2``.
"""

from dataclasses import dataclass
from functools import partial

import torch
from torch import Tensor, nn

_BatchNorm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round ``value`` to a multiple of ``divisor`` (at least ``divisor``, never under 90 % of ``value``)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


@dataclass(frozen=True)
class BlockSpec:
    """One inverted residual block of MobileNetV3-Large, channels already scaled by the width multiplier."""

    in_ch: int
    kernel: int
    expanded_ch: int
    out_ch: int
    use_se: bool
    hardswish: bool
    stride: int


# (in, kernel, expanded, out, squeeze-excitation, hardswish, stride): MobileNetV3-Large, Table 1 of the paper.
_LARGE: tuple[tuple[int, int, int, int, bool, bool, int], ...] = (
    (16, 3, 16, 16, False, False, 1),
    (16, 3, 64, 24, False, False, 2),
    (24, 3, 72, 24, False, False, 1),
    (24, 5, 72, 40, True, False, 2),
    (40, 5, 120, 40, True, False, 1),
    (40, 5, 120, 40, True, False, 1),
    (40, 3, 240, 80, False, True, 2),
    (80, 3, 200, 80, False, True, 1),
    (80, 3, 184, 80, False, True, 1),
    (80, 3, 184, 80, False, True, 1),
    (80, 3, 480, 112, True, True, 1),
    (112, 3, 672, 112, True, True, 1),
    (112, 5, 672, 160, True, True, 2),
    (160, 5, 960, 160, True, True, 1),
    (160, 5, 960, 160, True, True, 1),
)


def large_block_specs(width_mult: float = 1.0, reduced_tail: bool = False) -> list[BlockSpec]:
    """MobileNetV3-Large blocks scaled by ``width_mult``; ``reduced_tail`` halves the last three blocks."""
    scale = lambda c: make_divisible(c * width_mult)
    tail = len(_LARGE) - 3
    specs = []
    for i, (cin, k, exp, cout, se, hs, stride) in enumerate(_LARGE):
        if reduced_tail and i >= tail:
            cout //= 2
            if i > tail:
                cin, exp = cin // 2, exp // 2
        specs.append(BlockSpec(scale(cin), k, scale(exp), scale(cout), se, hs, stride))
    return specs


def conv_bn_act(
    in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1, act: type[nn.Module] | None = None
) -> nn.Sequential:
    """Bias-free conv ("same" padding) -> BatchNorm -> optional activation; keys ``0.*`` conv, ``1.*`` BN."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_ch, out_ch, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        _BatchNorm(out_ch),
    ]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class ChannelSE(nn.Module):
    """Squeeze-excitation over channels: [B, C, F, T] -> [B, C, F, T] (scaled by a per-channel gate)."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, squeeze)
        self.fc2 = nn.Linear(squeeze, channels)

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * gate[:, :, None, None]


class ConcurrentSE(nn.Module):
    """EfficientAT's concurrent-SE wrapper holding its default single channel SE (max over one = identity).

    Kept as a wrapper only so the parameter names are ``conc_se_layers.0.fc1/fc2``, as in the checkpoints.
    """

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        self.conc_se_layers = nn.ModuleList([ChannelSE(channels, make_divisible(channels // reduction))])

    def forward(self, x: Tensor) -> Tensor:
        return self.conc_se_layers[0](x)


class InvertedResidual(nn.Module):
    """Expand (1x1) -> depthwise (k x k, stride) -> [SE] -> project (1x1), residual when shapes allow."""

    def __init__(self, spec: BlockSpec, use_se: bool) -> None:
        super().__init__()
        act = nn.Hardswish if spec.hardswish else nn.ReLU
        layers: list[nn.Module] = []
        if spec.expanded_ch != spec.in_ch:
            layers.append(conv_bn_act(spec.in_ch, spec.expanded_ch, 1, act=act))
        layers.append(
            conv_bn_act(spec.expanded_ch, spec.expanded_ch, spec.kernel, spec.stride, spec.expanded_ch, act)
        )
        if spec.use_se and use_se:
            layers.append(ConcurrentSE(spec.expanded_ch))
        layers.append(conv_bn_act(spec.expanded_ch, spec.out_ch, 1))
        self.block = nn.Sequential(*layers)
        self.residual = spec.stride == 1 and spec.in_ch == spec.out_ch

    def forward(self, x: Tensor) -> Tensor:
        """[B, C_in, F, T] -> [B, C_out, F / stride, T / stride] (rounded up)."""
        out = self.block(x)
        return out + x if self.residual else out


class MobileNetV3(nn.Module):
    """EfficientAT-style MobileNetV3 ("mn10" at width_mult=1.0) for [B, 1, F, T] spectrograms.

    Downsamples F and T by 32 and mean-pools both to ``[B, out_dim]``; ``out_dim`` is 960 at width 1.0.
    ``pool=False`` returns the feature map ``[B, out_dim, ceil(F / 32), ceil(T / 32)]`` instead (a head that
    keeps time, e.g. FramewiseVAEHead).
    ``use_se=False`` drops the squeeze-excitation blocks (then EfficientAT checkpoints no longer fit).
    ``init_seed``: draw the initial weights from this seed (towers given the same seed start alike).
    ``bn_momentum``: EfficientAT's 0.01 suits fine-tuning; from scratch the weights move fast and
    0.1 keeps the running statistics (used in eval mode) current.
    """

    def __init__(
        self,
        width_mult: float = 1.0,
        in_channels: int = 1,
        use_se: bool = True,
        reduced_tail: bool = False,
        init_seed: int | None = None,
        bn_momentum: float = 0.01,
        pool: bool = True,
    ) -> None:
        super().__init__()
        self.pool = pool
        specs = large_block_specs(width_mult, reduced_tail)
        self.width_mult = width_mult
        self.out_dim = 6 * specs[-1].out_ch
        layers: list[nn.Module] = [conv_bn_act(in_channels, specs[0].in_ch, 3, 2, act=nn.Hardswish)]
        layers += [InvertedResidual(spec, use_se) for spec in specs]
        layers.append(conv_bn_act(specs[-1].out_ch, self.out_dim, 1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = bn_momentum
        if init_seed is None:
            self._init_weights()
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(init_seed)
                self._init_weights()

    def _init_weights(self) -> None:
        """EfficientAT's initialisation: Kaiming (fan-out) convs, unit BN, N(0, 0.01) linears."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: Tensor) -> Tensor:
        """[B, in_channels, F, T] -> feature map [B, out_dim, ceil(F / 32), ceil(T / 32)]."""
        if x.dim() != 4:
            raise ValueError(f"MobileNetV3 expects [B, C, F, T] input, got shape {tuple(x.shape)}")
        return self.features(x)

    def forward(self, x: Tensor) -> Tensor:
        """[B, in_channels, F, T] -> pooled features [B, out_dim] (mean over F and T), or with pool=False
        the feature map [B, out_dim, ceil(F / 32), ceil(T / 32)]."""
        features = self.forward_features(x)
        return features.mean(dim=(2, 3)) if self.pool else features
