"""A harmonic-plus-noise decoder (DDSP-style) from one latent vector: per frame a pitch class, a loudness, the
weights of the harmonics and the gains of a filtered noise, synthesised into a waveform. Its harmonics are lines
by construction; its pitch is learned as a classification against the target's pYIN contour."""

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vocalgen.errors import ConfigError
from vocalgen.generators.clip_context import ClipContext
from vocalgen.generators.latent_frames import LatentFrames
from vocalgen.generators.latent_waveform_decoder import LatentWaveformDecoder
from vocalgen.generators.pitch_grid import PitchGrid
from vocalgen.generators.pitch_guide import PitchGuide
from vocalgen.generators.pitch_smoothing import held_octave, median_pitch, octave_towards, scattered_share
from vocalgen.generators.register_head import RegisterHead
from vocalgen.generators.seeding import seeded_generator
from vocalgen.generators.target_alignment import best_lags, clip_sources, moved, stretch_sources
from vocalgen.interfaces import Batch, Condition, Outputs

NOISE_OFFSET = -5.0  # added to the noise gains' logits: the noise starts quiet (gain ≈ 2e-5) beside the harmonics


def held_pitch(f0: torch.Tensor) -> torch.Tensor:
    """f0 [B, T] in Hz, 0 where unvoiced → the same with every unvoiced frame given the last voiced frame's f0
    (before the first voiced frame: the first one's; an item with none stays 0), so that a sound fading out or in
    keeps its pitch instead of gliding to or from 0 Hz."""
    frames = torch.arange(f0.shape[-1], device=f0.device).expand_as(f0)
    voiced = f0 > 0
    last = torch.where(voiced, frames, -1).cummax(-1).values
    following = torch.where(voiced, frames, f0.shape[-1]).flip(-1).cummin(-1).values.flip(-1)
    source = torch.where(last >= 0, last, following).clamp(max=f0.shape[-1] - 1)
    return f0.gather(-1, source)


def exp_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """The positive, bounded amplitude of DDSP: 2 · sigmoid(x)^ln 10 + 1e-7, in (0, 2)."""
    return 2.0 * torch.sigmoid(x) ** math.log(10.0) + 1e-7


def frames_to_samples(controls: torch.Tensor, hop: int, samples: int) -> torch.Tensor:
    """controls [B, C, T] at frames centred at i · hop → [B, C, samples], linear between frame centres, the last
    frame held."""
    upsampled = F.interpolate(controls, size=(controls.shape[-1] - 1) * hop + 1, mode="linear", align_corners=True)
    return F.pad(upsampled, (0, max(samples - upsampled.shape[-1], 0)), mode="replicate")[..., :samples]


class HarmonicNoiseDecoder(LatentWaveformDecoder):
    """latent [B, latent_dim] → waveform [B, 1, samples] at `sample_rate`.

    LatentFrames and a ConvNeXt backbone (width `dim`, `num_layers` blocks) give each of the 1 + samples // hop
    frames: pitch-class logits (PitchGrid), a loudness, the weights of `harmonics` harmonics (those above
    Nyquist dropped) and the gains of `noise_bands` bands of filtered white noise (STFT of 4 · hop points).
    Training synthesises with the target's pitch (batch `pitch_field`, Hz per frame, 0 unvoiced) and returns the
    logits and classes for a pitch loss; generation uses the predicted pitch.

    `pitch_guide`: the name of a pitch contour in the condition (then a dict {`latent_name`: latent, `pitch_guide`:
    f0 [B, ≥ frames] in Hz at this decoder's sample rate and hop}, e.g. the imitation's own f0), whose pitch
    classes are embedded (PitchGuide) and added to the latent's frames; `chroma_prior` (> 0) adds to the pitch
    logits a prior for the guide's chroma in every octave (PitchGuide.chroma_logits). `align_target` (> 0, needs the
    guide): training moves the target (audio and pitch) by the lag within ± align_target frames that best lays its
    pitched frames on the guide's voiced ones (target_alignment.best_lags), so the decoder learns to sound where the
    imitation does rather than spread short events over the imitation's unknown lag. `register_head`: a
    RegisterHead predicts the clip's register from the backbone's features (trained as "register_logits" against
    "register_target": a loss term for them, e.g. a PitchCrossEntropy with those keys), and generation with
    `register=True` moves every voiced frame to the octave nearest it. `clip_context`: every frame's features get
    the clip's summary added (ClipContext), so a short event's frames know what kind of sound the clip is.
    """

    def __init__(self, latent_dim: int, samples: int, sample_rate: int, hop: int = 256, seed_channels: int = 128,
                 seed_stride: int = 8, dim: int = 256, intermediate_dim: int = 768, num_layers: int = 6,
                 harmonics: int = 48, noise_bands: int = 65, low_hz: float = 60.0, high_hz: float = 4000.0,
                 bins_per_octave: int = 24, pitch_field: str = "pitch", target_field: str = "audio",
                 pitch_guide: str | None = None, latent_name: str = "latent", chroma_prior: float = 0.0,
                 neutral_voicing: bool = False, align_target: int = 0, align_stretches: bool = False,
                 register_head: bool = False, clip_context: bool = False) -> None:
        super().__init__(sample_rate, target_field)
        from vocos.models import VocosBackbone

        self.output_samples, self.hop, self.pitch_field = samples, hop, pitch_field
        self.grid = PitchGrid(low_hz, high_hz, bins_per_octave)
        self.frames = LatentFrames(latent_dim, 1 + samples // hop, seed_channels, seed_stride)
        self.latent_name = latent_name
        self.guide = (None if pitch_guide is None else
                      PitchGuide(self.grid, seed_channels, self.frames.frames, pitch_guide, chroma_prior,
                                 neutral_voicing))
        if align_target and self.guide is None:
            raise ConfigError("generator.align_target aligns the target with the pitch guide: set "
                              "generator.pitch_guide too (or align_target: 0).")
        if align_stretches and not align_target:
            raise ConfigError("generator.align_stretches moves the target's stretches within ± align_target frames: "
                              "set generator.align_target > 0 too (or align_stretches: false).")
        self.align_target, self.align_stretches = align_target, align_stretches
        self.backbone = VocosBackbone(input_channels=seed_channels, dim=dim, intermediate_dim=intermediate_dim,
                                      num_layers=num_layers)
        self.context = ClipContext(dim) if clip_context else None
        self.register = RegisterHead(dim, self.grid) if register_head else None
        self.split = (self.grid.classes, 1, harmonics, noise_bands)
        self.controls = nn.Linear(dim, sum(self.split))
        self.register_buffer("orders", torch.arange(1, harmonics + 1, dtype=torch.float32).view(1, -1, 1),
                             persistent=False)
        self.register_buffer("noise_window", torch.hann_window(4 * hop), persistent=False)   # the noise's STFT

    def input_frames(self, condition: Condition) -> torch.Tensor:
        """latent [B, latent_dim] (with a pitch guide: the condition dict holding it and the guide's f0) → the
        backbone's input frames [B, seed_channels, T]."""
        if self.guide is None:
            if isinstance(condition, dict):
                raise ConfigError(f"the decoder takes one latent tensor but the condition holds {sorted(condition)}; "
                                  "set generator.pitch_guide to the name of the pitch contour among them.")
            return self.frames(condition)
        wanted = {self.latent_name, self.guide.name}
        if not isinstance(condition, dict) or not wanted <= set(condition):
            given = sorted(condition) if isinstance(condition, dict) else "one tensor"
            raise ConfigError(f"generator.pitch_guide='{self.guide.name}' needs a condition dict with "
                              f"{sorted(wanted)}, got {given}: the encoder must give the pitch contour beside the "
                              "latent (encoder=imitation_and_pitch).")
        return self.frames(condition[self.latent_name]) + self.guide(condition[self.guide.name])

    def frame_features(self, condition: Condition) -> torch.Tensor:
        """condition (input_frames) → the backbone's features [B, T, dim] (with clip_context, each frame's plus the
        clip's summary, ClipContext)."""
        features = self.backbone(self.input_frames(condition))
        return features if self.context is None else self.context(features)

    def frame_controls(self, condition: Condition, features: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        """condition (input_frames; `features` if frame_features is already computed) → pitch logits [B, T,
        classes], loudness [B, 1, T], harmonic weights [B, harmonics, T] (a distribution), noise gains
        [B, noise_bands, T]."""
        features = self.frame_features(condition) if features is None else features
        logits, loudness, weights, gains = self.controls(features).split(self.split, dim=-1)
        if self.guide is not None and self.guide.chroma_prior:
            logits = logits + self.guide.chroma_logits(condition[self.guide.name])
        return (logits, exp_sigmoid(loudness).transpose(1, 2), weights.softmax(-1).transpose(1, 2),
                exp_sigmoid(gains + NOISE_OFFSET).transpose(1, 2))

    def harmonic(self, f0: torch.Tensor, loudness: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """f0 [B, T] Hz (0 unvoiced), loudness [B, 1, T], weights [B, K, T] → harmonic part [B, samples].

        The pitch is held through unvoiced frames (held_pitch; their amplitude is 0) and a harmonic is dropped
        from a frame when it would pass Nyquist at that frame's or a neighbour's f0. Amplitudes are linear between
        frame centres, as frames_to_samples would make them, but never built per sample: each hop of samples mixes
        its two frames' amplitude vectors with the (gradient-free) sinusoids [B, K, T, hop], the one large tensor
        (≈ 180 MB at batch 16, 48 harmonics, 2.68 s at 22 050 Hz)."""
        frames, pitch = f0.shape[-1], held_pitch(f0).unsqueeze(1)                                   # [B, 1, T]
        reach = F.max_pool1d(pitch, kernel_size=3, stride=1, padding=1)  # the highest f0 a frame's amplitude meets
        weights = weights * (self.orders * reach < self.sample_rate / 2).float()                   # no aliasing
        amplitudes = loudness * (f0 > 0).float().unsqueeze(1) * weights / weights.sum(1, keepdim=True).clamp(min=1e-7)
        f0_samples = frames_to_samples(pitch, self.hop, frames * self.hop)[:, 0]
        cycles = torch.cumsum(f0_samples.double() / self.sample_rate, dim=-1)
        phase = (2 * math.pi * (cycles - torch.floor(cycles))).float()
        with torch.no_grad():
            sinusoids = torch.sin(self.orders * phase.unsqueeze(1)).view(*amplitudes.shape, self.hop)
        following = torch.cat([amplitudes[..., 1:], amplitudes[..., -1:]], dim=-1)
        rising = torch.arange(self.hop, device=f0.device, dtype=torch.float32) / self.hop    # [hop]
        mixed = (torch.einsum("bki,bkir->bir", amplitudes, sinusoids) * (1 - rising)
                 + torch.einsum("bki,bkir->bir", following, sinusoids) * rising)
        return mixed.flatten(1)[:, : self.output_samples]

    def noise(self, gains: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """gains [B, bands, T] → white noise (drawn from `generator`, or the global one) filtered per frame by the
        gains (linear across frequency) [B, samples]."""
        n_fft, window = 4 * self.hop, self.noise_window
        white = torch.rand(gains.shape[0], self.output_samples, generator=generator).to(gains.device) * 2 - 1
        spectrum = torch.stft(white, n_fft, self.hop, window=window, return_complex=True)   # [B, n_fft/2 + 1, T]
        if spectrum.shape[-1] != gains.shape[-1]:
            raise ValueError(f"noise: {gains.shape[-1]} frames of gains for {spectrum.shape[-1]} STFT frames of "
                             f"{self.output_samples} samples at hop {self.hop}.")
        response = F.interpolate(gains.transpose(1, 2), size=n_fft // 2 + 1, mode="linear", align_corners=True)
        return torch.istft(spectrum * response.transpose(1, 2), n_fft, self.hop, window=window,
                           length=self.output_samples)

    def synthesise(self, f0: torch.Tensor, loudness: torch.Tensor, weights: torch.Tensor, gains: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
        """Frame controls (frame_controls' shapes, f0 [B, T] in Hz) → waveform [B, 1, samples], in fp32."""
        with torch.autocast(f0.device.type, enabled=False):
            audio = self.harmonic(f0.float(), loudness.float(), weights.float()) + self.noise(gains.float(), generator)
        return audio.unsqueeze(1)

    def decode(self, latent: Condition, seed: int | None = None, confidence: float = 0.0,
               pitch_median: int = 1, octave_hold: int = 1, voicing: float = 0.5,
               register: bool = False, register_split: float = 0.0) -> torch.Tensor:
        """latent [B, latent_dim] (or the dict of input_frames) → waveform [B, 1, samples], at the pitch the decoder
        predicts (harmonics only where its pitch classes hold more than `voicing` of the probability and it is at
        least `confidence` sure of one pitch, PitchGrid.decode), median-filtered
        over `pitch_median` frames (median_pitch), then moved by whole octaves towards the median of the voiced
        frames within `octave_hold` frames (held_octave) or, with `register`, to the octave nearest the register
        head's pitch for the clip (octave_towards) — for every clip, or with `register_split` > 0 only for the clips
        whose decoded frames split between registers (at least that share of them more than 3/4 octave from their
        median, scattered_share), the others (and clips whose head says "no voiced frame") held; `seed` makes its
        noise repeatable."""
        if register and self.register is None:
            raise ConfigError("sampling.register needs a decoder trained with a register head "
                              "(generator.register_head=true); this one has none.")
        features = self.frame_features(latent)
        logits, loudness, weights, gains = self.frame_controls(latent, features)
        decoded = median_pitch(self.grid.decode(logits.float(), confidence, voicing), pitch_median)
        f0 = held_octave(decoded, octave_hold)
        if register:
            head = self.register.pitch(self.register(features))                   # [B] Hz, 0: "no voiced frame"
            use_head = (scattered_share(decoded) >= register_split) & (head > 0)
            f0 = torch.where(use_head.unsqueeze(-1), octave_towards(decoded, head.unsqueeze(-1)), f0)
        return self.synthesise(f0, loudness, weights, gains, seeded_generator(seed))

    def generate(self, condition: Condition, seed: int | None = None, confidence: float = 0.0,
                 pitch_median: int = 1, octave_hold: int = 1, voicing: float = 0.5, register: bool = False,
                 register_split: float = 0.0, **sampling: Any) -> torch.Tensor:
        """condition = latent [B, latent_dim] (or the dict of input_frames) → waveform [B, 1, samples] (decode)."""
        return self.decode(condition, seed, confidence, pitch_median, octave_hold, voicing, register, register_split)

    def training_forward(self, batch: Batch, condition: Condition) -> Outputs:
        """The audio synthesised at the target's pitch [B, 1, samples] ("prediction"), the target ("target"), the
        pitch logits [B, T, classes] ("pitch_logits") and the target's classes [B, T] ("pitch_target"); with
        align_target, target and pitch moved to the guide's timing first (whole, or stretch by stretch); with the
        register head its logits [B, classes] ("register_logits") and the target's register class [B]
        ("register_target")."""
        target, f0 = self.target(batch), batch[self.pitch_field]
        if f0.shape[-1] != self.frames.frames:
            raise ConfigError(f"batch '{self.pitch_field}' has {f0.shape[-1]} pitch frames; the decoder makes "
                              f"{self.frames.frames} (1 + samples // hop = 1 + {self.output_samples} // {self.hop}): "
                              f"give the pitch field the decoder's samples and hop.")
        if self.align_target:
            guided = self.guide.guide_classes(condition[self.guide.name]) > 0
            sources = (stretch_sources(guided, f0 > 0, self.align_target) if self.align_stretches else
                       clip_sources(best_lags(guided, f0 > 0, self.align_target), f0.shape[-1]))
            target, f0 = moved(target, sources, self.hop), moved(f0, sources)
        features = self.frame_features(condition)
        logits, loudness, weights, gains = self.frame_controls(condition, features)
        outputs = {"prediction": self.synthesise(f0, loudness, weights, gains), "target": target,
                   "pitch_logits": logits, "pitch_target": self.grid.classify(f0)}
        if self.register is not None:
            outputs |= {"register_logits": self.register(features), "register_target": self.register.target(f0)}
        return outputs
