"""Train/val/test splits of imitation pairs: by sound, by imitation of seen sounds, or as the data gives them."""

from collections import Counter
from typing import Literal, get_args

import numpy as np

from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import ConfigError

SplitMode = Literal["extrapolation", "interpolation", "all", "given"]
SPLIT_NAMES = ("train", "val", "test")


def split_pairs(
    pairs: list[ImitationPair], mode: SplitMode, val_fraction: float, test_fraction: float, seed: int
) -> dict[str, list[ImitationPair]]:
    """Split into {"train", "val", "test"} deterministically by `seed`.

    "extrapolation": val/test sounds are never seen in training (unseen sounds).
    "interpolation": every sound keeps at least one imitation in training; val/test hold other
    imitations of those sounds (unseen imitations of seen sounds).
    "all": every split holds every pair (a whole folder as an evaluation set).
    "given": each pair goes to its `extra["split"]` (set by the layout, e.g. audiocaps_frames); the
    fractions and seed are unused.
    """
    if mode not in get_args(SplitMode):
        raise ValueError(f"data.split={mode!r}: choose one of {list(get_args(SplitMode))}.")
    if mode == "all":
        return {name: list(pairs) for name in SPLIT_NAMES}
    if mode == "given":
        return _given_splits(pairs)
    rng = np.random.default_rng(seed)
    if mode == "extrapolation":
        sounds = sorted({pair.sound for pair in pairs})
        assignment = _assign(sounds, val_fraction, test_fraction, rng, can_leave=lambda _: True)
        return {name: [p for p in pairs if assignment[p.sound] == name] for name in SPLIT_NAMES}
    left_in_train = Counter(pair.sound for pair in pairs)

    def can_leave(pair: ImitationPair) -> bool:
        if left_in_train[pair.sound] > 1:
            left_in_train[pair.sound] -= 1
            return True
        return False

    assignment = _assign(pairs, val_fraction, test_fraction, rng, can_leave)
    return {name: [p for p in pairs if assignment[p] == name] for name in SPLIT_NAMES}


def _given_splits(pairs: list[ImitationPair]) -> dict[str, list[ImitationPair]]:
    """Pairs grouped by their `extra["split"]`; ConfigError naming a pair without a split name."""
    for pair in pairs:
        if pair.extra.get("split") not in SPLIT_NAMES:
            raise ConfigError(f"{pair.reference}: data.split=given needs every pair to name its split (train, val "
                              f"or test), found {pair.extra.get('split')!r}; use a layout that gives splits "
                              "(audiocaps_frames) or another data.split.")
    return {name: [p for p in pairs if p.extra["split"] == name] for name in SPLIT_NAMES}


def _assign(items: list, val_fraction: float, test_fraction: float, rng: np.random.Generator,
            can_leave) -> dict:
    """Map each item to "train", "val" or "test": quotas filled in a seeded random order."""
    quotas = {"val": round(len(items) * val_fraction), "test": round(len(items) * test_fraction)}
    assignment = {}
    for index in rng.permutation(len(items)):
        item = items[index]
        open_split = next((name for name, quota in quotas.items() if quota > 0), None)
        if open_split is not None and can_leave(item):
            quotas[open_split] -= 1
            assignment[item] = open_split
        else:
            assignment[item] = "train"
    return assignment
