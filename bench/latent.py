"""`make bench` for the latent generators: training throughput with the pre-encoded latent cache
(data.cache) vs encoding every batch on the fly, and generation speed (seconds of audio per second).

    python -m bench.latent --system audioldm|iadb [--steps 20] [--warmup 3] [override …]
        [--common OVERRIDE …]            applied to the stage experiments too (data root, paths)
        [--stage EXPERIMENT:OVERRIDE …]  applied to one stage experiment (e.g. mel_vae_cpu:epochs=1)

The earlier stages (CLAP, mel VAE, vocoder; EnCodec) are built untrained from their CPU
experiments and saved as checkpoints in a scratch folder: speed does not depend on the weights.
"""

import argparse
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from bench.run import StepTimer, print_figures
from vocalgen.callbacks.config_in_checkpoint import CHECKPOINT_KEY
from vocalgen.config import CONFIG_DIR, register_resolvers
from vocalgen.module import build_module
from vocalgen.stages import resolve_stages

SYSTEMS = {
    "audioldm": {"experiment": "audioldm_refined_cpu", "sampling_steps": (50,),
                 "stages": {"clap_checkpoint": "clap_cpu", "vae_checkpoint": "mel_vae_cpu",
                            "vocoder_checkpoint": "vocoder_cpu"}},
    "iadb": {"experiment": "iadb_bpm_cpu", "sampling_steps": (10, 50, 100),
             "stages": {"encodec_checkpoint": "encodec_cpu"}},
}


def compose_experiment(experiment: str, overrides: list[str]) -> DictConfig:
    """`experiment` composed with `overrides`, the earlier stages it names read in (resolve_stages)."""
    register_resolvers()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return resolve_stages(compose("train", [f"+experiment={experiment}", *overrides]))


def untrained_checkpoint(experiment: str, overrides: list[str], path: Path) -> Path:
    """A checkpoint of `experiment`'s freshly built (untrained) module, as vocalgen.train writes them."""
    cfg = compose_experiment(experiment, overrides)
    module = build_module(cfg)
    config = OmegaConf.to_container(cfg, resolve=True)
    torch.save({"state_dict": module.state_dict(), CHECKPOINT_KEY: {"config": config, "mlflow_run_id": None}}, path)
    return path


def training_throughput(cfg: DictConfig, steps: int, warmup: int) -> float:
    """Training samples per second through the Trainer with the experiment's own data pipeline."""
    from hydra.utils import instantiate

    L.seed_everything(cfg.seed)
    module = build_module(cfg)
    timer = StepTimer(warmup)
    trainer = L.Trainer(max_epochs=1000, max_steps=warmup + steps, accelerator="cpu", devices=1, callbacks=[timer],
                        num_sanity_val_steps=0, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, datamodule=instantiate(cfg.data))
    return steps * cfg.data.batch_size / (timer.finished - timer.started)


def generation_speed(cfg: DictConfig, sampling_steps: int, clips: int) -> float:
    """Seconds of audio generated per second of wall time, `clips` clips in one batch."""
    module = build_module(cfg).eval()
    generator = module.generator
    generator.latent_scale.fill_(1.0)  # untrained: any scale serves for timing
    condition = torch.randn(clips, generator.condition_dim) if hasattr(generator, "condition_dim") else {
        "beat_phase": torch.rand(clips, generator.frames)}
    started = time.perf_counter()
    with torch.no_grad():
        audio = generator.generate(condition, steps=sampling_steps, guidance=2.0, seed=0)
    return audio.shape[0] * audio.shape[-1] / generator.sample_rate / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system", choices=sorted(SYSTEMS), default="audioldm")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--clips", type=int, default=4, help="clips generated at once for the generation figures")
    parser.add_argument("--common", action="append", default=[], help="override for every experiment composed")
    parser.add_argument("--stage", action="append", default=[], help="EXPERIMENT:OVERRIDE for one stage")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of the benchmarked experiment")
    args = parser.parse_args(argv)
    system = SYSTEMS[args.system]
    with tempfile.TemporaryDirectory(prefix="vocalgen-bench-") as scratch_name:
        scratch = Path(scratch_name)
        common = [f"paths.run_dir={scratch}/run", *args.common]
        links = []
        for key, stage in system["stages"].items():
            stage_overrides = [o.split(":", 1)[1] for o in args.stage if o.split(":", 1)[0] == stage]
            path = untrained_checkpoint(stage, [*common, *stage_overrides], scratch / f"{stage}.ckpt")
            links.append(f"{key}={path}")
        base = [*common, *links, *args.overrides]
        on_the_fly = compose_experiment(system["experiment"], [*base, "data.cache=null"])
        cached = compose_experiment(system["experiment"], [*base, f"data.cache={scratch}/latents"])
        figures = {
            "train samples/s, encoding every batch (VAE/EnCodec + encoder)":
                training_throughput(on_the_fly, args.steps, args.warmup),
            "train samples/s, pre-encoded latent cache (data.cache)": training_throughput(cached, args.steps,
                                                                                         args.warmup),
        }
        figures["speed-up of the latent cache"] = figures["train samples/s, pre-encoded latent cache (data.cache)"] / \
            figures["train samples/s, encoding every batch (VAE/EnCodec + encoder)"]
        for steps in system["sampling_steps"]:
            figures[f"generation, seconds of audio per second, {steps} steps"] = generation_speed(cached, steps,
                                                                                                 args.clips)
    print_figures(f"+experiment={system['experiment']} batch {on_the_fly.data.batch_size}, {args.steps} timed "
                  f"steps, {torch.get_num_threads()} threads, generation {args.clips} clips at once", figures)
    return figures


if __name__ == "__main__":
    main()
