"""EnCodec 24 kHz as a trainable generator (the `encodec` experiment); its weights feed EncodecPretransform."""

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from vocalgen.data.audio_io import random_window
from vocalgen.errors import ConfigError
from vocalgen.interfaces import Batch, Condition, Generator, Outputs
from vocalgen.pretransforms.encodec import (
    SAMPLE_RATE,
    build_encodec_model,
    mono_batch,
    quantizers_for_bandwidth,
    residual_quantize,
)


class EncodecAutoencoder(Generator):
    """audio [B, 1, N] at 24 kHz → encoder → (residual VQ at `bandwidth` kbps) → decoder → [B, 1, N].

    The inner `encodec.EncodecModel` is `self.model`, so a vocalgen checkpoint of this generator
    loads into EncodecPretransform(pretrained=…, prefix="generator.model."). Architecture
    arguments as in EncodecPretransform (defaults: the published model); `kmeans_iters` see
    build_encodec_model (lower it on a CPU: the first quantised batch runs the k-means). In training
    a random `segment`-sample window of each clip is used (EnCodec: 1 s), whole clips otherwise.
    """

    sample_rate = SAMPLE_RATE

    def __init__(self, audio_field: str = "audio_24k", quantized: bool = False, bandwidth: float = 6.0,
                 n_filters: int = 32, ratios: Sequence[int] = (8, 5, 4, 2), dimension: int = 128, lstm: int = 2,
                 n_residual_layers: int = 1, bins: int = 1024, n_q: int = 32, kmeans_iters: int = 50,
                 segment: int | None = None, vocos_decoder: Mapping[str, int] | None = None) -> None:
        super().__init__()
        self.hop_length = math.prod(ratios)
        if segment is not None and segment % self.hop_length:
            raise ConfigError(f"generator.segment={segment} must be a multiple of the hop {self.hop_length}.")
        self.segment = segment
        self.model = build_encodec_model(n_filters, ratios, dimension, lstm, n_residual_layers, bins, n_q,
                                         kmeans_iters, vocos_decoder)
        self.audio_field = self.target_field = audio_field
        self.quantized = quantized
        self.n_codebooks = quantizers_for_bandwidth(self.model, bandwidth, "generator.bandwidth") if quantized else 0

    def reconstruct(self, audio: torch.Tensor, learn_codebooks: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """audio [B, 1, N] → (reconstruction [B, 1, N], commitment scalar or None when not quantised).

        learn_codebooks: the codebooks learn (EMA, k-means start) and gradients pass straight through.
        """
        audio = mono_batch(audio, f"EncodecAutoencoder (batch field '{self.audio_field}')")
        latents = self.model.encoder(audio)
        commitment = None
        if self.quantized:
            latents, commitment = residual_quantize(self.model.quantizer, latents, self.n_codebooks,
                                                   train=learn_codebooks)
        return self.model.decoder(latents)[..., : audio.shape[-1]], commitment

    def training_forward(self, batch: Batch, condition: Condition) -> Outputs:
        """→ {"prediction": [B, 1, N], "target": batch[audio_field] [B, 1, N], "commitment": scalar if quantised}."""
        if self.audio_field not in batch:
            raise KeyError(f"EncodecAutoencoder: the batch has no field '{self.audio_field}' (generator.audio_field);"
                           f" it has {sorted(batch)}.")
        target = batch[self.audio_field]
        if self.training:
            target = random_window(target, self.segment, self.hop_length)
        prediction, commitment = self.reconstruct(target, learn_codebooks=self.training)
        outputs = {"prediction": prediction, "target": target.reshape(prediction.shape)}
        if commitment is not None:
            outputs["commitment"] = commitment
        return outputs

    def generate(self, condition: Condition, **sampling: Any) -> torch.Tensor:
        """condition: the input waveform [B, 1, N] at 24 kHz → its reconstruction [B, 1, N]."""
        if not isinstance(condition, torch.Tensor):
            raise TypeError("EncodecAutoencoder.generate: the condition must be the waveform [B, 1, N] (an encoder "
                            f"that passes '{self.audio_field}' through), got {type(condition).__name__}.")
        return self.reconstruct(condition, learn_codebooks=False)[0]
