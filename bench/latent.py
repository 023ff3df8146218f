"""Bench of the latent generators: training throughput with the pre-encoded latent cache (data.cache) in each
variant (fp32, bf16, compiled: bench/variants.py), its speed-up over encoding every batch on the fly, and
generation speed (seconds of audio per second) in each variant.

    python -m bench.latent --system audioldm|iadb [--steps 20] [--warmup 3] [--variants …] [override …]
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
from omegaconf import DictConfig, OmegaConf

from bench.report import Row, format_table
from bench.run import StepTimer, compose_config, parse_variants
from bench.variants import VARIANTS, autocast_for, default_variants
from vocalgen.callbacks.config_in_checkpoint import CHECKPOINT_KEY
from vocalgen.module import build_module
from vocalgen.speedups import apply_speedups
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
    return resolve_stages(compose_config(experiment, overrides))


def untrained_checkpoint(experiment: str, overrides: list[str], path: Path) -> Path:
    """A checkpoint of `experiment`'s freshly built (untrained) module, as vocalgen.train writes them."""
    cfg = compose_experiment(experiment, overrides)
    module = build_module(cfg)
    config = OmegaConf.to_container(cfg, resolve=True)
    torch.save({"state_dict": module.state_dict(), CHECKPOINT_KEY: {"config": config, "mlflow_run_id": None}}, path)
    return path


def untrained_stages(stages: dict[str, str], common: list[str], stage: list[str], scratch: Path) -> list[str]:
    """Each earlier stage of `stages` ({root key: experiment}) saved untrained in `scratch`, composed with `common`
    and the EXPERIMENT:OVERRIDE items of `stage` for it; the overrides that link them, e.g. ["vae_checkpoint=…"]."""
    links = []
    for key, experiment in stages.items():
        own = [item.split(":", 1)[1] for item in stage if item.split(":", 1)[0] == experiment]
        path = untrained_checkpoint(experiment, [*common, f"paths.run_dir={scratch}/{experiment}", *own],
                                    scratch / f"{experiment}.ckpt")
        links.append(f"{key}={path}")
    return links


def training_throughput(cfg: DictConfig, steps: int, warmup: int) -> float:
    """Training samples per second through the Trainer with the experiment's own data pipeline, in the
    config's precision and with its speed options."""
    from hydra.utils import instantiate

    L.seed_everything(cfg.seed)
    module = build_module(cfg)
    apply_speedups(module, cfg)
    timer = StepTimer(warmup)
    trainer = L.Trainer(max_epochs=1000, max_steps=warmup + steps, accelerator="cpu", devices=1,
                        precision=cfg.trainer.precision, callbacks=[timer],
                        num_sanity_val_steps=0, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, datamodule=instantiate(cfg.data))
    return steps * cfg.data.batch_size / (timer.finished - timer.started)


def generation_speed(cfg: DictConfig, sampling_steps: int, clips: int) -> float:
    """Seconds of audio generated per second of wall time, `clips` clips in one batch, in the config's
    precision (bf16 autocast for bf16-mixed) and with its speed options; after one untimed 1-step generation
    (which compiles the network when the config compiles it)."""
    module = build_module(cfg).eval()
    apply_speedups(module, cfg)
    generator = module.generator
    generator.latent_scale.fill_(1.0)  # untrained: any scale serves for timing
    condition = torch.randn(clips, generator.condition_dim) if hasattr(generator, "condition_dim") else {
        "beat_phase": torch.rand(clips, generator.frames)}
    with torch.no_grad(), autocast_for(cfg):
        generator.generate(condition, steps=1, guidance=2.0, seed=0)
        started = time.perf_counter()
        audio = generator.generate(condition, steps=sampling_steps, guidance=2.0, seed=0)
    return audio.shape[0] * audio.shape[-1] / generator.sample_rate / (time.perf_counter() - started)


def latent_rows(system: str, overrides: list[str], variants: list[str], scratch: Path, steps: int = 20,
                warmup: int = 3, clips: int = 4, common: list[str] = (), stage: list[str] = ()) -> list[Row]:
    """The bench's rows for `system` (a key of SYSTEMS): training with the latent cache per variant, the cache's
    speed-up (first variant) and generation speed per variant and step count. `common` overrides every
    experiment composed, `stage` holds EXPERIMENT:OVERRIDE items for one earlier stage."""
    spec = SYSTEMS[system]
    common = [f"paths.run_dir={scratch}/run", *common]
    base = [*common, *untrained_stages(spec["stages"], common, stage, scratch), *overrides]
    cached = {variant: compose_experiment(spec["experiment"], [*base, f"data.cache={scratch}/latents",
                                                               *VARIANTS[variant]]) for variant in variants}
    on_the_fly = compose_experiment(spec["experiment"], [*base, "data.cache=null", *VARIANTS[variants[0]]])
    name = f"{spec['experiment']} (batch {on_the_fly.data.batch_size})"
    train = {variant: training_throughput(cfg, steps, warmup) for variant, cfg in cached.items()}
    rows = [Row(name, "train samples/s, pre-encoded latent cache", train),
            Row(name, "speed-up of the latent cache over encoding every batch",
                {variants[0]: train[variants[0]] / training_throughput(on_the_fly, steps, warmup)})]
    for sampling_steps in spec["sampling_steps"]:
        rows.append(Row(name, f"generation, s of audio / s, {sampling_steps} steps, {clips} clips",
                        {variant: generation_speed(cfg, sampling_steps, clips) for variant, cfg in cached.items()}))
    return rows


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system", choices=sorted(SYSTEMS), default="audioldm")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--clips", type=int, default=4, help="clips generated at once for the generation figures")
    parser.add_argument("--variants", type=parse_variants, default=default_variants(), help="comma-separated")
    parser.add_argument("--common", action="append", default=[], help="override for every experiment composed")
    parser.add_argument("--stage", action="append", default=[], help="EXPERIMENT:OVERRIDE for one stage")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of the benchmarked experiment")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vocalgen-bench-") as scratch_name:
        rows = latent_rows(args.system, args.overrides, args.variants, Path(scratch_name), args.steps, args.warmup,
                           args.clips, args.common, args.stage)
    print(format_table(f"{args.steps} timed steps, {torch.get_num_threads()} threads", rows, args.variants))
    return rows


if __name__ == "__main__":
    main()
