"""`make bench`: one table of every system's throughput, a column per variant (fp32, bf16 autocast,
torch.compile: bench/variants.py), headed by the machine it was measured on.

    python -m bench.table [--systems qvae,qvim,audioldm,iadb] [--variants fp32,bf16,compiled]
                          [--steps 20] [--warmup 3]

QVAE and QVIM (bench/run.py): Trainer throughput, its ratio to the plain step (the published code's work: an
fp32 loop with no speed options), the Trainer / plain-loop overhead measured in pairs until its spread is
within 2 %, data and retrieval cache figures. Refined AudioLDM and IADB (bench/latent.py): training with the
pre-encoded latent cache, the cache's speed-up, generation speed.
"""

import argparse
import tempfile
import time
from pathlib import Path

import torch

from bench.latent import SYSTEMS, latent_rows
from bench.report import Row, comma_list, format_table
from bench.run import parse_variants, training_rows
from bench.variants import default_variants
from vocalgen.hardware import bf16_instructions, cpu_summary

TRAINED_FROM_BATCHES = {"qvae": "qvae_cpu", "qvim": "qvim_cpu"}


def parse_systems(text: str) -> list[str]:
    """"qvae,iadb" → ["qvae", "iadb"]; SystemExit naming the choices for an unknown one."""
    return comma_list(text, [*TRAINED_FROM_BATCHES, *SYSTEMS], "--systems")


def machine_heading(variants: list[str], steps: int) -> str:
    """The machine, its bf16 support and the measurement's size, for the table's heading."""
    bf16 = ("bf16 in hardware: " + ", ".join(bf16_instructions())) if bf16_instructions() else \
        "no bf16 matrix instructions (bf16 is emulated: slower than fp32, trainer=cpu uses fp32)"
    return f"{cpu_summary()}; {bf16}; {torch.get_num_threads()} threads, {steps} timed steps; " \
           f"columns: {', '.join(variants)}"


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=parse_systems, default=[*TRAINED_FROM_BATCHES, *SYSTEMS])
    parser.add_argument("--variants", type=parse_variants, default=default_variants(), help="comma-separated")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    args = parser.parse_args(argv)
    started, rows = time.perf_counter(), []
    for system in args.systems:
        count = len(rows)
        with tempfile.TemporaryDirectory(prefix="vocalgen-bench-") as scratch_name:
            scratch = Path(scratch_name)
            if system in TRAINED_FROM_BATCHES:
                rows += training_rows(TRAINED_FROM_BATCHES[system], [], args.variants, scratch, args.steps,
                                      args.warmup)
            else:
                rows += latent_rows(system, [], args.variants, scratch, args.steps, args.warmup)
        print(format_table(f"{system} measured ({(time.perf_counter() - started) / 60:.1f} min so far)", rows[count:],
                           args.variants), flush=True)
    print(format_table(machine_heading(args.variants, args.steps), rows, args.variants))
    print(f"({(time.perf_counter() - started) / 60:.1f} min)")
    return rows


if __name__ == "__main__":
    main()
