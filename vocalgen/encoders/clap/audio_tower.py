"""LAION-CLAP's audio tower: HTSAT on 48 kHz audio, then the 2-layer projection into the joint space.

Attribute names follow laion's ``CLAP`` (``audio_branch``, ``audio_projection``) so a laion checkpoint's
``audio_*`` keys load as they are (see ``laion_weights.py``).
"""

import warnings
from collections.abc import Sequence
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vocalgen.errors import ConfigError

# laion_clap/clap_module/htsat.py, create_htsat_model: the Swin sizes of each preset.
PRESETS: dict[str, dict] = {
    "tiny": {"embed_dim": 96, "depths": (2, 2, 6, 2), "num_heads": (4, 8, 16, 32), "window_size": 8},
    "base": {"embed_dim": 128, "depths": (2, 2, 12, 2), "num_heads": (4, 8, 16, 32), "window_size": 8},
    "large": {"embed_dim": 256, "depths": (2, 2, 12, 2), "num_heads": (4, 8, 16, 32), "window_size": 8},
}
PATCH = 4  # HTSAT patch size and stride in both axes


def repeat_pad(waveform: Tensor, clip_samples: int, random_crop: bool = False) -> Tensor:
    """[B, N] → [B, clip_samples]: laion's "repeatpad" after trimming each row's trailing zeros.

    A row whose content (up to its last non-zero sample) is shorter than ``clip_samples`` is repeated
    a whole number of times and zero-padded to ``clip_samples``; a longer one is cut, at a random
    offset when ``random_crop`` (laion's "rand_trunc") else at its start. An all-zero row stays zero.
    """
    batch, n = waveform.shape
    steps = torch.arange(n, device=waveform.device)
    length = torch.where(waveform != 0, steps + 1, 0).amax(dim=1)  # [B] samples of real content
    period = length.clamp(min=1)
    covered = (period * (clip_samples // period).clamp(min=1)).clamp(max=clip_samples)
    offset = torch.zeros_like(length)
    if random_crop:
        spare = (length - clip_samples).clamp(min=0)
        offset = (torch.rand(batch, device=waveform.device) * (spare + 1)).long().clamp(max=spare)
    t = torch.arange(clip_samples, device=waveform.device)
    source = (offset[:, None] + t[None, :] % period[:, None]).clamp(max=n - 1)
    return torch.where(t[None, :] < covered[:, None], waveform.gather(1, source), 0.0)


class ClapAudioTower(nn.Module):
    """waveform [B, N] at 48 kHz → L2-normalised embedding [B, joint_dim].

    `preset` picks laion's HTSAT size ("tiny" 768-d, "base" 1024-d, "large" 2048-d features); `embed_dim`,
    `depths`, `num_heads`, `window_size` and `spec_size` override it (tests and CPU configs build tiny
    ones). The audio front end defaults to laion's HTSAT-tiny.json: 64 log-mel bins of a 1024-sample
    window every 480 samples, 50 Hz to 14 kHz, 10 s clips (480 000 samples). `num_classes` sizes HTSAT's
    AudioSet head, unused by the embedding and kept only so laion checkpoints load strictly. `frozen`
    turns off gradients and keeps the tower in eval mode. `spec_augment`: laion's SpecAugment while
    training.
    """

    laion_prefixes = ("audio_branch.", "audio_projection.")

    def __init__(
        self,
        preset: str = "tiny",
        joint_dim: int = 512,
        embed_dim: int | None = None,
        depths: Sequence[int] | None = None,
        num_heads: Sequence[int] | None = None,
        window_size: int | None = None,
        spec_size: int = 256,
        num_classes: int = 527,
        sample_rate: int = 48000,
        stft_window: int = 1024,
        hop_size: int = 480,
        mel_bins: int = 64,
        fmin: int = 50,
        fmax: int = 14000,
        clip_samples: int = 480000,
        drop_path_rate: float = 0.1,
        spec_augment: bool = True,
        frozen: bool = False,
    ) -> None:
        super().__init__()
        if preset not in PRESETS:
            raise ConfigError(f"ClapAudioTower: preset '{preset}' is unknown; choose one of {sorted(PRESETS)}.")
        size = PRESETS[preset]
        embed_dim = int(embed_dim if embed_dim is not None else size["embed_dim"])
        depths = [int(d) for d in (depths if depths is not None else size["depths"])]
        num_heads = [int(h) for h in (num_heads if num_heads is not None else size["num_heads"])]
        window_size = int(window_size if window_size is not None else size["window_size"])
        _check_sizes(embed_dim, depths, num_heads, window_size, spec_size, mel_bins, clip_samples, hop_size)

        from laion_clap.clap_module.htsat import HTSAT_Swin_Transformer

        audio_cfg = SimpleNamespace(sample_rate=sample_rate, window_size=stft_window, hop_size=hop_size,
                                    mel_bins=mel_bins, fmin=fmin, fmax=fmax, class_num=num_classes)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch.meshgrid.*")  # laion's Swin window indices
            self.audio_branch = HTSAT_Swin_Transformer(
                spec_size=spec_size, patch_size=PATCH, patch_stride=(PATCH, PATCH), num_classes=num_classes,
                embed_dim=embed_dim, depths=depths, num_heads=num_heads, window_size=window_size,
                drop_path_rate=drop_path_rate, config=audio_cfg,
            )
        for unused in (self.audio_branch.tscam_conv, self.audio_branch.head):
            unused.requires_grad_(False)  # the AudioSet head: not on the embedding's path
        width = self.audio_branch.num_features  # embed_dim * 2 ** (len(depths) - 1)
        self.audio_projection = nn.Sequential(nn.Linear(width, joint_dim), nn.ReLU(), nn.Linear(joint_dim, joint_dim))

        self.joint_dim = joint_dim
        self.out_dim = joint_dim
        self.sample_rate = sample_rate
        self.clip_samples = clip_samples
        self.spec_augment = spec_augment
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def train(self, mode: bool = True) -> "ClapAudioTower":
        """A frozen tower stays in eval mode (BatchNorm statistics fixed, no SpecAugment)."""
        return super().train(mode and not self.frozen)

    def features(self, waveform: Tensor) -> Tensor:
        """waveform [B, N] → HTSAT's clip embedding [B, embed_dim * 2 ** (stages - 1)], before projection."""
        if waveform.dim() != 2:
            raise ValueError(f"ClapAudioTower expects a waveform [B, N], got shape {tuple(waveform.shape)}.")
        if waveform.shape[1] == 0:
            raise ValueError("ClapAudioTower got empty waveforms (N = 0 samples).")
        branch = self.audio_branch
        # The log-mel front end runs in float32 even under fp16 autocast, where its 1e-10 floor would be 0 → -inf.
        with torch.autocast(device_type=waveform.device.type, enabled=False):
            x = repeat_pad(waveform.to(branch.bn0.weight.dtype), self.clip_samples, random_crop=self.training)
            x = branch.logmel_extractor(branch.spectrogram_extractor(x))  # [B, 1, T, mel_bins]
            x = branch.bn0(x.transpose(1, 3)).transpose(1, 3)
        if self.training and self.spec_augment:
            x = branch.spec_augmenter(x)
        x = branch.reshape_wav2img(x)  # [B, 1, spec_size, spec_size]
        return branch.forward_features(x)["embedding"]

    def forward(self, waveform: Tensor) -> Tensor:
        """waveform [B, N] at `sample_rate` → unit-norm embedding [B, joint_dim]."""
        return F.normalize(self.audio_projection(self.features(waveform)), dim=-1)

    def embed(self, waveform: Tensor) -> Tensor:
        """waveform [B, N] at `sample_rate` → unit-norm embedding [B, joint_dim]."""
        return self(waveform)


def _check_sizes(embed_dim: int, depths: list[int], num_heads: list[int], window_size: int, spec_size: int,
                 mel_bins: int, clip_samples: int, hop_size: int) -> None:
    """Raise ConfigError for HTSAT sizes that would fail (or silently misbehave) at the first forward."""
    where = "ClapAudioTower"
    if len(depths) != len(num_heads):
        raise ConfigError(f"{where}: depths {depths} and num_heads {num_heads} must have one entry per stage.")
    for stage, heads in enumerate(num_heads):
        if (embed_dim * 2**stage) % heads:
            raise ConfigError(f"{where}: stage {stage} has width embed_dim * 2**{stage} = {embed_dim * 2**stage}, "
                              f"not divisible by num_heads[{stage}] = {heads}.")
    if spec_size < mel_bins or spec_size % mel_bins:
        raise ConfigError(f"{where}: spec_size ({spec_size}) must be a multiple of mel_bins ({mel_bins}).")
    freq_ratio = spec_size // mel_bins
    frames = clip_samples // hop_size + 1
    if frames > spec_size * freq_ratio:
        raise ConfigError(f"{where}: clip_samples {clip_samples} gives {frames} frames at hop_size {hop_size}, but "
                          f"spec_size {spec_size} takes at most {spec_size * freq_ratio}; lower clip_samples or "
                          "raise spec_size.")
    grid = spec_size // PATCH
    last = grid // 2 ** (len(depths) - 1)  # side of the last stage's patch grid
    if spec_size % PATCH or grid % 2 ** (len(depths) - 1) or last < freq_ratio or last % (last // freq_ratio):
        raise ConfigError(f"{where}: spec_size {spec_size} does not halve evenly through {len(depths)} stages "
                          f"from a {grid}x{grid} patch grid (freq_ratio {freq_ratio}); use e.g. spec_size 256.")
    for stage in range(len(depths)):
        side = grid // 2**stage
        if side > window_size and side % window_size:
            raise ConfigError(f"{where}: stage {stage} is {side}x{side} patches, not a multiple of "
                              f"window_size {window_size}.")
