"""EnCodec 24 kHz (the `encodec` package's SEANet + residual VQ) as a frozen pretransform.

`build_encodec_model` is shared with the trainable vocalgen.generators.encodec_autoencoder, so a
checkpoint of the `encodec` training experiment loads here (prefix "generator.model.").
"""

import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.fingerprint import weights_fingerprint
from vocalgen.interfaces import Pretransform
from vocalgen.pretransforms.vocos_decoder import VocosLatentDecoder

SAMPLE_RATE = 24_000
PUBLISHED_BANDWIDTHS = (1.5, 3.0, 6.0, 12.0, 24.0)  # kbps of encodec_24khz
PUBLISHED_FILE = "encodec_24khz-d7cc33bc.th"


def build_encodec_model(n_filters: int = 32, ratios: Sequence[int] = (8, 5, 4, 2), dimension: int = 128,
                        lstm: int = 2, n_residual_layers: int = 1, bins: int = 1024, n_q: int = 32,
                        kmeans_iters: int = 50, vocos_decoder: Mapping[str, int] | None = None) -> nn.Module:
    """A fresh (untrained) causal, weight-normed 24 kHz `encodec.EncodecModel`.

    With the defaults (the published values) its state dict matches encodec_24khz-d7cc33bc.th key for
    key and shape for shape. The hop is prod(ratios) samples (320 → 75 latent frames per second).
    `kmeans_iters`: k-means iterations that start the codebooks on the first training batch (no
    effect on the weights' shapes; 50 with 1024 bins takes over a minute on a CPU).
    `vocos_decoder`: None for EnCodec's SEANet decoder; else the VocosLatentDecoder arguments (dim,
    intermediate_dim, num_layers) of a ConvNeXt + inverse-STFT decoder in its place.
    """
    from encodec.model import EncodecModel
    from encodec.modules import SEANetDecoder, SEANetEncoder
    from encodec.quantization import ResidualVectorQuantizer

    shape = {"channels": 1, "dimension": dimension, "n_filters": n_filters, "ratios": list(ratios),
             "n_residual_layers": n_residual_layers, "lstm": lstm, "norm": "weight_norm", "causal": True}
    with warnings.catch_warnings():  # the package uses the deprecated torch.nn.utils.weight_norm
        warnings.simplefilter("ignore", FutureWarning)
        encoder = SEANetEncoder(**shape)
        decoder = (SEANetDecoder(**shape) if vocos_decoder is None
                   else VocosLatentDecoder(dimension, math.prod(ratios), **vocos_decoder))
    quantizer = ResidualVectorQuantizer(dimension=dimension, n_q=n_q, bins=bins, kmeans_iters=kmeans_iters)
    frame_rate = math.ceil(SAMPLE_RATE / math.prod(ratios))
    most = n_q * math.log2(bins) * frame_rate / 1000
    bandwidths = [bw for bw in PUBLISHED_BANDWIDTHS if bw <= most] or [most]
    model = EncodecModel(encoder, decoder, quantizer, bandwidths, SAMPLE_RATE, channels=1)
    variance_preserving_init(model)
    return model


@torch.no_grad()
def variance_preserving_init(model: nn.Module) -> None:
    """Draw every weight-normed conv's direction v ~ N(0, 1 / fan_in) and set g = ‖v‖ (per output).

    PyTorch's default conv init shrinks a signal's variance about 3× per layer; through SEANet's
    ~15 layers a fresh encoder's latents then barely depend on the input (measured: their variation
    over time 1e-4 of their size) and training from scratch stalls on the average spectrum for
    hundreds of steps. Weights loaded afterwards (published or trained) replace these.
    """
    for layer in model.modules():
        if not hasattr(layer, "weight_v"):
            continue
        direction = layer.weight_v
        fan_in = direction.shape[1] * direction.shape[2]
        if isinstance(layer, nn.ConvTranspose1d):  # [in, out, k]: each output sums in · k / stride inputs
            fan_in = direction.shape[0] * direction.shape[2] / layer.stride[0]
        direction.normal_(0.0, fan_in ** -0.5)
        layer.weight_g.copy_(direction.norm(dim=tuple(range(1, direction.dim())), keepdim=True))


def fuse_weight_norm(model: nn.Module) -> None:
    """Replace every weight-normed layer's (weight_g, weight_v) by the plain weight they define, in place.

    Same outputs; a frozen model then deep-copies (the package's old-style weight norm does not) and
    skips recomputing its weights each forward. The state dict then holds `weight` keys instead.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        for layer in model.modules():
            if hasattr(layer, "weight_g") and hasattr(layer, "weight_v"):
                torch.nn.utils.remove_weight_norm(layer)


def quantizers_for_bandwidth(model: nn.Module, bandwidth: float, where: str) -> int:
    """How many residual codebooks `bandwidth` kbps uses; ConfigError naming `where` if out of range."""
    quantizer = model.quantizer
    per_codebook = quantizer.get_bandwidth_per_quantizer(model.frame_rate)
    if not per_codebook <= bandwidth <= quantizer.n_q * per_codebook:
        raise ConfigError(
            f"{where}={bandwidth} kbps is outside what this EnCodec offers: {per_codebook:g} kbps per codebook, "
            f"{quantizer.n_q} codebooks (at most {quantizer.n_q * per_codebook:g} kbps); e.g. 1.5, 3, 6, 12 or 24."
        )
    return quantizer.get_num_quantizers_for_bandwidth(model.frame_rate, bandwidth)


def residual_quantize(quantizer: nn.Module, latents: torch.Tensor, n_q: int,
                      train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """latents [B, D, T] → (quantized [B, D, T], commitment: mean over codebooks of ‖residual − code‖²).

    train=True: the codebooks learn by EMA (k-means initialised on the first batch) and the gradient
    passes straight through; train=False: nearest codes only, no state changes. The commitment has
    the same meaning in both modes (encodec's own forward reports 0 in eval mode).
    """
    residual, total, commitments = latents, torch.zeros_like(latents), []
    for layer in quantizer.vq.layers[:n_q]:
        codes = layer(residual)[0] if train else layer.decode(layer.encode(residual))
        commitments.append(F.mse_loss(residual, codes.detach()))
        residual = residual - codes
        total = total + codes
    return total, torch.stack(commitments).mean()


def read_encodec_state(path: Path, prefix: str = "") -> dict[str, torch.Tensor]:
    """The EnCodec weights in `path`: a plain state dict (the published file) or a Lightning
    checkpoint ("state_dict"); with `prefix`, only keys starting with it, prefix removed."""
    if not path.is_file():
        raise CheckpointError(f"EnCodec checkpoint {path} does not exist (pretransform.pretrained): give the local "
                              f"path of {PUBLISHED_FILE} or of a checkpoint of the encodec experiment.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(f"EnCodec checkpoint {path} cannot be read ({error}).") from error
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise CheckpointError(f"EnCodec checkpoint {path} holds a {type(state).__name__}, not a state dict.")
    if not prefix:
        return state
    selected = {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
    if not selected:
        raise CheckpointError(f"EnCodec checkpoint {path} has no key starting with '{prefix}' (pretransform.prefix);"
                              f" its keys begin like {sorted(state)[:3]}.")
    return selected


def prefix_hint(expected: Sequence[str], found: Sequence[str]) -> str:
    """A suggestion when `found` keys are `expected` keys behind a common prefix."""
    probe = next(iter(expected), None)
    for key in found:
        if probe and key.endswith("." + probe):
            return f" The keys look prefixed: try pretransform.prefix='{key[:-len(probe)]}'."
    return ""


def load_encodec_state(model: nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    """Load `state` into `model` strictly; CheckpointError naming `path` and the first bad keys."""
    expected = model.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    resized = [f"{key} {tuple(state[key].shape)} vs {tuple(value.shape)}" for key, value in expected.items()
               if key in state and state[key].shape != value.shape]
    if missing or unexpected or resized:
        raise CheckpointError(
            f"EnCodec checkpoint {path} does not fit this architecture (n_filters, ratios, dimension, lstm, "
            f"n_residual_layers, bins, n_q, vocos_decoder): {len(missing)} missing keys {missing[:3]}, "
            f"{len(unexpected)} unexpected keys {unexpected[:3]}, {len(resized)} shape mismatches {resized[:3]}."
            + prefix_hint(list(expected), unexpected)
        )
    model.load_state_dict(state, strict=True)


def mono_batch(audio: torch.Tensor, who: str) -> torch.Tensor:
    """audio [B, N] or [B, 1, N] → [B, 1, N]; ValueError naming `who` for any other shape."""
    if audio.dim() == 2:
        audio = audio.unsqueeze(1)
    if audio.dim() != 3 or audio.shape[1] != 1:
        raise ValueError(f"{who}: expected mono audio [B, 1, N] at {SAMPLE_RATE} Hz, got shape {tuple(audio.shape)}.")
    return audio


class EncodecPretransform(Pretransform):
    """Frozen EnCodec 24 kHz: audio [B, 1, N] ↔ latents [B, dimension, ceil(N / hop)] (hop 320: 75 Hz).

    `quantized=False`: the encoder's continuous output; True: after the residual quantiser at
    `bandwidth` kbps (6 → 8 codebooks). Decoding is the same in both cases. `pretrained`: a local
    file (the published encodec_24khz-d7cc33bc.th or an `encodec` experiment checkpoint with
    `prefix="generator.model."`); without one the weights are random (tests, smoke runs).
    The architecture arguments default to the published model's (`vocos_decoder`: see build_encodec_model;
    an `encodec` experiment trained with one decodes through it here too). After loading, weight norm is
    fused into plain weights (see fuse_weight_norm): the state dict of this module holds `weight`
    keys, which is what checkpoints of generators that contain it save and load.
    """

    sample_rate = SAMPLE_RATE

    def __init__(self, pretrained: str | None = None, prefix: str = "", quantized: bool = False,
                 bandwidth: float = 6.0, n_filters: int = 32, ratios: Sequence[int] = (8, 5, 4, 2),
                 dimension: int = 128, lstm: int = 2, n_residual_layers: int = 1, bins: int = 1024,
                 n_q: int = 32, vocos_decoder: Mapping[str, int] | None = None) -> None:
        super().__init__()
        self.model = build_encodec_model(n_filters, ratios, dimension, lstm, n_residual_layers, bins, n_q,
                                         vocos_decoder=vocos_decoder)
        if pretrained:
            path = Path(pretrained)
            load_encodec_state(self.model, read_encodec_state(path, prefix), path)
        fuse_weight_norm(self.model)
        self.quantized = quantized
        self.bandwidth = bandwidth
        self.n_codebooks = quantizers_for_bandwidth(self.model, bandwidth, "pretransform.bandwidth") if quantized else 0
        self.latent_channels = dimension
        self.hop_length = math.prod(ratios)
        self.frame_rate = SAMPLE_RATE / self.hop_length
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "EncodecPretransform":
        """Always in eval mode: the pretransform is frozen."""
        return super().train(False)

    @property
    def fingerprint(self) -> str:
        """sha1 of the weights (vocalgen.fingerprint), plus "-q<bandwidth>kbps" for quantised latents."""
        weights = weights_fingerprint(self.model)
        return f"{weights}-q{self.bandwidth:g}kbps" if self.quantized else weights

    @torch.no_grad()
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] (or [B, N]) at 24 kHz → latents [B, dimension, ceil(N / hop_length)]."""
        latents = self.model.encoder(mono_batch(audio, "EncodecPretransform.encode"))
        if self.quantized:
            latents = residual_quantize(self.model.quantizer, latents, self.n_codebooks, train=False)[0]
        return latents

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """latents [B, dimension, T] → audio [B, 1, T · hop_length] at 24 kHz."""
        if latents.dim() != 3 or latents.shape[1] != self.latent_channels:
            raise ValueError(f"EncodecPretransform.decode: expected latents [B, {self.latent_channels}, T], got "
                             f"shape {tuple(latents.shape)}.")
        return self.model.decoder(latents)

    def extra_repr(self) -> str:
        details: dict[str, Any] = {"quantized": self.quantized, "frame_rate": self.frame_rate}
        if self.quantized:
            details["bandwidth"] = self.bandwidth
        return ", ".join(f"{key}={value}" for key, value in details.items())
