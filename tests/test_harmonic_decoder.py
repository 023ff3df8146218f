"""The harmonic-plus-noise decoder of QVAE's CPU size, its pitch classes, its pitch loss and the pYIN field that
gives it the target's pitch, the salience tracker that gives it the imitation's, and the pitch clean-ups."""

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.nn import functional as F

from vocalgen.data.audio_io import write_audio
from vocalgen.data.pitch_field import PitchContourField
from vocalgen.errors import ConfigError
from vocalgen.generators.harmonic_decoder import HarmonicNoiseDecoder, held_pitch
from vocalgen.generators.pitch_grid import PitchGrid
from vocalgen.generators.pitch_smoothing import held_octave, median_pitch
from vocalgen.losses.pitch import PitchCrossEntropy, blurred_pitch_targets
from vocalgen.losses.spectral import stft_magnitude

RATE = 8000


def tiny_decoder(**options: Any) -> HarmonicNoiseDecoder:
    """4000 samples at 8 kHz, frames every 64 samples (63 frames); `options`: more HarmonicNoiseDecoder arguments
    (pitch_guide, chroma_prior, align_target, register_head, …)."""
    return HarmonicNoiseDecoder(latent_dim=4, samples=4000, sample_rate=RATE, hop=64, seed_channels=8, seed_stride=4,
                                dim=16, intermediate_dim=32, num_layers=1, harmonics=8, noise_bands=9, **options)


def test_pitch_classes_round_trip_within_a_quarter_tone() -> None:
    grid = PitchGrid(60.0, 4000.0, bins_per_octave=24)
    f0 = torch.tensor([0.0, 60.0, 110.0, 440.0, 3999.0])
    classes = grid.classify(f0)
    assert classes[0] == 0 and classes[1] == 1 and int(classes.max()) < grid.classes
    logits = torch.full((5, grid.classes), -30.0).scatter(1, classes.view(-1, 1), 30.0)
    decoded = grid.decode(logits)
    assert decoded[0] == 0
    cents = 1200 * torch.log2(decoded[1:] / f0[1:]).abs()
    assert float(cents.max()) <= 25.0 + 1e-3
    spread = torch.zeros(1, grid.classes)               # every class alike: voiced, but no pitch stands out
    assert float(grid.decode(spread)) > 0 and float(grid.decode(spread, confidence=0.1)) == 0
    bottom = torch.full((1, grid.classes), -30.0)
    bottom[0, 1:3] = 0.0                       # the two lowest pitches equally likely: halfway, not pulled down
    assert float(grid.decode(bottom)) == pytest.approx(60.0 * 2 ** (0.5 / 24), rel=1e-4)
    doubtful = torch.full((1, grid.classes), -30.0)
    doubtful[0, 0], doubtful[0, 50] = 0.5, 0.0     # "unvoiced" 62 %, one pitch 38 %: voiced only at voicing < 0.38
    assert float(grid.decode(doubtful)) == 0 and float(grid.decode(doubtful, voicing=0.4)) == 0
    assert float(grid.decode(doubtful, voicing=0.3)) == pytest.approx(60.0 * 2 ** (49 / 24), rel=1e-4)


def test_unvoiced_frames_hold_the_pitch_of_their_neighbours() -> None:
    f0 = torch.tensor([[0.0, 0.0, 200.0, 0.0, 300.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    held = held_pitch(f0)
    assert held[0].tolist() == [200.0, 200.0, 200.0, 200.0, 300.0, 300.0] and held[1].eq(0).all()


def test_the_pitch_median_removes_a_short_octave_slip_and_keeps_a_glide() -> None:
    glide = 200.0 * 2 ** (torch.arange(24.0) / 12)                  # a semitone a frame
    slipped = glide.clone()
    slipped[6:8] /= 2                                                # two frames an octave low, inside the stretch
    slipped[[12, 13]] = 0.0                                          # a gap: two stretches, 0–11 and 14–23
    f0 = torch.stack([slipped, torch.zeros(24)])
    smoothed = median_pitch(f0, 5)
    semitones = 12 * torch.log2(smoothed[0] / glide).abs()
    away = [0, 1, 2, 3, 10, 11, 14, 15, 22, 23]                     # windows clear of the slip, up to gap and end
    assert float(semitones[away].max()) < 1e-3
    assert float(semitones[4:10].max()) <= 2 + 1e-3                 # the slip: back within two frames' motion
    assert smoothed[0, 12:14].eq(0).all() and smoothed[1].eq(0).all()
    steady = torch.full((1, 15), 220.0)
    steady[0, 5:8] = 110.0                                           # three frames low in a steady tone
    assert torch.allclose(median_pitch(steady, 7), torch.full((1, 15), 220.0))
    assert torch.equal(median_pitch(f0, 1), f0)
    with pytest.raises(ConfigError, match="sampling.pitch_median must be an odd number"):
        median_pitch(f0, 4)


def test_the_octave_hold_lifts_a_long_stretch_in_the_wrong_octave_across_a_gap_and_keeps_a_glide() -> None:
    glide = 200.0 * 2 ** (torch.arange(40.0) / 48)                  # a quarter semitone a frame: 0.8 octave in all
    slipped = glide.clone()
    slipped[10:18] /= 4                                              # 8 frames two octaves low: beyond any median
    slipped[[20, 21]] = 0.0                                          # a gap
    slipped[25:30] *= 2                                              # 5 frames an octave high, after the gap
    f0 = torch.stack([slipped, torch.zeros(40)])
    held = held_octave(f0, 81)                                       # every frame sees the whole clip
    voiced = slipped > 0
    torch.testing.assert_close(held[0, voiced], glide[voiced])       # back in the glide's octave, motion kept
    torch.testing.assert_close(held_octave(f0, 41)[0, voiced], glide[voiced])   # ± 20 frames: windows built
    assert held[0, 20:22].eq(0).all() and held[1].eq(0).all()
    assert (median_pitch(slipped.view(1, -1), 5)[0, 10:18] < glide[10:18] / 3).all()   # too long for the median
    assert torch.equal(held_octave(f0, 1), f0)
    with pytest.raises(ConfigError, match="sampling.octave_hold must be an odd number"):
        held_octave(f0, 80)


def test_no_harmonic_folds_back_from_above_nyquist() -> None:
    decoder = tiny_decoder()
    loudness, weights = torch.ones(1, 1, 63), torch.ones(1, 8, 63) / 8
    # f0 alternating 1300 / 1500 Hz: harmonic 3 (3900 / 4500 Hz) crosses Nyquist (4 kHz) within every hop; kept at
    # the 1300-Hz frames, it would fold back to 3.5–4 kHz (2.8 % of the energy in 3.28–3.88 kHz when masked frame
    # by frame); no harmonic of either pitch lies there
    f0 = torch.tensor([1300.0, 1500.0]).repeat(32)[:63].view(1, 63)
    with torch.no_grad():
        power = stft_magnitude(decoder.harmonic(f0, loudness, weights).view(1, 1, -1), 256).pow(2).mean(-1)[0]
    assert float(power[105:125].sum() / power.sum()) < 1e-3


def test_training_synthesises_the_target_pitch_and_returns_its_classes() -> None:
    torch.manual_seed(0)
    decoder = tiny_decoder()
    f0 = torch.full((2, 63), 500.0)          # bin 16 of a 256-point STFT at 8 kHz
    outputs = decoder.training_forward({"audio": torch.zeros(2, 1, 4000), "pitch": f0}, torch.randn(2, 4))
    spectrum = stft_magnitude(outputs["prediction"].detach(), 256).mean(-1)
    harmonic_bins = torch.arange(16, 129, 16)
    peaks = spectrum.argmax(-1)
    assert all(int(p) in harmonic_bins.tolist() for p in peaks)
    assert outputs["pitch_logits"].shape == (2, 63, decoder.grid.classes)
    assert outputs["pitch_target"].eq(decoder.grid.classify(torch.tensor(500.0))).all()
    loss = PitchCrossEntropy()(outputs)
    assert math.isclose(loss.item(), math.log(decoder.grid.classes), rel_tol=0.1)  # an untrained head: near uniform


def test_generation_plays_the_pitch_it_predicts_and_is_silent_of_harmonics_when_unvoiced() -> None:
    decoder = tiny_decoder().eval()
    with torch.no_grad():
        decoder.controls.weight.zero_()
        decoder.controls.bias.zero_()
        bias = decoder.controls.bias
        bias[int(decoder.grid.classify(torch.tensor(500.0)))] = 30.0   # every frame predicts 494 Hz (grid)
        bias[decoder.grid.classes + 1] = 10.0                           # the fundamental's weight above the rest
        bias[decoder.grid.classes + 1 + decoder.split[2]:] = -30.0    # no noise
        voiced = decoder.generate(torch.randn(1, 4))
        bias[0] = 60.0                                                   # every frame "unvoiced"
        unvoiced = decoder.generate(torch.randn(1, 4))
    assert int(stft_magnitude(voiced, 256).mean(-1).argmax()) in (15, 16, 17)
    assert float(unvoiced.abs().max()) < 1e-3 < float(voiced.abs().max())


def test_a_pitch_contour_of_another_length_is_named() -> None:
    with pytest.raises(ConfigError, match="'pitch' has 62 pitch frames; the decoder makes 63"):
        tiny_decoder().training_forward({"audio": torch.zeros(1, 1, 4000), "pitch": torch.zeros(1, 62)},
                                        torch.zeros(1, 4))


def test_the_pitch_field_tracks_a_tone_and_marks_silence_unvoiced(tmp_path: Path) -> None:
    time = torch.arange(RATE) / RATE
    tone = torch.where(time < 0.5, 0.5 * torch.sin(2 * torch.pi * 220.0 * time), torch.zeros_like(time))
    path = write_audio(tmp_path / "tone.wav", tone.view(1, -1), RATE)
    f0 = PitchContourField("reference", RATE, samples=RATE, hop=64)(path)
    assert f0.shape == (1 + RATE // 64,)
    middle, tail = f0[10:50], f0[80:]
    assert (middle - 220.0).abs().max() < 220.0 * (2 ** (1 / 24) - 1) and tail.eq(0).all()
    fine = PitchContourField("reference", RATE, samples=RATE, hop=64, resolution=0.1)
    assert (fine(path)[10:50] - 220.0).abs().max() < 220.0 * (2 ** (1 / 120) - 1)   # within a tenth-semitone bin
    assert fine.fingerprint != PitchContourField("reference", RATE, samples=RATE, hop=64).fingerprint


def test_the_salience_tracker_follows_a_jittery_harmonic_glide_and_gates_silence(tmp_path: Path) -> None:
    generator = torch.Generator().manual_seed(0)
    contour = torch.linspace(100.0, 200.0, 101) * (1 + 0.02 * torch.randn(101, generator=generator))  # every 10 ms
    f0 = F.interpolate(contour.view(1, 1, -1), size=RATE, mode="linear").view(-1)
    phase = 2 * torch.pi * torch.cumsum(f0, 0) / RATE
    voice = sum(torch.sin(h * phase) / h for h in range(1, 21))      # 20 harmonics: a buzz, like a glottal source
    voice = 0.5 * voice / voice.abs().max() + 0.05 * torch.randn(RATE, generator=generator)
    path = write_audio(tmp_path / "glide.wav", torch.cat([voice, torch.zeros(RATE // 2)]).view(1, -1), RATE)
    field = PitchContourField("imitation", RATE, samples=3 * RATE // 2, hop=64, low_hz=60.0, high_hz=1000.0,
                              resolution=0.5, tracker="salience")
    track = field(path)
    glide = 100.0 + 100.0 * torch.arange(10, 110) * 64 / RATE      # the unjittered glide at frames 10…109
    semitones = 12 * torch.log2(track[10:110] / glide)
    assert semitones.abs().max() <= 1.0                            # the pitch itself, not its sub-octave
    assert track[160:].eq(0).all()                                 # silence: unvoiced
    assert field.fingerprint != PitchContourField("imitation", RATE, samples=3 * RATE // 2, hop=64, low_hz=60.0,
                                                  high_hz=1000.0, resolution=0.5).fingerprint
    with pytest.raises(ConfigError, match="tracker='crepe' is unknown"):
        PitchContourField("imitation", RATE, samples=RATE, hop=64, tracker="crepe")


def test_blurred_pitch_targets_spread_over_neighbours_and_keep_unvoiced_one_hot() -> None:
    targets = blurred_pitch_targets(torch.tensor([0, 5, 1]), count=10, blur=1.0)
    torch.testing.assert_close(targets.sum(-1), torch.ones(3))
    assert targets[0, 0] == 1 and targets[1, 0] == 0 and targets[2, 0] == 0
    assert int(targets[1].argmax()) == 5 and targets[1, 4] == targets[1, 6] and 0.1 < float(targets[1, 4]) < 0.3
    one_hot = F.one_hot(torch.tensor([3]), 10).float()
    torch.testing.assert_close(blurred_pitch_targets(torch.tensor([3]), 10, 0.0), one_hot)


def test_a_near_pitch_miss_costs_less_than_a_far_one() -> None:
    loss, target = PitchCrossEntropy(blur=1.0), torch.tensor([[20]])
    def cost(guess: int) -> float:
        logits = torch.full((1, 1, 40), -10.0)
        logits[0, 0, guess] = 10.0
        return loss({"pitch_logits": logits, "pitch_target": target}).item()
    assert cost(20) < cost(21) < cost(25) and cost(25) == pytest.approx(cost(35), rel=0.05)


def test_a_seed_repeats_the_noise_and_another_changes_it() -> None:
    decoder = tiny_decoder().eval()
    latent, gains = torch.randn(2, 4), torch.ones(2, 9, 63)   # unit gains: the noise at full level
    with torch.no_grad():
        first, again, other = (decoder.generate(latent, seed=s) for s in (0, 0, 1))
        loud = [decoder.noise(gains, torch.Generator().manual_seed(s)) for s in (0, 0, 1)]
    assert torch.equal(first, again) and not torch.equal(first, other)   # exact: unseeded draws would differ
    assert torch.equal(loud[0], loud[1]) and float((loud[0] - loud[2]).abs().max()) > 0.1
