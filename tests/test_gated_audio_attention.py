"""Gated audio cross-attention in a UNet (the "audio_attention" route), guidance by several named
conditions in turn, "Norm 60", and trained parts inside frozen ones staying in training mode."""

import pytest
import torch
from torch import nn

from tests.test_condition_routing import tiny_unet
from vocalgen.errors import ConfigError
from vocalgen.generators.condition_routing import ConditionRouting
from vocalgen.generators.gated_audio_attention import GatedAudioAttention, install_gated_audio_attention
from vocalgen.generators.guidance import guide_in_order
from vocalgen.generators.latent_diffusion import LatentDiffusion, with_mean_norm
from vocalgen.param_groups import parse_rules, set_frozen_modes

SLOTS = {"down": (0, 2), "mid": (0, 4), "up": (2, 4)}


def gated_unet(gate_init: float = 0.01) -> nn.Module:
    unet = tiny_unet(film=False)
    install_gated_audio_attention(unet, audio_dim=10, slots=SLOTS, heads=2, gate_init=gate_init)
    return unet


def test_each_cross_attention_layer_attends_to_the_audio_slots_of_its_place_through_a_small_gate() -> None:
    unet = gated_unet()
    gated = {name: p for name, p in unet.attn_processors.items() if isinstance(p, GatedAudioAttention)}
    assert len(gated) == 4  # every cross-attention layer of the tiny UNet: 1 down, 1 mid, 2 up
    assert {(name.split(".")[0], p.slots) for name, p in gated.items()} == {
        ("down_blocks", (0, 2)), ("mid_block", (0, 4)), ("up_blocks", (2, 4))}
    x, t, text = torch.randn(2, 4, 8, 8), torch.tensor([1, 2]), torch.randn(2, 3, 6)
    audio = torch.randn(2, 4, 10)
    plain = unet(x, t, encoder_hidden_states=text).sample
    with_audio = unet(x, t, encoder_hidden_states=text, cross_attention_kwargs={"audio_tokens": audio}).sample
    change = (with_audio - plain).abs().max()
    assert 0 < change < 0.1 * plain.abs().max()  # tanh(0.01): the frozen model starts almost unchanged
    closed = gated_unet(gate_init=0.0)
    closed.load_state_dict({k: v for k, v in unet.state_dict().items() if not k.endswith(".gate")}, strict=False)
    assert torch.equal(closed(x, t, encoder_hidden_states=text, cross_attention_kwargs={"audio_tokens": audio}).sample,
                       closed(x, t, encoder_hidden_states=text).sample)


def test_audio_tokens_are_routed_by_name_and_their_width_is_checked() -> None:
    routing = ConditionRouting(gated_unet(), {"text": "cross_attention", "audio": "audio_attention"})
    inputs = routing.unet_inputs(routing.check({"text": torch.randn(2, 3, 6), "audio": torch.randn(2, 4, 10)}))
    assert inputs["cross_attention_kwargs"]["audio_tokens"].shape == (2, 4, 10)
    with pytest.raises(ConfigError, match="audio_attention.audio_dim=10"):
        routing.check({"text": torch.randn(2, 3, 6), "audio": torch.randn(2, 4, 7)})
    with pytest.raises(ConfigError, match="needs generator.audio_attention"):
        ConditionRouting(tiny_unet(film=False), {"audio": "audio_attention"})


def test_guidance_by_text_then_audio_adds_each_conditions_scaled_step() -> None:
    none, text, both = torch.tensor(1.0), torch.tensor(3.0), torch.tensor(4.0)
    assert guide_in_order([none, text, both], [7.5, 2.0]) == 1 + 7.5 * 2 + 2.0 * 1


class Identity(nn.Module):
    sample_rate = 0

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_per_condition_guidance_switches_the_named_conditions_on_one_at_a_time() -> None:
    generator = LatentDiffusion(gated_unet(), Identity(), item_shape=[4, 8, 8],
                                routes={"text": "cross_attention", "audio": "audio_attention"})
    condition = {"text": torch.ones(1, 3, 6), "audio": torch.ones(1, 4, 10)}
    variants, scales = generator.guidance_variants(condition, {"text": 7.5, "audio": 3}, None, steps=2)
    assert [[bool(v[name].any()) for name in ("text", "audio")] for v in variants] == [[False, False], [True, False],
                                                                                       [True, True]]
    assert scales == [[7.5, 3.0], [7.5, 3.0]]
    with pytest.raises(ConfigError, match="unknown: \\['clap'\\]"):
        generator.guidance_variants(condition, {"clap": 2}, None, steps=2)


def test_norm_60_scales_each_items_tokens_to_that_mean_norm() -> None:
    tokens = torch.randn(3, 16, 8) * torch.tensor([1.0, 5.0, 0.1]).view(3, 1, 1)
    assert torch.allclose(with_mean_norm(tokens, 60.0).norm(dim=-1).mean(dim=-1), torch.full((3,), 60.0))


def test_a_trained_adapter_inside_a_frozen_unet_keeps_training_mode_and_its_dropout() -> None:
    model = nn.Module()
    model.unet = gated_unet()
    rules = parse_rules([{"modules": ["unet.*.attn2.processor"]}, {"modules": ["unet"], "frozen": True}])
    model.train()
    set_frozen_modes(model, rules, True)
    gated = [m for m in model.modules() if isinstance(m, GatedAudioAttention)]
    assert not model.unet.training and not model.unet.down_blocks[0].training
    assert all(m.training and m.attention.training for m in gated)
    set_frozen_modes(model, rules, False)
    assert not any(m.training for m in gated)
