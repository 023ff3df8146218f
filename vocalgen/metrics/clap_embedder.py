"""A trained CLAP checkpoint as the embedding space of the generation metrics."""

from collections.abc import Sequence
from pathlib import Path

import torch
import torchaudio.functional as AF

from vocalgen.checkpoints import load_module
from vocalgen.data.audio_io import fit_length, read_audio
from vocalgen.stages import CLAP_KINDS, read_stage_config


class ClapEmbedder:
    """Audio at any rate → the CLAP audio embedding [N, D]; captions → the text embedding [N, D]
    (both unit norm), from a +experiment=clap checkpoint `path`. Clips are cut or padded to `seconds`
    (None: the CLAP's own input length, its audio tower's clip_samples)."""

    def __init__(self, path: Path, seconds: float | None, device: str = "cpu") -> None:
        read_stage_config(path, CLAP_KINDS, "embedder", "+experiment=clap")  # CheckpointError unless a CLAP
        module, _ = load_module(path)
        self.module = module.to(device)
        self.audio, self.text = module.encoder, module.generator.tower
        self.sample_rate = self.audio.sample_rate
        self.samples = self.audio.tower.clip_samples if seconds is None else int(round(seconds * self.sample_rate))
        self.device = device

    @torch.no_grad()
    def embed_audio(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """audio [N, 1, S] (or [N, S]) at `sample_rate` → [N, D] on the CPU."""
        audio = audio.reshape(audio.shape[0], -1).float()
        if sample_rate != self.sample_rate:
            audio = AF.resample(audio, sample_rate, self.sample_rate)
        return self.audio({self.audio.field: fit_length(audio, self.samples).to(self.device)}).cpu()

    def embed_files(self, paths: Sequence[Path]) -> torch.Tensor:
        """Audio files of any lengths → [N, D] on the CPU (each cut or zero-padded to `seconds`)."""
        clips = [fit_length(read_audio(path, self.sample_rate), self.samples) for path in paths]
        return self.embed_audio(torch.stack(clips), self.sample_rate)

    @torch.no_grad()
    def embed_text(self, captions: Sequence[str]) -> torch.Tensor:
        return self.text({self.text.field: list(captions)}).cpu()
