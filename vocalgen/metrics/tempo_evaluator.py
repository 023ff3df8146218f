"""Tempo control of a loop generator: loops generated for requested BPMs at several guidance scales,
their tempo estimated and scored (Acc1, Acc2)."""

from collections.abc import Callable, Sequence
from typing import Any

import torch
from tqdm import tqdm

from vocalgen.config import merge_sampling
from vocalgen.metrics.tempo import estimate_tempo, tempo_accuracy, tempo_error
from vocalgen.module import VocalGenModule


def evaluate_tempo(module: VocalGenModule, bpms: Sequence[float], guidances: Sequence[float], per_bpm: int,
                   sampling: dict[str, Any], device: str, seed: int = 0,
                   estimate: Callable[[torch.Tensor, int], float] = estimate_tempo) -> tuple[dict[str, float], str]:
    """For each guidance w: `per_bpm` loops for each of `bpms` → {"g<w>/acc1", "g<w>/acc2",
    "g<w>/tempo_error" (median |estimate − request| / request), and per requested tempo b
    "g<w>/bpm<b>/acc1", "g<w>/bpm<b>/acc2"}. The same seeds at every w, so the scales differ only by
    guidance. A model that ignores tempo (unconditional) still gets `bpm` in its batch; its scores are
    the chance level of the requests. `estimate` (audio [N], rate → BPM) is the tempo estimator. Also
    returns every loop's estimate as CSV text (guidance, seed, requested_bpm, estimated_bpm)."""
    requested = [float(bpm) for bpm in bpms for _ in range(per_bpm)]
    scores: dict[str, float] = {}
    table = ["guidance,seed,requested_bpm,estimated_bpm"]
    for guidance in guidances:
        estimates = []
        for index, bpm in enumerate(tqdm(requested, desc=f"loops at guidance {guidance:g}", unit="loop")):
            batch = {"bpm": torch.tensor([bpm], device=device)}
            audio = module.generate(batch, **merge_sampling(sampling, {"guidance": guidance, "seed": seed + index}))
            estimates.append(estimate(audio[0, 0].cpu(), module.generator.sample_rate))
            table.append(f"{guidance:g},{seed + index},{bpm:g},{estimates[-1]:.2f}")
        accuracy = tempo_accuracy(estimates, requested)
        scores.update({f"g{guidance:g}/acc1": accuracy["acc1"], f"g{guidance:g}/acc2": accuracy["acc2"],
                       f"g{guidance:g}/tempo_error": tempo_error(estimates, requested)})
        for k, bpm in enumerate(requested[::per_bpm]):  # each tempo's loops are consecutive
            part = slice(k * per_bpm, (k + 1) * per_bpm)
            per_tempo = tempo_accuracy(estimates[part], requested[part])
            scores.update({f"g{guidance:g}/bpm{bpm:g}/{name}": value for name, value in per_tempo.items()})
    return scores, "\n".join(table) + "\n"
