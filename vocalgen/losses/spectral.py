"""Multi-scale STFT and multi-resolution mel reconstruction losses on waveforms [B, 1, N]."""

import torch
import torchaudio

from vocalgen.losses.reconstruction import ReconstructionTerm

EPS = 1e-5


def stft_magnitude(audio: torch.Tensor, window: int) -> torch.Tensor:
    """[B, 1, N] → magnitude [B, window // 2 + 1, frames] with a Hann window and hop window/4."""
    return torch.stft(
        audio.reshape(-1, audio.shape[-1]),
        n_fft=window,
        hop_length=window // 4,
        window=torch.hann_window(window, device=audio.device, dtype=audio.dtype),
        return_complex=True,
    ).abs()


class MultiScaleSTFTLoss(ReconstructionTerm):
    """Mean over `windows` of spectral convergence + L1 of log magnitudes."""

    def __init__(self, windows: tuple[int, ...] = (512, 1024, 2048, 4096), **keys: str) -> None:
        super().__init__(**keys)
        self.windows = tuple(windows)

    def distance(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = prediction.new_zeros(())
        for window in self.windows:
            predicted, wanted = stft_magnitude(prediction, window), stft_magnitude(target, window)
            convergence = torch.linalg.norm(wanted - predicted) / (torch.linalg.norm(wanted) + EPS)
            log_l1 = (torch.log(wanted + EPS) - torch.log(predicted + EPS)).abs().mean()
            total = total + convergence + log_l1
        return total / len(self.windows)


class MultiResolutionMelLoss(ReconstructionTerm):
    """Mean over (n_fft, hop) pairs of the L1 distance of log-mel spectrograms."""

    def __init__(self, sample_rate: int, n_mels: int = 80, n_ffts: tuple[int, ...] = (1024, 2048),
                 hops: tuple[int, ...] = (256, 512), **keys: str) -> None:
        super().__init__(**keys)
        if len(n_ffts) != len(hops):
            raise ValueError(f"loss mel: n_ffts {list(n_ffts)} and hops {list(hops)} must have the same length.")
        self.mels = torch.nn.ModuleList(
            torchaudio.transforms.MelSpectrogram(sample_rate, n_fft=n, hop_length=h, n_mels=n_mels)
            for n, h in zip(n_ffts, hops)
        )

    def log_mels(self, audio: torch.Tensor) -> list[torch.Tensor]:
        """audio [B, 1, N] → its log-mel at each resolution, [B, 1, n_mels, frames_r]."""
        return [torch.log(mel(audio) + EPS) for mel in self.mels]

    def distance(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        terms = [(a - b).abs().mean() for a, b in zip(self.log_mels(prediction), self.log_mels(target))]
        return torch.stack(terms).mean()
