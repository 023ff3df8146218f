"""Bench of a trained-from-batches experiment (QVAE, QVIM): training throughput through the Trainer in each
variant (fp32, bf16, compiled: bench/variants.py) and against the plain step (a hand-written fp32 loop with
no speed options: the published code's work), the framework overhead (Trainer vs the same plain loop, in
pairs), data-pipeline throughput and, for retrieval models, embedding throughput for `vocalgen.retrieve`
with and without its cache.

    python -m bench.run [--experiment qvae_cpu] [--steps 20] [--warmup 3] [--clips 128]
                        [--variants fp32,bf16,compiled] [override …]

Both training paths use the same model, batches (held in memory), optimizer, schedule and
gradient clipping; the Trainer path also logs to a throw-away MLflow store as a real run does.
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from bench.report import Figure, Row, comma_list, format_table
from bench.variants import PLAIN_STEP, VARIANTS, autocast_for, default_variants
from vocalgen.config import CONFIG_DIR, register_resolvers
from vocalgen.module import build_module
from vocalgen.param_groups import build_param_groups
from vocalgen.speedups import apply_speedups
from vocalgen.tracking import store_uri


class StepTimer(L.Callback):
    """Wall time from the start of optimizer step `warmup` (counted across epochs: a batch index restarts every
    epoch, which restarted the clock in runs longer than an epoch) to the end of training."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.started = self.finished = 0.0

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        if trainer.global_step == self.warmup and not self.started:
            self.started = time.perf_counter()

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.finished = time.perf_counter()


def compose_config(experiment: str, overrides: list[str], scratch: Path | None = None) -> DictConfig:
    """The training config of `experiment` with `overrides`, its run folder in `scratch` when one is given."""
    register_resolvers()
    run_dir = [f"paths.run_dir={scratch}/run"] if scratch else []
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("train", [f"+experiment={experiment}", *run_dir, *overrides])


def in_memory_batches(cfg: DictConfig, count: int) -> list[dict]:
    """`count` training batches (cycling the loader if it is shorter), read once."""
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    batches: list[dict] = []
    while len(batches) < count:
        batches.extend(batch for _, batch in zip(range(count - len(batches)), datamodule.train_dataloader()))
    return batches


def plain_loop(cfg: DictConfig, batches: list[dict], warmup: int) -> float:
    """Samples per second of a hand-written loop: forward, loss, backward, clip, step, schedule (with the
    config's precision and speed options)."""
    L.seed_everything(cfg.seed)
    module = build_module(cfg).train()
    apply_speedups(module, cfg)
    optimizer = module.optimizer_factory(build_param_groups(module, module.rules))
    steps = {"total_steps": len(batches), "steps_per_epoch": len(batches)}
    scheduler = instantiate(cfg.scheduler)(optimizer, **steps) if cfg.get("scheduler") else None
    clip = cfg.trainer.gradient_clip_val
    for step, batch in enumerate(batches):
        if step == warmup:
            started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with autocast_for(cfg):
            loss = module.loss(module(batch), step=step)["loss"]
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return (len(batches) - warmup) * cfg.data.batch_size / (time.perf_counter() - started)


def through_trainer(cfg: DictConfig, batches: list[dict], warmup: int, scratch: Path) -> float:
    """Samples per second of VocalGenModule.fit on the same batches, logging to MLflow."""
    from lightning.pytorch.loggers import MLFlowLogger

    L.seed_everything(cfg.seed)
    module = build_module(cfg)
    apply_speedups(module, cfg)
    timer = StepTimer(warmup)
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", devices=1, precision=cfg.trainer.precision, callbacks=[timer],
        num_sanity_val_steps=0, limit_val_batches=0,
        logger=MLFlowLogger(experiment_name="bench", tracking_uri=store_uri(scratch / "mlflow")),
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        gradient_clip_val=cfg.trainer.gradient_clip_val, log_every_n_steps=cfg.trainer.log_every_n_steps,
    )
    trainer.fit(module, train_dataloaders=DataLoader(batches, batch_size=None))
    return (len(batches) - warmup) * cfg.data.batch_size / (timer.finished - timer.started)


def data_throughput(cfg: DictConfig, cache_dir: Path | None, clips: int) -> float:
    """Clips per second out of the training DataLoader, with the field cache filled or without one."""
    datamodule = instantiate(cfg.data, cache_dir=str(cache_dir) if cache_dir else None)
    datamodule.prepare_data()
    datamodule.setup("fit")
    started, seen = time.perf_counter(), 0
    for batch in datamodule.train_dataloader():
        seen += len(batch["index"])
        if seen >= clips:
            break
    return seen / (time.perf_counter() - started)


def retrieval_throughput(cfg: DictConfig, scratch: Path, clips: int) -> dict[str, float]:
    """Clips per second embedded by the reference tower for `vocalgen.retrieve`: read + embed, then
    again from the embedding cache. Empty for models that are not two-tower retrieval models."""
    from vocalgen.embedding_cache import EmbeddingCache
    from vocalgen.generators.retrieval_head import RetrievalHead
    from vocalgen.retrieve import embed_files

    module = build_module(cfg).eval()
    if not isinstance(module.generator, RetrievalHead):
        return {}
    field = module.generator.tower.field
    reader = instantiate(cfg.data.fields[field])
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    folder = datamodule.dataset_folder / "references"
    files = sorted(folder.iterdir())[:clips]
    stand_in = scratch / "checkpoint"  # the cache is keyed by a checkpoint file; any file serves here
    stand_in.write_text("bench")
    figures = {}
    for name in ("retrieval clips/s, read + embed", "retrieval clips/s, from the embedding cache"):
        cache = EmbeddingCache(scratch / "retrieval", stand_in, folder)
        started = time.perf_counter()
        cache.embeddings(files, lambda chunk: embed_files(module, reader, field, chunk, keys=True), 16)
        figures[name] = len(files) / (time.perf_counter() - started)
    return figures


def paired_ratio(plain: Callable[[], float], framework: Callable[[], float], min_pairs: int, max_pairs: int,
                 tolerance: float = 0.02) -> dict[str, float]:
    """Measure plain and framework throughput in alternation, one pair at a time, until there are at least
    `min_pairs` and the pairs' ratios framework / plain have a spread (median absolute deviation over the
    median: one disturbed pair does not hold it up) of at most `tolerance`, or `max_pairs` were taken.
    Returns the median of each side, the median ratio, its spread and the number of pairs: a pair's two runs see
    the same machine state, so the median of pairs tells a 3 % overhead from a 14 % one where a single
    ratio cannot."""
    plains, frameworks, ratios = [], [], []
    while len(ratios) < max_pairs:
        plains.append(plain())
        frameworks.append(framework())
        ratios.append(frameworks[-1] / plains[-1])
        median = statistics.median(ratios)
        spread = statistics.median(abs(ratio - median) for ratio in ratios) / median
        print(f"pair {len(ratios)}: {plains[-1]:.3g} → {frameworks[-1]:.3g} samples/s, ratio {ratios[-1]:.3f}; "
              f"median {median:.3f} ± {spread:.1%}", file=sys.stderr, flush=True)
        if len(ratios) >= min_pairs and spread <= tolerance:
            break
    return {"plain": statistics.median(plains), "framework": statistics.median(frameworks), "ratio": median,
            "spread": spread, "pairs": float(len(ratios))}


def paired_text(pairs: dict[str, float]) -> str:
    """A paired_ratio result as printed: "1.520 ± 1.1%, 4 pairs"."""
    return f"{pairs['ratio']:.3f} ± {pairs['spread']:.1%}, {int(pairs['pairs'])} pairs"


def training_rows(experiment: str, overrides: list[str], variants: list[str], scratch: Path, steps: int = 20,
                  warmup: int = 3, min_pairs: int = 3, max_pairs: int = 12, clips: int = 128) -> list[Row]:
    """The bench's rows for `experiment` (composed with `overrides`): Trainer throughput per variant and over
    the plain step, the Trainer / plain overhead in the first variant, data and retrieval throughput. The
    first variant's speed-up over the plain step and its overhead are medians of pairs (paired_ratio), its
    throughput the median of its Trainer runs, the other variants' one Trainer run each over the median plain
    step; where the first variant *is* the plain step (no speed options) one set of pairs gives both. The compiled
    variant of an experiment that names no compile_parts is left out ("–")."""
    configs = {variant: compose_config(experiment, [*overrides, *VARIANTS[variant]], scratch) for variant in variants}
    configs = {variant: cfg for variant, cfg in configs.items() if not cfg.compile or cfg.compile_parts}  # "–"
    measured, first = next(iter(configs.items()))
    batches = in_memory_batches(first, warmup + steps)
    plain_cfg = compose_config(experiment, [*overrides, *PLAIN_STEP], scratch)
    framework = partial(through_trainer, first, batches, warmup, scratch)
    overhead = paired_ratio(partial(plain_loop, first, batches, warmup), framework, min_pairs, max_pairs)
    speedup = (overhead if plain_cfg == first
               else paired_ratio(partial(plain_loop, plain_cfg, batches, warmup), framework, min_pairs, max_pairs))
    trainer = {variant: through_trainer(cfg, batches, warmup, scratch) for variant, cfg in configs.items()
               if variant != measured}
    trainer = {measured: statistics.median([overhead["framework"], speedup["framework"]]), **trainer}
    over_plain: dict[str, Figure] = {variant: t / speedup["plain"] for variant, t in trainer.items()}
    over_plain[measured] = paired_text(speedup)
    on_the_fly, cached = data_throughput(first, None, clips), data_throughput(first, scratch / "cache", clips)
    name = f"{experiment} (batch {first.data.batch_size})"
    rows = [
        Row(name, "train samples/s, Trainer + MLflow", trainer),
        Row(name, "  ÷ plain step (fp32 loop, no speed options; first column: median of pairs)", over_plain),
        Row(name, "Trainer / plain loop, median of pairs (aim ≥ 0.98)", {measured: paired_text(overhead)}),
        Row(name, "data clips/s, on the fly → feature cache", {measured: (on_the_fly, cached)}),
    ]
    retrieval = retrieval_throughput(first, scratch, clips)
    if retrieval:
        rows.append(Row(name, "retrieval clips/s, read + embed → embedding cache",
                        {measured: tuple(retrieval.values())}))
    return rows


def parse_variants(text: str) -> list[str]:
    """"fp32,compiled" → ["fp32", "compiled"]; SystemExit naming the choices for an unknown one."""
    return comma_list(text, list(VARIANTS), "--variants")


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", default="qvae_cpu")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--repeats", type=int, default=3, help="at least this many plain / Trainer pairs")
    parser.add_argument("--max-repeats", type=int, default=12, help="at most this many pairs, until the ratio's "
                        "spread is within ±2 %%")
    parser.add_argument("--clips", type=int, default=128, help="clips read for the data-pipeline figures")
    parser.add_argument("--variants", type=parse_variants, default=default_variants(), help="comma-separated")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. data.batch_size=8")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vocalgen-bench-") as scratch_name:
        rows = training_rows(args.experiment, args.overrides, args.variants, Path(scratch_name), args.steps,
                             args.warmup, args.repeats, max(args.repeats, args.max_repeats), args.clips)
    print(format_table(f"{args.steps} timed steps, {torch.get_num_threads()} threads", rows, args.variants))
    return rows


if __name__ == "__main__":
    main()
