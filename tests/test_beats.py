"""Beat times, the beat-phase sawtooth and BPM validation (vocalgen.data.beats)."""

import math

import numpy as np
import pytest
import torch

from vocalgen.data.beats import beat_phase, even_beats, validate_bpm
from vocalgen.errors import ConfigError

FRAME_RATE = 75.0
BEATS = [0.4, 0.8, 1.4, 1.6]  # frames 30, 60, 105, 120: intervals of 30, 45 and 15 frames


def test_phase_is_zero_at_each_beat_and_rises_linearly_below_one() -> None:
    phase = beat_phase(BEATS, 150, FRAME_RATE)
    assert phase.shape == (150,) and phase.dtype == torch.float32
    assert phase[[30, 60, 105, 120]].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert phase[31:60].numpy() == pytest.approx(np.arange(1, 30) / 30, abs=1e-6)
    assert phase[61:105].numpy() == pytest.approx(np.arange(1, 45) / 45, abs=1e-6)
    assert phase[104].item() == pytest.approx(44 / 45, abs=1e-6) and phase[104] < 1
    assert phase.min() >= 0 and phase.max() < 1


def test_phase_extrapolates_with_the_first_and_last_intervals() -> None:
    phase = beat_phase(BEATS, 150, FRAME_RATE)
    # before the first beat: 30-frame beats, so frame 0 is a (virtual) beat and frame 15 half-way
    assert phase[0].item() == pytest.approx(0.0, abs=1e-6)
    assert phase[15].item() == pytest.approx(0.5, abs=1e-6)
    assert phase[29].item() == pytest.approx(29 / 30, abs=1e-6)
    # after the last beat: 15-frame beats continue (frames 135 and 150 would be beats)
    assert phase[127].item() == pytest.approx(7 / 15, abs=1e-6)
    assert phase[135].item() == pytest.approx(0.0, abs=1e-5)
    assert phase[149].item() == pytest.approx(14 / 15, abs=1e-5)


def test_phase_from_even_beats_has_the_tempo_period() -> None:
    phase = beat_phase(even_beats(90.0, 4.0), 300, FRAME_RATE)  # 50 frames a beat
    assert phase[::50].tolist() == [0.0] * 6
    assert phase[25::50].numpy() == pytest.approx(np.full(6, 0.5), abs=1e-6)


@pytest.mark.parametrize("beats", [[], [0.5]])
def test_fewer_than_two_beats_make_no_phase(beats: list[float]) -> None:
    with pytest.raises(ValueError, match=f"at least two beat times.*got {len(beats)}"):
        beat_phase(beats, 10, FRAME_RATE)


@pytest.mark.parametrize("beats", [[0.5, 0.5, 1.0], [1.0, 0.5], [0.0, math.nan]])
def test_beats_must_be_finite_and_increasing(beats: list[float]) -> None:
    with pytest.raises(ValueError, match="finite and strictly increasing"):
        beat_phase(beats, 10, FRAME_RATE)


def test_even_beats_spacing_and_offset() -> None:
    assert even_beats(120, 2.0).tolist() == [0.0, 0.5, 1.0, 1.5]  # a beat at `seconds` is not inside
    assert even_beats(120, 2.0, offset=0.25).tolist() == [0.25, 0.75, 1.25, 1.75]
    beats = even_beats(97.0, 10.0, offset=0.1)
    assert np.diff(beats) == pytest.approx(np.full(len(beats) - 1, 60 / 97))
    assert beats[0] == 0.1 and beats[-1] < 10.0 <= beats[-1] + 60 / 97


def test_validate_bpm_accepts_tempi_and_numbers_in_text() -> None:
    assert validate_bpm(120, "bpm=") == 120.0
    assert validate_bpm(" 92.5 ", "bpm.csv line 2") == 92.5
    assert validate_bpm(400, "bpm=") == 400.0


@pytest.mark.parametrize(("bpm", "problem"), [(0, "not positive"), (-90, "not positive"), (500, "absurd"),
                                              (math.inf, "not finite"), ("fast", "not a number"), ("", "missing"),
                                              (None, "missing")])
def test_validate_bpm_names_where_and_the_range(bpm: object, problem: str) -> None:
    with pytest.raises(ConfigError, match=rf"^bpm.csv line 7: .*{problem}.*\(0, 400\]"):
        validate_bpm(bpm, "bpm.csv line 7")
