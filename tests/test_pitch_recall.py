"""Pitch recall: the same pitch scores 1, another pitch or silence 0, noise near 0, an unpitched target nothing."""

import math

import numpy as np
import pytest
import torch

from vocalgen.metrics.pitch_recall import pitch_recall, pitch_tracks

RATE = 16000


def tone(hz: float, seconds: float = 1.0) -> torch.Tensor:
    """A harmonic tone (three partials) [1, 1, N] at `hz`."""
    t = torch.arange(int(seconds * RATE)) / RATE
    return sum(torch.sin(2 * math.pi * k * hz * t) / k for k in (1, 2, 3)).reshape(1, 1, -1) * 0.5


def test_recall_is_one_for_the_same_pitch_and_zero_for_another_noise_or_silence() -> None:
    clips = torch.cat([tone(220.0), tone(220.0 * 2 ** (2 / 12)), tone(220.0 * 1.02), torch.randn(1, 1, RATE) * 0.3,
                       torch.zeros(1, 1, RATE)])
    target, two_semitones_up, slightly_sharp, noise, silence = pitch_tracks(clips, RATE)
    assert abs(np.nanmedian(target) - 220) < 220 * 0.03
    assert pitch_recall(target, target) == 1.0
    assert pitch_recall(slightly_sharp, target) > 0.9          # 0.34 semitone off: within the tolerance
    assert pitch_recall(two_semitones_up, target) == 0.0
    assert pitch_recall(noise, target) < 0.1
    assert pitch_recall(silence, target) == 0.0
    assert math.isnan(pitch_recall(target, silence))           # no voiced frame in the target: not counted


def test_tracks_of_other_lengths_and_stereo_audio_are_refused() -> None:
    with pytest.raises(ValueError, match="same frames"):
        pitch_recall(np.ones(4), np.ones(5))
    with pytest.raises(ValueError, match=r"mono audio \[B, 1, N\]"):
        pitch_tracks(torch.zeros(1, 2, RATE), RATE)
