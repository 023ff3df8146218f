"""Each part's shapes and values: VAE head, SampleCNN decoder, losses, schedules, parameter groups."""

import math

import pytest
import torch
from torch import nn

from vocalgen.adapters.vae_head import VAEHead
from vocalgen.errors import ConfigError
from vocalgen.generators.sample_cnn_decoder import SampleCNNDecoder
from vocalgen.losses.kl import GaussianKL
from vocalgen.losses.reconstruction import L1Distance
from vocalgen.losses.spectral import MultiResolutionMelLoss, MultiScaleSTFTLoss
from vocalgen.losses.weighted_sum import LinearRamp, WeightedSum
from vocalgen.param_groups import ParamGroupRule, build_param_groups
from vocalgen.schedules import WarmupCosineFactor

RECIPE_CHANNELS = [512] + [256] * 6 + [128] * 3


def test_recipe_decoder_makes_2_68_seconds_at_22050() -> None:
    decoder = SampleCNNDecoder(128, RECIPE_CHANNELS, [32, 8], sample_rate=22050).eval()
    audio = decoder.generate(torch.randn(1, 128))
    assert audio.shape == (1, 1, 59049) and decoder.output_samples == 59049
    assert round(59049 / 22050, 2) == 2.68
    assert audio.abs().max() <= 1.0
    assert not any(isinstance(m, nn.ConvTranspose1d) for m in decoder.modules())


def test_decoder_rejects_a_target_of_another_length() -> None:
    decoder = SampleCNNDecoder(8, [4, 4], [4], sample_rate=8000)
    with pytest.raises(ConfigError, match="makes 9 samples.*has 10"):
        decoder.training_forward({"audio": torch.zeros(2, 1, 10)}, torch.zeros(2, 8))


def test_vae_head_samples_in_training_and_is_deterministic_in_eval() -> None:
    head = VAEHead(in_dim=12, latent_dim=5)
    features = torch.randn(3, 12)
    out = head(features)
    assert out["condition"].shape == out["mu"].shape == out["logvar"].shape == (3, 5)
    assert not torch.equal(out["condition"], out["mu"])
    head.eval()
    torch.testing.assert_close(head(features)["condition"], head(features)["mu"])
    with pytest.raises(ConfigError, match="adapter.in_dim=12.*7 features"):
        head(torch.randn(3, 7))


def test_kl_is_zero_for_the_prior_and_matches_the_closed_form() -> None:
    kl = GaussianKL()
    zeros = torch.zeros(4, 3)
    assert kl({"mu": zeros, "logvar": zeros}).item() == 0.0
    mu, logvar = torch.full((1, 2), 1.0), torch.full((1, 2), math.log(2.0))
    expected = 2 * 0.5 * (2.0 + 1.0 - 1.0 - math.log(2.0))
    assert kl({"mu": mu, "logvar": logvar}).item() == pytest.approx(expected, rel=1e-5)
    # per element of a [1, 3, 4, 4] target: the same KL over its 48 elements (SD's balance beside a mean L1)
    per_pixel = GaussianKL(per_element_of="target")
    outputs = {"mu": mu, "logvar": logvar, "target": torch.zeros(1, 3, 4, 4)}
    assert per_pixel(outputs).item() == pytest.approx(expected / 48, rel=1e-5)


@pytest.mark.parametrize("term", [L1Distance(), MultiScaleSTFTLoss((256, 512)),
                                  MultiResolutionMelLoss(16000, 40, (512,), (128,))])
def test_reconstruction_terms_are_zero_only_for_identical_audio(term: nn.Module) -> None:
    torch.manual_seed(0)
    target = torch.randn(2, 1, 4000) * 0.3
    assert term({"prediction": target, "target": target}).item() == pytest.approx(0.0, abs=1e-6)
    assert term({"prediction": target.flip(-1), "target": target}).item() > 0.05


def test_weighted_sum_applies_constant_and_ramped_weights() -> None:
    class Constant(nn.Module):
        def __init__(self, value: float) -> None:
            super().__init__()
            self.value = value

        def forward(self, outputs: dict) -> torch.Tensor:
            return torch.tensor(self.value)

    loss = WeightedSum({"a": Constant(2.0), "b": Constant(10.0)}, {"a": 1.5, "b": LinearRamp(end=1.0, steps=100)})
    assert loss({}, step=0)["loss"].item() == pytest.approx(3.0)
    assert loss({}, step=50)["loss"].item() == pytest.approx(8.0)
    assert loss({}, step=500)["loss"].item() == pytest.approx(13.0)
    assert loss({}, step=50)["b"].item() == 10.0
    with pytest.raises(ConfigError, match="same terms"):
        WeightedSum({"a": Constant(1.0)}, {"b": 1.0})


def test_warmup_cosine_factor() -> None:
    factor = WarmupCosineFactor(total_steps=110, warmup_steps=10, min_factor=0.1)
    assert factor(0) == pytest.approx(0.1)
    assert factor(9) == pytest.approx(1.0)
    assert factor(60) == pytest.approx(0.1 + 0.9 * 0.5)
    assert factor(110) == pytest.approx(0.1)
    assert factor(1000) == pytest.approx(0.1)


def test_param_groups_freeze_and_set_learning_rates() -> None:
    model = nn.ModuleDict({"encoder": nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), "head": nn.Linear(2, 1)})
    rules = [ParamGroupRule(modules=["encoder.1"], lr=1e-5), ParamGroupRule(modules=["encoder"], frozen=True)]
    groups = build_param_groups(model, rules)
    assert [g["name"] for g in groups] == ["default", "encoder.1"]
    assert groups[1]["lr"] == 1e-5 and len(groups[1]["params"]) == 2
    assert all(not p.requires_grad for p in model["encoder"][0].parameters())
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in model["head"].parameters()}
    with pytest.raises(ConfigError, match=r"param_groups\[0\].modules=\['decoder'\]"):
        build_param_groups(model, [ParamGroupRule(modules=["decoder"], lr=1.0)])


def test_vocos_vocodes_under_bf16_autocast_with_its_inverse_stft_in_fp32() -> None:
    from vocalgen.data.audioldm_mel import AudioLDMMel
    from vocalgen.generators.vocos_vocoder import VocosVocoder

    torch.manual_seed(0)
    vocoder = VocosVocoder(AudioLDMMel(), dim=16, intermediate_dim=32, num_layers=1)
    mel = torch.randn(2, 10, 64)                                   # [B, T, F]
    plain = vocoder.waveform(mel)
    with torch.autocast("cpu", dtype=torch.bfloat16):              # trainer.precision=bf16-mixed on a CPU
        mixed = vocoder.waveform(mel)                              # complex bf16 has no CPU kernels: must not fail
    assert mixed.dtype == torch.float32 and mixed.shape == plain.shape == (2, 10 * 160)
    assert torch.allclose(mixed, plain, atol=0.05 * float(plain.abs().max()))  # only the backbone ran in bf16
