"""`python -m vocalgen.generate checkpoint=… input=…|text="…"|bpm=…`: a trained chain + conditions → audio or image
files, as the checkpoint's generator makes them."""

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig
from torch.utils.data import default_collate
from tqdm import tqdm

from vocalgen.checkpoints import load_module, resolve_checkpoint
from vocalgen.cli import command
from vocalgen.conditions import build_requests
from vocalgen.config import as_list, merge_sampling, register_resolvers, sampling_overrides
from vocalgen.data.audio_io import audio_files
from vocalgen.errors import CheckpointError

log = logging.getLogger(__name__)
GRID_LIMIT = 16  # outputs shown together in grid.png
register_resolvers()


def generate(checkpoint: str, inputs: list[Path] | None, output_dir: str | Path, mlflow_dir: str | Path,
             which: str = "last", batch_size: int = 8, device: str = "cpu", text: list[str] | None = None,
             bpm: list[float] | None = None, **sampling: Any) -> list[Path]:
    """Write `<output_dir>/<name>.<wav|png|…>` (the generator's output kind) for each input file, prompt
    or BPM through the checkpoint's chain, and `grid.png` of them all when there are 2 to GRID_LIMIT;
    `sampling` (steps, guidance, seed, …) overrides the checkpoint's `sampling` config."""
    path = resolve_checkpoint(checkpoint, mlflow_dir, which)
    module, config = load_module(path)
    output = module.generator.output
    if output is None:
        raise CheckpointError(f"checkpoint {path} (experiment '{config.get('experiment_name')}') produces embeddings, "
                              "not audio or images: use vocalgen.retrieve or vocalgen.evaluate with it.")
    if text and callable(getattr(module.encoder, "check_prompts", None)):
        module.encoder.check_prompts(text)
    requests = build_requests(config, module.encoder, inputs, text, bpm)
    sampling = merge_sampling(config.get("sampling"), sampling)
    module.to(device)
    written, shown = [], {}
    for start in tqdm(range(0, len(requests), batch_size), desc="generating", unit="batch"):
        chunk = requests[start:start + batch_size]
        batch = module.transfer_batch_to_device(default_collate([request.item for request in chunk]), module.device, 0)
        for request, item in zip(chunk, module.generate(batch, **sampling)):
            written.append(output.write(Path(output_dir) / request.name, item))
            if 2 <= len(requests) <= GRID_LIMIT:
                shown[request.name] = item.cpu()
    if shown:
        written.append(output.overview(Path(output_dir) / "grid.png", shown))
    return written


@command("generate")
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
