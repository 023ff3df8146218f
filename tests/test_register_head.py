"""One register (octave) per clip, predicted by the harmonic decoder's register head (generator.register_head)."""

import pytest
import torch

from tests.test_pitch_guide import guided_decoder
from vocalgen.errors import ConfigError
from vocalgen.generators.harmonic_decoder import HarmonicNoiseDecoder
from vocalgen.generators.pitch_smoothing import clip_register, octave_towards, scattered_share
from vocalgen.losses.pitch import PitchCrossEntropy
from vocalgen.losses.spectral import stft_magnitude

REGISTER_LOSS = PitchCrossEntropy(prediction_key="register_logits", target_key="register_target")


def test_the_register_is_the_median_voiced_pitch_in_octaves() -> None:
    f0 = torch.tensor([[0.0, 100.0, 400.0, 0.0, 200.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(clip_register(f0), torch.tensor([200.0, 0.0]))


def test_frames_move_by_whole_octaves_to_the_reference_and_keep_their_chroma() -> None:
    f0 = torch.tensor([[110.0, 0.0, 3520.0, 300.0], [110.0, 220.0, 0.0, 440.0]])
    moved = octave_towards(f0, torch.tensor([[880.0], [0.0]]))       # the second item has no reference
    torch.testing.assert_close(moved[0], torch.tensor([880.0, 0.0, 880.0, 1200.0]))
    torch.testing.assert_close(moved[1], f0[1])


def test_the_scattered_share_counts_frames_far_from_the_clips_register() -> None:
    f0 = torch.tensor([[0.0, 200.0, 210.0, 190.0, 800.0, 0.0],       # one frame of four two octaves up
                       [300.0, 330.0, 0.0, 280.0, 350.0, 400.0],     # a glide within half an octave
                       [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(scattered_share(f0), torch.tensor([0.25, 0.0, 0.0]))


def test_the_head_learns_each_clips_register_from_the_features() -> None:
    torch.manual_seed(0)
    decoder = guided_decoder(pitch_guide=None, register_head=True)
    latent = torch.randn(2, 4)
    pitch = torch.tensor([[220.0], [1760.0]]).expand(2, 63).clone()
    pitch[:, :20] = 0.0                                              # unvoiced frames do not count
    batch = {"audio": torch.zeros(2, 1, 4000), "pitch": pitch}
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-2)
    for _ in range(40):
        optimizer.zero_grad()
        outputs = decoder.training_forward(batch, latent)
        REGISTER_LOSS(outputs).backward()
        optimizer.step()
    assert outputs["register_logits"].shape == (2, decoder.grid.classes)
    assert outputs["register_target"].tolist() == decoder.grid.classify(torch.tensor([220.0, 1760.0])).tolist()
    with torch.no_grad():
        predicted = decoder.register.pitch(decoder.register(decoder.frame_features(latent)))
    assert torch.log2(predicted / torch.tensor([220.0, 1760.0])).abs().max() < 0.1


def steady_decoder_with_register(register_hz: float) -> HarmonicNoiseDecoder:
    """A decoder whose every frame predicts 494 Hz (the grid's nearest to 500) as a pure tone, and whose register
    head predicts `register_hz` (0: "no voiced frame")."""
    decoder = guided_decoder(pitch_guide=None, register_head=True).eval()
    grid = decoder.grid
    with torch.no_grad():
        decoder.controls.weight.zero_()
        decoder.controls.bias.zero_()
        bias = decoder.controls.bias
        bias[int(grid.classify(torch.tensor(500.0)))] = 30.0           # every frame predicts 494 Hz (grid)
        bias[grid.classes + 1] = 10.0                                   # the fundamental's weight above the rest
        bias[grid.classes + 1 + decoder.split[2]:] = -30.0             # no noise
        decoder.register.project.weight.zero_()
        decoder.register.project.bias.zero_()
        decoder.register.project.bias[int(grid.classify(torch.tensor(register_hz)))] = 30.0
    return decoder


def loudest_bin(audio: torch.Tensor) -> int:
    """The STFT bin (256 points at 8 kHz: 31.25 Hz each) with the most energy over the clip."""
    return int(stft_magnitude(audio, 256).mean(-1).argmax())


def test_generation_plays_the_predicted_pitch_in_the_registers_octave() -> None:
    decoder, latent = steady_decoder_with_register(1000.0), torch.randn(1, 4)
    with torch.no_grad():
        assert loudest_bin(decoder.generate(latent)) in (15, 16, 17)                 # 494 Hz: bin 15.8
        assert loudest_bin(decoder.generate(latent, register=True)) in (31, 32, 33)  # an octave up: 988 Hz
        # frames that agree on one register keep it when the head decides only for split clips
        assert loudest_bin(decoder.generate(latent, register=True, register_split=0.4)) in (15, 16, 17)
        silent_head = steady_decoder_with_register(0.0)            # the head says "no voiced frame": frames held
        assert loudest_bin(silent_head.generate(latent, register=True)) in (15, 16, 17)


def test_the_register_setting_needs_a_head() -> None:
    with pytest.raises(ConfigError, match="sampling.register needs a decoder trained with a register head"):
        guided_decoder(pitch_guide=None).generate(torch.randn(1, 4), register=True)
