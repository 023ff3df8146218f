"""Training on the target moved to the imitation's timing (generator.align_target)."""

import pytest
import torch

from tests.test_pitch_guide import guided_decoder
from vocalgen.errors import ConfigError
from vocalgen.generators.target_alignment import best_lags, delayed


def events(frames: int, *spans: tuple[int, int]) -> torch.Tensor:
    """[frames] bool, True inside each (start, stop) span."""
    active = torch.zeros(frames, dtype=torch.bool)
    for start, stop in spans:
        active[start:stop] = True
    return active


def test_delayed_moves_each_item_by_its_own_shift_and_fills_with_zeros() -> None:
    x = torch.arange(1.0, 7.0).expand(3, 1, 6)
    moved = delayed(x, torch.tensor([2, 0, -1]))
    assert moved[0, 0].tolist() == [0, 0, 1, 2, 3, 4]
    assert moved[1, 0].tolist() == [1, 2, 3, 4, 5, 6]
    assert moved[2, 0].tolist() == [2, 3, 4, 5, 6, 0]


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


def test_alignment_without_a_guide_is_refused() -> None:
    with pytest.raises(ConfigError, match="align_target aligns the target with the pitch guide"):
        guided_decoder(pitch_guide=None, align_target=4)
