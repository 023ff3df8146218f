"""Training on the target moved to the imitation's timing (generator.align_target)."""

import pytest
import torch

from tests.test_pitch_guide import guided_decoder
from vocalgen.errors import ConfigError
from vocalgen.generators.target_alignment import (
    best_lags,
    clip_sources,
    moved,
    stretch_lags,
    stretch_sources,
    stretches,
)


def events(frames: int, *spans: tuple[int, int]) -> torch.Tensor:
    """[frames] bool, True inside each (start, stop) span."""
    active = torch.zeros(frames, dtype=torch.bool)
    for start, stop in spans:
        active[start:stop] = True
    return active


def delayed(x: torch.Tensor, lags: torch.Tensor) -> torch.Tensor:
    """x [B, N] frames, each item moved later by its lag (clip_sources), zero-filled."""
    return moved(x, clip_sources(lags, x.shape[-1]))


def test_a_clip_lag_moves_each_item_by_its_own_shift_and_fills_with_zeros() -> None:
    x = torch.arange(1.0, 7.0).expand(3, 1, 6)
    shifted = moved(x, clip_sources(torch.tensor([2, 0, -1]), 6))
    assert shifted[0, 0].tolist() == [0, 0, 1, 2, 3, 4]
    assert shifted[1, 0].tolist() == [1, 2, 3, 4, 5, 6]
    assert shifted[2, 0].tolist() == [2, 3, 4, 5, 6, 0]


def test_samples_move_with_their_frames() -> None:
    samples = torch.arange(40.0).view(1, 1, 40)            # 10 frames of hop 4, frame t centred at sample 4 t
    sources = torch.tensor([[-1, 0, 1, 2, 3, 4, 5, 8, 9, -1]])
    out = moved(samples, sources, hop=4)[0, 0]
    assert out[:6].tolist() == [0, 0, 0, 0, 0, 1]       # frame 0 (samples 0–1) ← nothing; frame 1 (2–5) ← frame 0
    assert out[26:30].tolist() == [30, 31, 32, 33] and out[34:].eq(0).all()   # frame 7 ← frame 8; frame 9 ← none


def test_stretches_are_runs_joined_across_short_gaps() -> None:
    assert stretches(events(30, (2, 5), (7, 9), (15, 20), (29, 30)), bridge=2) == [(2, 9), (15, 20), (29, 30)]
    assert stretches(events(10), bridge=2) == []


def test_each_stretch_takes_its_own_lag_in_order() -> None:
    query = events(80, (8, 13), (27, 32), (50, 55), (60, 66))
    lags = stretch_lags(query, [(5, 10), (20, 25), (40, 45)], max_lag=12, start_lag=3)
    assert lags == [3, 7, 10]        # the third stretch's fullest overlap nearest the second's lag: 50–55, not 60–66
    crossing = stretch_lags(events(40, (20, 26)), [(5, 10), (12, 16)], max_lag=15, start_lag=0)
    assert crossing[0] == 15 and crossing[1] >= crossing[0] - 2   # the second may not land before the first


def test_an_imitation_that_runs_slower_gets_every_event_under_its_own() -> None:
    target = events(120, (10, 16), (40, 46), (70, 76), (100, 106))
    query = events(120, (12, 18), (45, 51), (78, 84), (111, 117))     # lags 2, 5, 8, 11: 10 % slower
    sources = stretch_sources(query.view(1, -1), target.view(1, -1), max_lag=12)
    aligned = moved(target.view(1, -1).float(), sources)[0] > 0
    assert torch.equal(aligned, query)
    one_lag = delayed(target.view(1, -1).float(), best_lags(query.view(1, -1), target.view(1, -1), 12))[0] > 0
    assert (one_lag & query).sum() < query.sum()                       # one lag for the clip cannot
    assert sources[0, 20:40].ge(0).all() and not target[sources[0, 20:40]].any()   # gaps filled from the gaps


def test_stretch_alignment_without_events_keeps_the_clip_lag() -> None:
    query = torch.stack([events(50, (5, 30)), events(50)])
    target = torch.stack([events(50), events(50, (10, 20))])
    assert torch.equal(stretch_sources(query, target, max_lag=8), clip_sources(torch.zeros(2, dtype=torch.long), 50))


def test_the_lag_that_lays_the_target_on_the_query_is_found_either_way() -> None:
    target = events(100, (10, 18), (40, 45), (70, 80))
    late, early = delayed(target.view(1, -1), torch.tensor([7])), delayed(target.view(1, -1), torch.tensor([-4]))
    query = torch.cat([late, early]).bool()
    query[0, 90:95] = True                                   # a sound of the imitation's own changes nothing
    lags = best_lags(query, target.expand(2, -1), max_lag=10)
    assert lags.tolist() == [7, -4]


def test_an_item_with_nothing_to_align_keeps_its_timing() -> None:
    query = torch.stack([events(50, (5, 30)), events(50)])
    target = torch.stack([events(50), events(50, (10, 20))])
    assert best_lags(query, target, max_lag=8).tolist() == [0, 0]   # no target event, no query event: lag 0


def test_training_moves_the_target_audio_and_pitch_to_the_guides_timing() -> None:
    decoder = guided_decoder(align_target=6)
    pitch = torch.zeros(2, 63)
    pitch[:, 10:20] = 440.0
    audio = torch.randn(2, 1, 4000)
    guide = torch.zeros(2, 80)
    guide[0, 15:25], guide[1, 8:18] = 220.0, 220.0           # the imitations: 5 frames late, 2 early
    outputs = decoder.training_forward({"audio": audio, "pitch": pitch}, {"latent": torch.randn(2, 4), "pitch": guide})
    assert outputs["pitch_target"][0, 15:25].gt(0).all() and outputs["pitch_target"][0, :15].eq(0).all()
    assert outputs["pitch_target"][1, 8:18].gt(0).all() and outputs["pitch_target"][1, 18:].eq(0).all()
    torch.testing.assert_close(outputs["target"][0, :, 5 * 64:], audio[0, :, : 4000 - 5 * 64])
    torch.testing.assert_close(outputs["target"][1, :, : 4000 - 2 * 64], audio[1, :, 2 * 64:])
    assert outputs["target"][0, :, : 5 * 64].eq(0).all()


def test_training_moves_each_stretch_of_the_target_on_its_own() -> None:
    decoder = guided_decoder(align_target=6, align_stretches=True)
    pitch = torch.zeros(1, 63)
    pitch[0, 10:15], pitch[0, 40:45] = 440.0, 660.0
    guide = torch.zeros(1, 80)
    guide[0, 12:17], guide[0, 45:50] = 220.0, 330.0           # the imitation: 2 frames late, then 5
    outputs = decoder.training_forward({"audio": torch.randn(1, 1, 4000), "pitch": pitch},
                                       {"latent": torch.randn(1, 4), "pitch": guide})
    assert torch.equal(outputs["pitch_target"][0] > 0, guide[0, :63] > 0)


def test_alignment_without_a_guide_is_refused() -> None:
    with pytest.raises(ConfigError, match="align_target aligns the target with the pitch guide"):
        guided_decoder(pitch_guide=None, align_target=4)
    with pytest.raises(ConfigError, match="align_stretches moves the target's stretches"):
        guided_decoder(align_stretches=True)
