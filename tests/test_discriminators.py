"""The GAN discriminators (shapes, gradients, errors) and the adversarial losses against hand-computed values."""

import math

import pytest
import torch
from torch.nn.utils import parametrize

from vocalgen.discriminators.combined import CombinedDiscriminator
from vocalgen.discriminators.multi_period import MultiPeriodDiscriminator
from vocalgen.discriminators.multi_scale import MultiScaleDiscriminator
from vocalgen.discriminators.multi_scale_stft import MultiScaleSTFTDiscriminator
from vocalgen.interfaces import Discriminator
from vocalgen.losses.adversarial import (
    AdversarialObjective,
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
)

N = 8000


def tiny_mpd(periods: tuple[int, ...] = (2, 3, 5, 7, 11)) -> MultiPeriodDiscriminator:
    return MultiPeriodDiscriminator(periods=periods, channels=(4, 8, 16, 16))


def tiny_msd() -> MultiScaleDiscriminator:
    return MultiScaleDiscriminator(channels=(4, 4, 8, 8, 8, 8, 8), groups=(1, 2, 4, 4, 4, 4, 1))


def tiny_stft() -> MultiScaleSTFTDiscriminator:
    return MultiScaleSTFTDiscriminator(n_ffts=(256, 512, 128), filters=4)


def conv_length(n: int, kernel: int, stride: int, pad: int) -> int:
    return (n + 2 * pad - kernel) // stride + 1


def audio(batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, 1, N, generator=torch.Generator().manual_seed(0))


def test_multi_period_shapes() -> None:
    logits, features = tiny_mpd()(audio())
    assert len(logits) == len(features) == 5
    for period, out, maps in zip((2, 3, 5, 7, 11), logits, features):
        rows = math.ceil(N / period)
        for _ in range(3):  # every conv but the last strides 3
            rows = conv_length(rows, 5, 3, 2)
        assert out.shape == (2, rows * period)
        assert [m.shape[1] for m in maps] == [4, 8, 16, 16, 1]
        assert all(m.shape[0] == 2 and m.shape[-1] == period for m in maps)
        assert maps[-1].flatten(1).equal(out)


def test_multi_scale_shapes() -> None:
    logits, features = tiny_msd()(audio())
    assert len(logits) == len(features) == 3
    length = N
    for scale, (out, maps) in enumerate(zip(logits, features)):
        if scale:
            length = conv_length(length, 4, 2, 2)
        expected = length
        for kernel, stride in zip((15, 41, 41, 41, 41, 41, 5), (1, 2, 2, 4, 4, 1, 1)):
            expected = conv_length(expected, kernel, stride, (kernel - 1) // 2)
        assert out.shape == (2, expected)
        assert [m.shape[1] for m in maps] == [4, 4, 8, 8, 8, 8, 8, 1]


def test_multi_scale_stft_shapes() -> None:
    logits, features = tiny_stft()(audio())
    assert len(logits) == len(features) == 3
    for n_fft, out, maps in zip((256, 512, 128), logits, features):
        frames, bins = N // (n_fft // 4) + 1, n_fft // 2 + 1
        assert maps[0].shape == (2, 4, frames, bins)
        for _ in range(3):  # three dilated convs stride 2 along frequency
            bins = conv_length(bins, 9, 2, 4)
        assert [m.shape for m in maps[1:]] == [maps[1].shape, maps[2].shape, (2, 4, frames, bins),
                                               (2, 4, frames, bins), (2, 1, frames, bins)]
        assert out.shape == (2, frames * bins)


@pytest.mark.parametrize("make", [tiny_mpd, tiny_msd, tiny_stft])
def test_gradients_reach_the_input_and_weight_norm_is_used(make) -> None:
    discriminator = make()
    x = audio().requires_grad_()
    logits, features = discriminator(x)
    (sum(out.mean() for out in logits) + sum(m.mean() for maps in features for m in maps)).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    convs = [m for m in discriminator.modules() if isinstance(m, torch.nn.Conv1d | torch.nn.Conv2d)]
    assert convs and all(parametrize.is_parametrized(m, "weight") for m in convs)
    assert all(p.grad is not None for p in discriminator.parameters())


def test_combined_concatenates_lists_and_dicts_in_order() -> None:
    torch.manual_seed(0)
    mpd, msd = tiny_mpd((2, 3)), tiny_msd()
    x = audio()
    combined = CombinedDiscriminator({"mpd": mpd, "msd": msd})
    assert isinstance(combined, Discriminator) and combined.names == ["mpd", "msd"]
    logits, features = combined(x)
    assert len(logits) == len(features) == 5
    mpd_logits, _ = mpd(x)
    msd_logits, msd_features = msd(x)
    assert all(a.equal(b) for a, b in zip(logits, [*mpd_logits, *msd_logits]))
    assert len(features[2]) == len(msd_features[0])
    as_list = CombinedDiscriminator([mpd, msd])
    assert as_list.names == ["0", "1"] and len(as_list(x)[0]) == 5
    assert sum(p.numel() for p in combined.parameters()) == sum(p.numel() for p in (*mpd.parameters(),
                                                                                     *msd.parameters()))


def test_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"mono audio \[B, 1, N\].*\[2, 8000\]"):
        tiny_mpd()(torch.randn(2, N))
    with pytest.raises(ValueError, match=r"mono audio.*\[2, 2, 100\]"):
        CombinedDiscriminator([tiny_msd()])(torch.randn(2, 2, 100))
    with pytest.raises(ValueError, match="groups=4 must divide both widths 2"):
        MultiScaleDiscriminator(channels=(2, 2, 8, 8, 8, 8, 8))
    with pytest.raises(ValueError, match="too few for n_fft=512"):
        tiny_stft()(torch.randn(1, 1, 200))
    with pytest.raises(ValueError, match="not a vocalgen.interfaces.Discriminator"):
        CombinedDiscriminator([torch.nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="kind='wgan'"):
        AdversarialObjective(kind="wgan")


# Two sub-discriminators' logits.
REAL = [torch.tensor([[0.5, 2.0]]), torch.tensor([[1.0, 1.0]])]
FAKE = [torch.tensor([[-2.0, 0.0]]), torch.tensor([[0.0, 0.0]])]


def test_lsgan_values() -> None:
    ones, zeros = [torch.ones(2, 7), torch.ones(2, 3)], [torch.zeros(2, 7), torch.zeros(2, 3)]
    assert discriminator_loss(ones, zeros).item() == 0.0
    assert generator_adversarial_loss(ones).item() == 0.0
    assert generator_adversarial_loss(zeros).item() == 2.0  # (1 − 0)² per sub-discriminator, summed
    # Real: (0.25 + 1) / 2 and 0; fake: (4 + 0) / 2 and 0.
    assert discriminator_loss(REAL, FAKE).item() == pytest.approx(0.625 + 2.0)
    assert discriminator_loss(REAL, FAKE, reduction="mean").item() == pytest.approx((0.625 + 2.0) / 2)
    # Generator: (9 + 1) / 2 and 1.
    assert generator_adversarial_loss(FAKE).item() == pytest.approx(5.0 + 1.0)


def test_hinge_values() -> None:
    # Real: relu(1 − [0.5, 2]) → 0.25, relu(1 − [1, 1]) → 0; fake: relu(1 + [−2, 0]) → 0.5, relu(1 + 0) → 1.
    assert discriminator_loss(REAL, FAKE, kind="hinge").item() == pytest.approx(0.25 + 0.5 + 1.0)
    assert discriminator_loss(REAL, FAKE, kind="hinge", reduction="mean").item() == pytest.approx(1.75 / 2)
    # Generator: relu(1 − [−2, 0]) → 2, relu(1 − 0) → 1.
    assert generator_adversarial_loss(FAKE, kind="hinge").item() == pytest.approx(3.0)
    # Confident, correct discriminators cost nothing.
    assert discriminator_loss([torch.full((2, 4), 3.0)], [torch.full((2, 4), -3.0)], kind="hinge").item() == 0.0


def test_feature_matching() -> None:
    maps = [[torch.randn(2, 3, 5), torch.randn(2, 1, 5)], [torch.randn(2, 4)]]
    assert feature_matching_loss(maps, maps).item() == 0.0
    shifted = [[m + 0.5 for m in sub] for sub in maps]
    assert feature_matching_loss(maps, shifted).item() == pytest.approx(1.5)  # 3 maps × 0.5
    assert feature_matching_loss(maps, shifted, reduction="mean").item() == pytest.approx(0.5)
    real = [[torch.full((2, 3), 2.0)]]
    assert feature_matching_loss(real, [[torch.full((2, 3), 3.0)]], relative=True).item() == pytest.approx(0.5)
    fake = [[m.clone().requires_grad_() for m in sub] for sub in maps]
    real = [[m.clone().requires_grad_() for m in sub] for sub in maps]
    feature_matching_loss(real, [[f + 1 for f in sub] for sub in fake]).backward()
    assert all(r.grad is None for sub in real for r in sub)  # real maps are detached
    assert all(f.grad is not None for sub in fake for f in sub)


def test_objective_terms_and_gradient_routing() -> None:
    torch.manual_seed(0)
    discriminator = tiny_mpd((2, 3))
    objective = AdversarialObjective(feature_weight=2.0, adversarial_weight=0.5)
    real = audio()
    fake = (0.1 * torch.randn(2, 1, N)).requires_grad_()

    terms = objective.discriminator_terms(discriminator, real, fake)
    assert set(terms) == {"disc_loss", "disc_real", "disc_fake"}
    assert terms["disc_loss"].item() == pytest.approx((terms["disc_real"] + terms["disc_fake"]).item())
    terms["disc_loss"].backward()
    assert fake.grad is None  # fake is detached for the discriminator's step
    assert all(p.grad is not None for p in discriminator.parameters())

    terms = objective.generator_terms(discriminator, real, fake)
    assert set(terms) == {"adversarial", "feature_matching", "generator_total"}
    expected = 0.5 * terms["adversarial"] + 2.0 * terms["feature_matching"]
    assert terms["generator_total"].item() == pytest.approx(expected.item())
    terms["generator_total"].backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert objective.generator_terms(discriminator, real, real.clone())["feature_matching"].item() == 0.0


@pytest.mark.parametrize("kind", ["lsgan", "hinge"])
def test_a_few_steps_teach_a_tiny_discriminator_sine_from_noise(kind: str) -> None:
    torch.manual_seed(0)
    discriminator = MultiPeriodDiscriminator(periods=(2, 3), channels=(4, 8, 8))
    objective = AdversarialObjective(kind=kind)
    optimizer = torch.optim.Adam(discriminator.parameters(), lr=1e-2, betas=(0.5, 0.9))
    t = torch.arange(4000) / 8000
    real = 0.5 * torch.sin(2 * math.pi * 440 * t).expand(2, 1, -1)
    losses = []
    for _ in range(20):
        fake = 0.5 * torch.randn(2, 1, 4000)
        loss = objective.discriminator_terms(discriminator, real, fake)["disc_loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
