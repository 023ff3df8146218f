"""`python -m vocalgen.generate checkpoint=… input=…`: a trained chain + conditions → audio files."""

import logging
from pathlib import Path

import hydra
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from vocalgen.checkpoints import load_module, resolve_checkpoint
from vocalgen.config import CONFIG_DIR, register_resolvers
from vocalgen.data.audio_io import audio_files, write_audio
from vocalgen.errors import CheckpointError

log = logging.getLogger(__name__)
register_resolvers()


def generate(checkpoint: str, inputs: list[Path], output_dir: str | Path, mlflow_dir: str | Path,
             which: str = "last", batch_size: int = 8, device: str = "cpu", **sampling) -> list[Path]:
    """Write `<output_dir>/<input stem>.wav` for each input through the checkpoint's chain."""
    path = resolve_checkpoint(checkpoint, mlflow_dir, which)
    module, config = load_module(path)
    if not module.generator.sample_rate:
        raise CheckpointError(f"checkpoint {path} (experiment '{config.get('experiment_name')}') produces embeddings, "
                              "not audio: use vocalgen.retrieve or vocalgen.evaluate with it.")
    module.to(device)
    field = module.encoder.field
    reader = instantiate(OmegaConf.create(config["data"]["fields"][field]))
    written = []
    for start in tqdm(range(0, len(inputs), batch_size), desc="generating", unit="batch"):
        chunk = inputs[start:start + batch_size]
        batch = {field: torch.stack([reader(path) for path in chunk]).to(device)}
        audio = module.generate(batch, **sampling)
        for path, clip in zip(chunk, audio):
            written.append(write_audio(Path(output_dir) / f"{path.stem}.wav", clip, module.generator.sample_rate))
    return written


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="generate")
def main(cfg: DictConfig) -> None:
    written = generate(cfg.checkpoint, audio_files(cfg.input, "input"), cfg.output_dir, cfg.paths.mlflow_dir,
                       which=cfg.which, batch_size=cfg.batch_size, device=cfg.device, **cfg.sampling)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
