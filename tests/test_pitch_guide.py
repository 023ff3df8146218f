"""qvae_cpu's pitch guide: the imitation's own f0 reaches the harmonic decoder beside the latent."""

import math
from typing import Any

import pytest
import torch
from torch.nn import functional as F

from tests.test_harmonic_decoder import tiny_decoder
from vocalgen.adapters.framewise_vae_head import FramewiseVAEHead
from vocalgen.adapters.keep_and_adapt import KeepAndAdapt
from vocalgen.errors import ConfigError
from vocalgen.generators.harmonic_decoder import HarmonicNoiseDecoder
from vocalgen.generators.pitch_guide import fourier_pitch_features


def guided_decoder(pitch_guide: str | None = "pitch", **options: Any) -> HarmonicNoiseDecoder:
    """tiny_decoder guided by the condition's `pitch_guide`; `options`: more HarmonicNoiseDecoder arguments."""
    return tiny_decoder(pitch_guide=pitch_guide, **options)


def test_the_guide_steers_the_frames_it_covers_from_the_start() -> None:
    decoder = guided_decoder()
    latent = torch.randn(2, 4)
    low, high = torch.full((2, 80), 110.0), torch.full((2, 80), 110.0)
    high[:, 40:] = 440.0                                            # the guide differs from frame 40 on
    a = decoder.input_frames({"latent": latent, "pitch": low})
    b = decoder.input_frames({"latent": latent, "pitch": high})
    assert a.shape == (2, 8, 63)
    assert torch.equal(a[..., :40], b[..., :40]) and not torch.allclose(a[..., 40:], b[..., 40:])


def test_fourier_pitch_features_agree_on_chroma_an_octave_apart() -> None:
    features = fourier_pitch_features(classes=148, bins_per_octave=24, channels=32)
    assert features[0].eq(0).all() and features[:, 24:].eq(0).all()      # 12 periods: 24 channels
    a, octave_up, semitone_up = features[30], features[54], features[32]
    chroma = [0, 2, 4, 6, 8, 9, 10, 11]                                  # the sines of the 8 octave periods
    torch.testing.assert_close(a[chroma], octave_up[chroma], atol=1e-4, rtol=0)
    assert not torch.allclose(a[chroma], semitone_up[chroma], atol=0.1)
    assert not torch.allclose(a, octave_up, atol=0.1)                   # the register channels tell them apart
    assert fourier_pitch_features(148, 24, channels=6)[:, :6].abs().sum() > 0   # few channels: the first periods


def test_the_guide_tells_apart_items_that_the_latent_does_not() -> None:
    torch.manual_seed(0)
    decoder = guided_decoder()
    latent = torch.randn(1, 4).expand(4, 4)                         # one latent for all four items
    guide = torch.tensor([110.0, 150.0, 220.0, 330.0]).view(4, 1).expand(4, 90)
    batch = {"audio": torch.zeros(4, 1, 4000), "pitch": 2 * guide[:, :63]}   # each target: its guide an octave up
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-2)

    def pitch_loss() -> torch.Tensor:
        outputs = decoder.training_forward(batch, {"latent": latent, "pitch": guide})
        return F.cross_entropy(outputs["pitch_logits"].transpose(1, 2), outputs["pitch_target"])

    for _ in range(60):
        optimizer.zero_grad()
        pitch_loss().backward()
        optimizer.step()
    # from the latent alone the four targets are indistinguishable: cross-entropy ≥ ln 4 ≈ 1.39
    assert float(pitch_loss()) < 0.5 * math.log(4)


def test_a_missing_or_short_guide_is_named() -> None:
    decoder = guided_decoder()
    with pytest.raises(ConfigError, match="pitch_guide='pitch' needs a condition dict.*one tensor"):
        decoder.generate(torch.randn(1, 4))
    with pytest.raises(ConfigError, match="'pitch' has 50 frames; the decoder needs at least 63"):
        decoder.generate({"latent": torch.randn(1, 4), "pitch": torch.zeros(1, 50)})
    unguided = guided_decoder(pitch_guide=None)
    with pytest.raises(ConfigError, match="set generator.pitch_guide"):
        unguided.generate({"latent": torch.randn(1, 4), "pitch": torch.zeros(1, 63)})


def test_keep_and_adapt_unwraps_the_one_adapted_condition() -> None:
    adapter = KeepAndAdapt(FramewiseVAEHead(in_channels=6, frames=5, latent_dim=20), keep=["pitch"], name="latent",
                           unwrap=True)
    f0 = torch.rand(2, 90)
    out = adapter({"latent": torch.randn(2, 3, 2, 5), "pitch": f0})
    assert out["condition"]["latent"].shape == out["mu"].shape == (2, 20) and out["condition"]["pitch"] is f0
    with pytest.raises(ConfigError, match="unwrap=true passes one condition.*'extra', 'latent'"):
        adapter({"latent": torch.randn(2, 3, 2, 5), "extra": f0, "pitch": f0})


def test_the_chroma_prior_favours_the_guides_pitch_in_every_octave() -> None:
    decoder = guided_decoder(chroma_prior=4.0)
    f0 = torch.full((1, 63), 220.0)
    f0[:, 50:] = 0.0                                                     # the guide falls silent at frame 50
    prior = decoder.guide.chroma_logits(f0)
    grid = decoder.grid
    at = [int(grid.classify(torch.tensor(220.0 * 2.0**k))) for k in (-1, 0, 1, 2)]
    assert prior.shape == (1, 63, grid.classes)
    assert all(prior[0, 0, c] == pytest.approx(4.0) for c in at)
    assert float(prior[0, 0, at[1] + 2]) < 0.3 and float(prior[0, 0, at[1] + 12]) < 1e-6   # a semitone, a tritone
    assert prior[..., 0].eq(0).all() and prior[0, 50:].eq(0).all()
    condition = {"latent": torch.randn(1, 4), "pitch": f0}
    with_prior = decoder.frame_controls(condition)[0]
    decoder.guide.chroma_prior = 0.0
    torch.testing.assert_close(with_prior - decoder.frame_controls(condition)[0], prior)


def test_a_voicing_neutral_prior_raises_unvoiced_like_the_chroma_where_the_guide_is_voiced() -> None:
    f0 = torch.full((1, 63), 220.0)
    f0[:, 50:] = 0.0
    neutral = guided_decoder(chroma_prior=4.0, neutral_voicing=True).guide.chroma_logits(f0)
    favouring = guided_decoder(chroma_prior=4.0).guide.chroma_logits(f0)
    assert neutral[0, :50, 0].eq(4.0).all() and neutral[0, 50:].eq(0).all()
    torch.testing.assert_close(neutral[..., 1:], favouring[..., 1:])
    unvoiced = [float(prior.softmax(-1)[0, 0, 0]) for prior in (favouring, neutral)]   # a head with no opinion
    assert unvoiced[1] > 5 * unvoiced[0]                           # the favouring prior pushes towards voicing
