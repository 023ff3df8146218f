"""Side by side with the published α-blending UNet: LADMG's beat-conditioned UNet (`UNetBTConditioner`, from a
local clone of github.com/AlfredPichard/LADMG that you provide: nothing is fetched) against vocalgen's UNet1D at a
matched parameter count (`+experiment/sizes=iadb_48m`), on the same work: training steps (forward, IADB MSE,
backward, Adam) and 100-step Euler sampling (one network call a step, no guidance, as the published sampler),
batch 8 of 128 × 1024 EnCodec latents (13.65 s) with a beat-phase sawtooth. The EnCodec decoder is left out: it is
the same for both.

    python -m bench.published_unet --ladmg-src PATH/TO/LADMG/src [--variants fp32,bf16,compiled]
        [--batch 8] [--frames 1024] [--train-steps 4] [--warmup 1] [--sampling-steps 100] [--sampling-batch 1]
        [override …]                     Hydra overrides of vocalgen's UNet, e.g. generator.denoiser.levels=5

The published UNet runs as published (fp32, no compile); the variants (bench/variants.py: their precision and
compile overrides) apply to vocalgen's. Its config (`time_emb_dim=16, start_channels_base2=7, n_layers=5,
kernel_size_base2=1`: 47.8 M parameters) is the published training's, and α reaches it as [B, 1, 1], the shape the
published training feeds (its sampler's [B, 1] is right only for B = 1).
"""

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from bench.report import Row, format_table
from bench.run import compose_config, parse_variants
from bench.variants import VARIANTS, autocast_for
from vocalgen.encoders.beat_phase import BeatPhaseEncoder
from vocalgen.generators.blending_samplers import integrate
from vocalgen.hardware import cpu_summary

Denoiser = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]  # (x [B,C,T], α [B], phase [B,T])
Precision = Callable[[], AbstractContextManager]  # a fresh precision context: nullcontext or bf16 autocast


def published_unet(source: Path) -> tuple[nn.Module, Denoiser]:
    """LADMG's UNetBTConditioner at its training config, imported from `source` (its src/ folder; sys.path is put
    back after), and a call (x, α, phase) → D(x, α, phase) [B, 128, T]. SystemExit naming the folder when the
    model cannot be imported from it."""
    wanted = "models/unet_bt_conditioner.py (with modules.py and modules_light.py beside models/)"
    if not (source / "models" / "unet_bt_conditioner.py").is_file():
        raise SystemExit(f"--ladmg-src {source}: no {wanted}; give the src/ folder of a clone of "
                         "github.com/AlfredPichard/LADMG.")
    sys.path.insert(0, str(source))
    try:
        module = importlib.import_module("models.unet_bt_conditioner")
    except ImportError as error:
        message = f"--ladmg-src {source}: cannot import the published UNet ({error}); it needs {wanted}."
        raise SystemExit(message) from error
    finally:
        sys.path.remove(str(source))
    unet = module.UNetBTConditioner(channels=128, time_emb_dim=16, start_channels_base2=7, n_layers=5,
                                    kernel_size_base2=1, n_groups=None)
    return unet, lambda x, alpha, phase: unet(x, alpha.view(-1, 1, 1), phase.unsqueeze(1))


def vocalgen_unet(overrides: list[str]) -> tuple[nn.Module, Denoiser, DictConfig]:
    """iadb_bpm's UNet1D at the matched size (+experiment/sizes=iadb_48m, plus `overrides`), compiled in place when
    the config says compile=true, its call and the config (for its precision)."""
    cfg = compose_config("iadb_bpm", ["+experiment/sizes=iadb_48m", *overrides])
    unet = instantiate(cfg.generator.denoiser)
    if cfg.compile:
        unet.compile(mode=cfg.get("compile_mode"))
    return unet, lambda x, alpha, phase: unet(x, alpha, {"beat_phase": phase}), cfg


def beat_phase(batch: int, frames: int, bpm: float = 120.0) -> torch.Tensor:
    """The beat-phase condition [batch, frames] of `bpm` at the latent rate (BeatPhaseEncoder, as at generation)."""
    return BeatPhaseEncoder(frames=frames).from_bpm(bpm).expand(batch, frames).contiguous()


def training_speed(denoiser: Denoiser, parameters: list[nn.Parameter], batch: int, frames: int, steps: int,
                   warmup: int, precision: Precision) -> float:
    """Clips per second of IADB training steps on random latents: D(x_α, α, phase) against x1 − x0, MSE, Adam."""
    optimizer = torch.optim.Adam(parameters, lr=1e-4)
    phase = beat_phase(batch, frames)
    for step in range(warmup + steps):
        if step == warmup:
            started = time.perf_counter()
        x1, x0 = torch.randn(batch, 128, frames), torch.randn(batch, 128, frames)
        alpha = torch.rand(batch)
        x_alpha = (1 - alpha.view(-1, 1, 1)) * x0 + alpha.view(-1, 1, 1) * x1
        optimizer.zero_grad(set_to_none=True)
        with precision():
            loss = nn.functional.mse_loss(denoiser(x_alpha, alpha, phase).float(), x1 - x0)
        loss.backward()
        optimizer.step()
    return steps * batch / (time.perf_counter() - started)


def sampling_speed(denoiser: Denoiser, batch: int, frames: int, steps: int, precision: Precision) -> float:
    """Seconds of latent audio per second of wall time for `steps` Euler steps (one call each), after one
    untimed step (which compiles a compiled network)."""
    phase = beat_phase(batch, frames)
    noise = torch.randn(batch, 128, frames, generator=torch.Generator().manual_seed(0))

    def direction(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        return denoiser(x, alpha, phase).float()

    with torch.no_grad(), precision():
        integrate(direction, noise, 1)
        started = time.perf_counter()
        integrate(direction, noise, steps)
        elapsed = time.perf_counter() - started
    return batch * frames / BeatPhaseEncoder().frame_rate / elapsed


def comparison_rows(source: Path, variants: list[str], batch: int, frames: int, train_steps: int, warmup: int,
                    sampling_steps: int, sampling_batch: int, overrides: list[str] | None = None) -> list[Row]:
    """The published UNet (fp32) and vocalgen's UNet1D in each variant: parameters, training clips/s, sampling
    speed, and vocalgen's ratio to the published figure (the issue's aims: ≥ 1.5× training, ≥ 2× sampling)."""
    published, published_call = published_unet(source)
    columns = {"published fp32": (published, published_call, nullcontext)}
    for variant in variants:
        unet, call, cfg = vocalgen_unet([*(overrides or []), *VARIANTS[variant]])
        columns[f"vocalgen {variant}"] = (unet, call, partial(autocast_for, cfg))
    sizes, train, sample = {}, {}, {}
    for name, (unet, call, precision) in columns.items():
        sizes[name] = sum(p.numel() for p in unet.parameters()) / 1e6
        train[name] = training_speed(call, list(unet.parameters()), batch, frames, train_steps, warmup, precision)
        sample[name] = sampling_speed(call, sampling_batch, frames, sampling_steps, precision)
        print(f"{name}: {sizes[name]:.1f} M, train {train[name]:.3g} clips/s, sampling {sample[name]:.3g} s/s",
              flush=True)
    system = f"α-blending UNet, {frames} frames"
    reference = "published fp32"
    return [
        Row(system, "parameters (M)", sizes),
        Row(system, f"train clips/s, batch {batch}", train),
        Row(system, "  ÷ published (aim ≥ 1.5)", {name: value / train[reference] for name, value in train.items()}),
        Row(system, f"sampling, s of audio / s, {sampling_steps} Euler steps, batch {sampling_batch}", sample),
        Row(system, "  ÷ published (aim ≥ 2)", {name: value / sample[reference] for name, value in sample.items()}),
    ]


def positive(text: str) -> int:
    """An argparse type: an integer ≥ 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number ≥ 1")
    return int(text)


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ladmg-src", type=Path, required=True, help="the src/ folder of a LADMG clone")
    parser.add_argument("--variants", type=parse_variants, default=["fp32", "compiled"], help="comma-separated")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=1024)
    parser.add_argument("--train-steps", type=positive, default=4, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=1, help="untimed training steps first")
    parser.add_argument("--sampling-steps", type=positive, default=100)
    parser.add_argument("--sampling-batch", type=int, default=1)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of vocalgen's UNet (iadb_bpm, sizes/iadb_48m)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    rows = comparison_rows(args.ladmg_src, args.variants, args.batch, args.frames, args.train_steps, args.warmup,
                           args.sampling_steps, args.sampling_batch, args.overrides)
    columns = ["published fp32", *(f"vocalgen {variant}" for variant in args.variants)]
    print(format_table(f"{cpu_summary()}; {torch.get_num_threads()} threads", rows, columns))
    return rows


if __name__ == "__main__":
    main()
