"""`python -m vocalgen.generate checkpoint=… input=…|text="…"|bpm=…`: a trained chain + conditions → audio files."""

import logging
from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import default_collate
from tqdm import tqdm

from vocalgen.checkpoints import load_module, resolve_checkpoint
from vocalgen.cli import expected_errors_end_cleanly
from vocalgen.conditions import build_requests
from vocalgen.config import CONFIG_DIR, merge_sampling, register_resolvers, sampling_overrides
from vocalgen.data.audio_io import audio_files, write_audio
from vocalgen.errors import CheckpointError

log = logging.getLogger(__name__)
register_resolvers()


def as_list(value: Any) -> list | None:
    """None, a scalar or a list (from the command line) → None or a list."""
    if value is None:
        return None
    if OmegaConf.is_list(value) or isinstance(value, list | tuple):
        return list(value)
    return [value]


def generate(checkpoint: str, inputs: list[Path] | None, output_dir: str | Path, mlflow_dir: str | Path,
             which: str = "last", batch_size: int = 8, device: str = "cpu", text: list[str] | None = None,
             bpm: list[float] | None = None, **sampling: Any) -> list[Path]:
    """Write `<output_dir>/<name>.wav` for each input file, prompt or BPM through the checkpoint's
    chain; `sampling` (steps, guidance, seed, …) overrides the checkpoint's `sampling` config."""
    path = resolve_checkpoint(checkpoint, mlflow_dir, which)
    module, config = load_module(path)
    if not module.generator.sample_rate:
        raise CheckpointError(f"checkpoint {path} (experiment '{config.get('experiment_name')}') produces embeddings, "
                              "not audio: use vocalgen.retrieve or vocalgen.evaluate with it.")
    if text and callable(getattr(module.encoder, "check_prompts", None)):
        module.encoder.check_prompts(text)
    requests = build_requests(config, module.encoder, inputs, text, bpm)
    sampling = merge_sampling(config.get("sampling"), sampling)
    module.to(device)
    written = []
    for start in tqdm(range(0, len(requests), batch_size), desc="generating", unit="batch"):
        chunk = requests[start:start + batch_size]
        batch = default_collate([request.item for request in chunk])
        batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        audio = module.generate(batch, **sampling)
        for request, clip in zip(chunk, audio):
            written.append(write_audio(Path(output_dir) / f"{request.name}.wav", clip, module.generator.sample_rate))
    return written


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="generate")
@expected_errors_end_cleanly
def main(cfg: DictConfig) -> None:
    sampling = sampling_overrides(cfg)
    inputs = audio_files(cfg.input, "input") if cfg.get("input") else None
    written = generate(cfg.checkpoint, inputs, cfg.output_dir, cfg.paths.mlflow_dir, which=cfg.which,
                       batch_size=cfg.batch_size, device=cfg.device, text=as_list(cfg.get("text")),
                       bpm=as_list(cfg.get("bpm")), **sampling)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
