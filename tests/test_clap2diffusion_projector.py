"""CLAP2Diffusion stage 1, the projector: the token generator and the soft hierarchical decomposition (slots, annealed
temperature, entropy), the pooled caption embedding and the loss terms. The stage trained on real earlier stages:
tests/test_clap2diffusion.py."""

import math

import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import OmegaConf

from vocalgen.adapters.audio_token_generator import AudioTokenGenerator
from vocalgen.adapters.audio_token_projector import AudioTokenProjector
from vocalgen.adapters.hierarchical_decomposer import HierarchicalDecomposer, group_sizes
from vocalgen.config import CONFIG_DIR
from vocalgen.encoders.clip_text import ClipTextEncoder
from vocalgen.encoders.pooled_text import PooledTextEncoder
from vocalgen.errors import ConfigError
from vocalgen.losses.nt_xent_term import NtXentTerm

AUDIO_DIM, TOKEN_DIM = 24, 16


def projector(num_tokens: int = 16, anneal_steps: int = 10) -> AudioTokenProjector:
    torch.manual_seed(0)
    tokens = AudioTokenGenerator(AUDIO_DIM, TOKEN_DIM, num_tokens, hidden_dim=8, num_layers=1, num_heads=2)
    return AudioTokenProjector(tokens, HierarchicalDecomposer(TOKEN_DIM, num_tokens, anneal_steps=anneal_steps))


# --- the adapter -----------------------------------------------------------------------------------------------


def test_the_projector_makes_16_tokens_in_five_three_two_slots_and_the_loss_inputs() -> None:
    assert group_sizes(10, (5, 3, 2)) == (5, 3, 2) and group_sizes(16, (5, 3, 2)) == (8, 5, 3)
    with pytest.raises(ConfigError, match="leave a group empty"):
        group_sizes(2, (5, 3, 2))
    audio, text = F.normalize(torch.randn(4, AUDIO_DIM), dim=-1), torch.randn(4, TOKEN_DIM)
    outputs = projector()({"audio": audio, "text": text})
    assert outputs["condition"].shape == (4, 16, TOKEN_DIM) and outputs["assignment"].shape == (4, 16, 3)
    assert outputs["groups"].tolist() == [[0] * 8 + [1] * 5 + [2] * 3] * 4
    assert torch.allclose(outputs["query"].norm(dim=-1), torch.ones(4))
    assert torch.allclose(outputs["key"], F.normalize(text, dim=-1)) and outputs["text_embedding"] is text
    assert torch.allclose(outputs["audio_embedding"], outputs["condition"].mean(dim=1))
    assert outputs["entropy"].dim() == 0 and float(outputs["temperature"]) == 2.0


def test_each_slot_holds_one_token_weighted_by_its_group_by_decreasing_weight() -> None:
    torch.manual_seed(0)
    decomposer = HierarchicalDecomposer(TOKEN_DIM, 10).eval()
    tokens = torch.randn(3, 10, TOKEN_DIM)
    outputs = decomposer(tokens)
    weights = decomposer.assignment(tokens, decomposer.temperature()).exp()
    assert outputs["groups"][0].tolist() == [0] * 5 + [1] * 3 + [2] * 2
    for item in range(3):
        sources = []
        for slot, group in enumerate(outputs["groups"][item].tolist()):
            (source,) = [i for i in range(10) if torch.allclose(outputs["assignment"][item, slot], weights[item, i])]
            expected = tokens[item, source] * weights[item, source, group]  # the token, times its weight for the group
            assert torch.allclose(outputs["tokens"][item, slot], expected, atol=1e-6)
            sources.append(source)
        assert sorted(sources) == list(range(10))  # every token once
        for group, (start, end) in enumerate([(0, 5), (5, 8), (8, 10)]):
            own = outputs["assignment"][item, start:end, group]
            assert (own[:-1] >= own[1:]).all()  # by decreasing weight within the group
        foreground = outputs["assignment"][item, :, 0]
        assert (foreground[5:] <= foreground[:5].min()).all()  # the foreground took the largest foreground weights


def test_at_generation_the_audio_alone_is_enough() -> None:
    adapter = projector().eval()
    audio = torch.randn(2, AUDIO_DIM)
    for condition in (audio, {"audio": audio}):
        outputs = adapter(condition)
        assert outputs["condition"].shape == (2, 16, TOKEN_DIM) and "key" not in outputs
    with pytest.raises(ConfigError, match="PooledTextEncoder"):
        adapter({"audio": audio, "text": torch.randn(2, 7, TOKEN_DIM)})
    with pytest.raises(KeyError, match="no 'audio'"):
        adapter({"clap": audio})


def test_the_temperature_follows_a_cosine_from_2_to_0_5_and_stays_there() -> None:
    decomposer = HierarchicalDecomposer(TOKEN_DIM, 16, anneal_steps=10)
    expected = {0: 2.0, 5: 1.25, 10: 0.5, 11: 0.5, 1000: 0.5}
    for step, temperature in expected.items():
        assert decomposer.temperature(step) == pytest.approx(temperature)
    assert decomposer.temperature(2) == pytest.approx(0.5 + 0.75 * (1 + math.cos(math.pi * 0.2)))
    tokens = torch.randn(2, 16, TOKEN_DIM)
    used = [float(decomposer(tokens)["temperature"]) for _ in range(12)]  # training mode: one step a forward
    assert used == pytest.approx([decomposer.temperature(step) for step in range(12)])
    assert all(a >= b for a, b in zip(used, used[1:])) and int(decomposer.step) == 12
    decomposer.eval()
    decomposer(tokens)
    assert int(decomposer.step) == 12 and float(decomposer(tokens)["temperature"]) == 0.5
    restored = HierarchicalDecomposer(TOKEN_DIM, 16, anneal_steps=10)
    restored.load_state_dict(decomposer.state_dict())  # the counter travels in the state dict
    assert int(restored.step) == 12


def test_the_entropy_is_finite_bounded_and_its_gradient_reaches_the_anchors_and_gates() -> None:
    decomposer = HierarchicalDecomposer(TOKEN_DIM, 16, anneal_steps=1)
    decomposer.step.fill_(1)  # T = 0.5, the sharpest
    tokens = torch.cat([decomposer.anchors.detach().repeat(5, 1)[:15] * 100, torch.zeros(1, TOKEN_DIM)])
    outputs = decomposer(tokens.unsqueeze(0))  # tokens on the anchors, and an all-zero one
    entropy = outputs["entropy"]
    assert torch.isfinite(entropy) and 0 <= entropy.detach().item() <= math.log(3)
    entropy.backward()
    for parameter in (decomposer.anchors, decomposer.gates):
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all() and parameter.grad.abs().sum() > 0
    decomposer.zero_grad()
    decomposer(torch.randn(2, 16, TOKEN_DIM))["tokens"].pow(2).sum().backward()  # the main loss reaches them too
    assert decomposer.anchors.grad.abs().sum() > 0 and decomposer.gates.grad.abs().sum() > 0


# --- the caption embedding and the loss ------------------------------------------------------------------------


def test_the_caption_embedding_is_the_mean_of_its_real_tokens_or_its_eos_state() -> None:
    text = ClipTextEncoder(vocab_size=300, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                           num_attention_heads=2, context_length=16)
    captions = ["a sandy beach", "a busy city street", "a pine forest"]
    text.fit_to_data(captions * 4)
    batch = {"caption": captions}
    tokens = text(batch)
    mask = text.tokenize(captions)[1]
    mean, eos = PooledTextEncoder(text)(batch), PooledTextEncoder(text, pooling="eos")(batch)
    assert mean.shape == eos.shape == (3, 16)
    for item, length in enumerate(mask.sum(dim=1).tolist()):
        assert length < 16  # there is padding to leave out
        assert torch.allclose(mean[item], tokens[item, :length].mean(dim=0), atol=1e-6)
        assert torch.allclose(eos[item], tokens[item, length - 1])
    with pytest.raises(ConfigError, match="pooling='max'"):
        PooledTextEncoder(text, pooling="max")


def test_the_loss_is_info_nce_plus_half_the_mse_plus_a_hundredth_of_the_entropy() -> None:
    loss = instantiate(OmegaConf.load(CONFIG_DIR / "loss" / "clap2diffusion_projector.yaml"))
    torch.manual_seed(0)
    audio, text = torch.randn(8, TOKEN_DIM), torch.randn(8, TOKEN_DIM)
    outputs = {"audio_embedding": audio, "text_embedding": text, "query": F.normalize(audio, dim=-1),
               "key": F.normalize(text, dim=-1), "entropy": torch.tensor(0.7), "temperature": torch.tensor(1.5)}
    terms = loss(outputs, step=0)
    logits = outputs["query"] @ outputs["key"].T / 0.07  # InfoNCE, audio → caption: each audio's own caption
    reference = F.cross_entropy(logits, torch.arange(8))
    assert terms["info_nce"] == pytest.approx(float(reference))
    assert terms["mse"] == pytest.approx(float((audio - text).pow(2).mean()))
    assert terms["entropy"] == pytest.approx(0.7) and terms["temperature"] == pytest.approx(1.5)
    expected = terms["info_nce"] + 0.5 * terms["mse"] + 0.01 * 0.7
    assert terms["loss"] == pytest.approx(float(expected))
    aligned = {**outputs, "key": outputs["query"]}
    assert NtXentTerm()(aligned) < terms["info_nce"]  # matching pairs score lower
    with pytest.raises(ValueError, match="positive"):
        NtXentTerm(temperature=0)
