"""α-(de)blending parts: the IADB sampler and guidance, condition dropout, UNet1D, beat-phase encoders."""

import pytest
import torch
from torch import nn

from vocalgen.encoders.beat_phase import BeatPhaseEncoder
from vocalgen.encoders.named_conditions import NamedConditions
from vocalgen.errors import ConfigError
from vocalgen.generators.blending_samplers import calls, integrate
from vocalgen.generators.iadb import IADBGenerator
from vocalgen.generators.unet1d import UNet1D
from vocalgen.interfaces import Batch, Encoder
from vocalgen.pretransforms.encodec import EncodecPretransform


class Oracle(nn.Module):
    """The exact denoiser for one known x1: remembers x0 (what it sees at α = 0) and returns x1 − x0,
    checking that every x it sees lies on the line (1 − α) x0 + α x1."""

    sequence_conditions: dict = {}
    vector_conditions: dict = {}

    def __init__(self, x1: torch.Tensor) -> None:
        super().__init__()
        self.channels = x1.shape[1]
        self.register_buffer("x1", x1)
        self.x0: torch.Tensor | None = None
        self.alphas: list[float] = []

    def forward(self, x: torch.Tensor, alpha: torch.Tensor, conditions: dict) -> torch.Tensor:
        if self.x0 is None:
            assert torch.all(alpha == 0)
            self.x0 = x.clone()
        a = alpha.view(-1, 1, 1)
        assert torch.allclose(x, (1 - a) * self.x0 + a * self.x1, atol=1e-5)
        self.alphas.append(float(alpha[0]))
        return self.x1 - self.x0


@pytest.mark.parametrize("steps", [1, 10, 100])
def test_sampler_maps_x0_to_x1_with_an_oracle(steps: int) -> None:
    x1 = torch.randn(3, 4, 16)
    oracle = Oracle(x1)
    generator = IADBGenerator(oracle, frames=16, latent_scale=1.0)
    out = generator.sample_latents({}, steps=steps, generator=torch.Generator().manual_seed(0), batch_size=3)
    assert torch.allclose(out, x1, atol=1e-5)
    assert oracle.alphas == pytest.approx([t / steps for t in range(steps)])


def test_heun_follows_the_oracle_path_and_calls_the_network_twice_a_step_but_the_last() -> None:
    x1 = torch.randn(3, 4, 16)
    oracle = Oracle(x1)
    out = IADBGenerator(oracle, frames=16, latent_scale=1.0).sample_latents({}, steps=4, batch_size=3, sampler="heun")
    assert torch.allclose(out, x1, atol=1e-5)
    assert oracle.alphas == pytest.approx([0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75]) and calls("heun", 4) == 7


def test_heun_at_a_quarter_of_the_calls_is_closer_to_the_true_end_than_euler() -> None:
    """dx/dα = x − α x² bends the path, so a step's end depends on where it is taken (x(1) by fine Euler)."""
    def direction(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        return x - alpha.view(-1, 1) * x**2

    x0 = torch.linspace(0.2, 1.5, 5).view(5, 1).double()
    truth = integrate(direction, x0, 20000)
    euler = integrate(direction, x0, 100)
    heun = integrate(direction, x0, 13, "heun")
    assert calls("heun", 13) == 25 and calls("euler", 100) == 100
    assert (heun - truth).abs().max() < (euler - truth).abs().max()
    with pytest.raises(ConfigError, match="sampler='rk4': choose one of"):
        integrate(direction, x0, 10, "rk4")


class TwoFaced(nn.Module):
    """A denoiser whose output is clap[:, :C] + 1 per channel: u (zeros null) = 1, c = clap + 1."""

    sequence_conditions: dict = {}
    vector_conditions = {"clap": 6}
    channels = 2

    def __init__(self) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []

    def forward(self, x: torch.Tensor, alpha: torch.Tensor, conditions: dict) -> torch.Tensor:
        self.batch_sizes.append(x.shape[0])
        return (conditions["clap"][:, : self.channels, None] + 1).expand_as(x)


@pytest.mark.parametrize("null", ["zeros", "learned"])
def test_guidance(null: str) -> None:
    denoiser = TwoFaced()
    generator = IADBGenerator(denoiser, frames=8, null_condition=null, latent_scale=1.0)
    if null == "learned":
        with torch.no_grad():
            generator.nulls["clap"].fill_(0.5)
    clap = torch.randn(3, 6)
    x0 = torch.randn((3, 2, 8), generator=torch.Generator().manual_seed(7))
    cond = (clap[:, :2, None] + 1).expand(3, 2, 8)
    uncond = torch.full_like(cond, 1.5 if null == "learned" else 1.0)

    def step(guidance: float) -> torch.Tensor:
        denoiser.batch_sizes.clear()
        out = generator.sample_latents({"clap": clap}, steps=1, guidance=guidance,
                                       generator=torch.Generator().manual_seed(7))
        return out - x0

    assert torch.allclose(step(0.0), uncond) and denoiser.batch_sizes == [3]
    assert torch.allclose(step(1.0), cond) and denoiser.batch_sizes == [3]
    assert torch.allclose(step(3.0), uncond + 3.0 * (cond - uncond), atol=1e-6) and denoiser.batch_sizes == [6]


class Recorder(nn.Module):
    """Keeps the conditions it was called with; predicts zeros."""

    sequence_conditions = {"beat_phase": 1}
    vector_conditions = {"clap": 3}
    channels = 1

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict = {}

    def forward(self, x: torch.Tensor, alpha: torch.Tensor, conditions: dict) -> torch.Tensor:
        self.seen = conditions
        return torch.zeros_like(x)


def dropped(generator: IADBGenerator, samples: int = 4000) -> tuple[torch.Tensor, torch.Tensor]:
    """Which samples lost each condition (beat_phase, clap) in one training_forward."""
    generator.training_forward({"latents": torch.randn(samples, 1, 2)},
                               {"beat_phase": torch.ones(samples, 2), "clap": torch.ones(samples, 3)})
    seen = generator.denoiser.seen
    return (seen["beat_phase"] != 1).flatten(1).all(1), (seen["clap"] != 1).all(1)


def test_condition_dropout_rate_only_in_training() -> None:
    torch.manual_seed(0)
    generator = IADBGenerator(Recorder(), frames=2, condition_dropout=0.2)
    beat, clap = dropped(generator.train())
    assert torch.equal(beat, clap)  # all conditions of a sample together
    assert 0.17 < beat.float().mean() < 0.23
    assert generator.denoiser.seen["beat_phase"][beat].abs().sum() == 0  # zeros null
    beat, clap = dropped(generator.eval())
    assert not beat.any() and not clap.any()


def test_separate_dropout_and_learned_null() -> None:
    torch.manual_seed(0)
    generator = IADBGenerator(Recorder(), frames=2, condition_dropout=0.0, separate_dropout=0.3,
                              null_condition="learned").train()
    with torch.no_grad():
        generator.nulls["beat_phase"].fill_(-1.0)
    beat, clap = dropped(generator)
    assert 0.27 < beat.float().mean() < 0.33 and 0.27 < clap.float().mean() < 0.33
    assert 0.06 < (beat & clap).float().mean() < 0.12  # independent
    assert torch.all(generator.denoiser.seen["beat_phase"][beat] == -1.0)
    with pytest.raises(ConfigError, match="null_condition"):
        IADBGenerator(Recorder(), frames=2, null_condition="nothing")


def tiny_unet(**overrides) -> UNet1D:
    arguments = {"channels": 4, "base_channels": 8, "levels": 3, "embedding_dim": 16, "condition_features": 4,
                 "condition_channels": {"beat_phase": 1}, "gate_dim": 6, **overrides}
    return UNet1D(**arguments)


@pytest.mark.parametrize("frames", [4, 8, 20])
def test_unet_shapes_and_conditions(frames: int) -> None:
    torch.manual_seed(0)
    unet = tiny_unet()
    for parameter in unet.parameters():  # undo the zero starts so that every input matters
        parameter.data.normal_(0, 0.3)
    x = torch.randn(2, 4, frames)
    conditions = {"beat_phase": torch.rand(2, frames), "clap": torch.randn(2, 6)}
    out = unet(x, torch.rand(2), conditions)
    assert out.shape == x.shape
    assert not torch.allclose(out, unet(x, torch.rand(2), conditions))
    assert not torch.allclose(out, unet(x, torch.zeros(2), {**conditions, "beat_phase": torch.rand(2, frames)}))
    assert not torch.allclose(out, unet(x, torch.zeros(2), {**conditions, "clap": torch.randn(2, 6)}))


def test_unet_errors() -> None:
    unet = tiny_unet()
    conditions = {"beat_phase": torch.rand(1, 6), "clap": torch.randn(1, 6)}
    with pytest.raises(ValueError, match="divisible by 4"):
        unet(torch.randn(1, 4, 6), torch.rand(1), conditions)
    with pytest.raises(ValueError, match="conditions"):
        unet(torch.randn(1, 4, 8), torch.rand(1), {"clap": torch.randn(1, 6)})
    with pytest.raises(ValueError, match="beat_phase"):
        unet(torch.randn(1, 4, 8), torch.rand(1), {"beat_phase": torch.rand(1, 6), "clap": torch.randn(1, 6)})
    with pytest.raises(ConfigError, match="multiple of 4"):
        IADBGenerator(unet, frames=10)
    assert UNet1D(channels=4, base_channels=8, levels=1, embedding_dim=16)(torch.randn(1, 4, 5), 0.5).shape == (1, 4, 5)


def iadb_loss(generator: IADBGenerator, latents: torch.Tensor, phase: torch.Tensor) -> float:
    """The IADB MSE in eval mode over 8 fixed draws of (x0, α) per latent."""
    torch.manual_seed(123)
    with torch.no_grad():
        outputs = generator.eval().training_forward({"latents": latents.repeat(8, 1, 1)},
                                                    {"beat_phase": phase.repeat(8, 1)})
    return float((outputs["prediction"] - outputs["target"]).pow(2).mean())


def test_a_few_steps_lower_the_mse() -> None:
    torch.manual_seed(0)
    generator = IADBGenerator(tiny_unet(gate_dim=None), frames=16, latent_scale=1.0)
    latents, phase = torch.randn(8, 4, 16), torch.rand(8, 16)
    before = iadb_loss(generator, latents, phase)
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-2)
    generator.train()
    for _ in range(100):
        outputs = generator.training_forward({"latents": latents}, {"beat_phase": phase})
        loss = (outputs["prediction"] - outputs["target"]).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert iadb_loss(generator, latents, phase) < 0.9 * before


def test_generate_audio_through_encodec() -> None:
    torch.manual_seed(0)
    pretransform = EncodecPretransform(n_filters=2, dimension=4, lstm=0, bins=16, n_q=2)
    generator = IADBGenerator(tiny_unet(gate_dim=None), pretransform=pretransform, frames=8)
    phase = torch.rand(2, 8)
    with pytest.raises(ConfigError, match="latent scale"):
        generator.generate({"beat_phase": phase}, steps=1)
    audio = torch.randn(2, 1, 8 * 320)
    outputs = generator.train().training_forward({"audio_24k": audio}, {"beat_phase": phase})
    assert outputs["prediction"].shape == outputs["target"].shape == (2, 4, 8)
    assert generator.latent_scale == pytest.approx(1 / float(pretransform.encode(audio).std()))
    assert "latent_scale" in generator.state_dict()
    audio = generator.generate({"beat_phase": phase}, steps=3, guidance=2.0, seed=5)
    assert audio.shape == (2, 1, 8 * 320) and generator.sample_rate == 24_000
    assert torch.equal(audio, generator.generate(phase, steps=3, guidance=2.0, seed=5))
    assert not pretransform.training and not any(p.requires_grad for p in pretransform.parameters())
    with pytest.raises(KeyError, match="latent_field"):
        generator.training_forward({"audio": torch.randn(2, 1, 320)}, {"beat_phase": phase})


def test_beat_phase_from_bpm_or_field() -> None:
    encoder = BeatPhaseEncoder(frames=150, frame_rate=75.0)
    phase = encoder({"bpm": torch.tensor([120.0, 90.0])})
    assert phase.shape == (2, 150) and phase.min() >= 0 and phase.max() < 1
    assert phase[0, 0] == 0 and phase[0, 1] == pytest.approx(1 / 37.5) and phase[0, 75] == 0  # 2 beats a second
    assert phase[1, 50] == 0  # 90 BPM: a beat every 50 frames
    given = torch.rand(2, 150)
    assert torch.equal(encoder({"beat_phase": given, "bpm": torch.tensor([1.0, 1.0])}), given)
    with pytest.raises(ConfigError, match="bpm"):
        encoder({"bpm": torch.tensor([0.0])})
    with pytest.raises(KeyError, match="bpm_field"):
        encoder({"audio": torch.zeros(1)})


class Constant(Encoder):
    out_dim = 3

    def forward(self, batch: Batch) -> torch.Tensor:
        return torch.ones(len(batch["bpm"]), 3)


def test_named_conditions() -> None:
    encoder = NamedConditions({"beat_phase": BeatPhaseEncoder(frames=8), "clap": Constant()})
    conditions = encoder({"bpm": torch.tensor([120.0, 100.0])})
    assert set(conditions) == {"beat_phase", "clap"} and encoder.out_dim == 4
    assert conditions["beat_phase"].shape == (2, 8) and conditions["clap"].shape == (2, 3)
