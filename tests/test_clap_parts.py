"""CLAP parts: HTSAT audio tower, transformer / GPT-2 text towers, the BPE, laion-format weights, configs.

All towers are tiny (a 1.4 M-parameter HTSAT on 1 s clips, 1-layer 32-wide text towers) and built offline.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import OmegaConf

from vocalgen.config import CONFIG_DIR
from vocalgen.encoders.clap.audio_tower import ClapAudioTower, repeat_pad
from vocalgen.encoders.clap.bpe_tokenizer import BpeTokenizer, TokenizerNotFitted
from vocalgen.encoders.clap.encoders import ClapAudioEncoder, ClapTextEncoder
from vocalgen.encoders.clap.laion_weights import load_laion_weights
from vocalgen.encoders.clap.text_tower import ClapTextTower
from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.interfaces import Encoder

SR = 48000
TINY_AUDIO = {"spec_size": 128, "embed_dim": 16, "depths": [1, 1, 1, 1], "num_heads": [1, 2, 4, 8], "window_size": 4,
              "num_classes": 8, "clip_samples": SR, "joint_dim": 32}
TINY_TEXT = {"joint_dim": 32, "n_layer": 1, "n_head": 2, "n_embd": 32, "context_length": 16}
CAPTIONS = ["a dog barks twice", "rain on a tin roof", "a door creaks open slowly", "two dogs bark at a car",
            "heavy rain and distant thunder", "ünïcödé birds — chirp 🐦"]


def tiny_audio(**overrides) -> ClapAudioTower:
    torch.manual_seed(0)
    return ClapAudioTower(**{**TINY_AUDIO, **overrides})


def tiny_text(backbone: str, **overrides) -> ClapTextTower:
    torch.manual_seed(0)
    return ClapTextTower(backbone, **{**TINY_TEXT, **({"vocab_size": 400} if backbone == "gpt2" else {}), **overrides})


@pytest.fixture(scope="module")
def audio_tower() -> ClapAudioTower:
    return tiny_audio()


@pytest.fixture(scope="module")
def gpt2_tower() -> ClapTextTower:
    tower = tiny_text("gpt2")
    tower.fit_to_data(CAPTIONS * 4)
    return tower


def laion_format(*towers: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The towers' weights keyed as in a DDP-saved laion CLAP checkpoint, with the parts no tower holds."""
    state = {"logit_scale_a": torch.tensor(2.6), "logit_scale_t": torch.tensor(2.6),
             "audio_transform.sequential.0.weight": torch.zeros(4, 4),
             "text_transform.sequential.0.weight": torch.zeros(4)}
    for tower in towers:
        state.update({k: v.clone() for k, v in tower.state_dict().items() if k != "_extra_state"})
    return {f"module.{k}": v for k, v in state.items()}


# --- audio ---------------------------------------------------------------------------------------------

def test_repeat_pad_trims_repeats_and_cuts() -> None:
    x = torch.tensor([[1.0, 2.0, 3.0, 0.0, 0.0], [0.0] * 5, [1.0, 0.0, 2.0, 3.0, 4.0]])
    assert repeat_pad(x, 8).tolist() == [[1, 2, 3, 1, 2, 3, 0, 0], [0] * 8, [1, 0, 2, 3, 4, 0, 0, 0]]
    assert repeat_pad(x, 3).tolist() == [[1, 2, 3], [0] * 3, [1, 0, 2]]
    crops = {tuple(repeat_pad(x[2:], 3, random_crop=True)[0].tolist()) for _ in range(50)}
    assert crops == {(1, 0, 2), (0, 2, 3), (2, 3, 4)}


def test_audio_tower_shape_unit_norm_and_laion_path(audio_tower: ClapAudioTower) -> None:
    audio_tower.eval()
    x = torch.randn(3, 30000) * 0.1
    with torch.no_grad():
        out = audio_tower.embed(x)
        branch = audio_tower.audio_branch({"waveform": repeat_pad(x, SR)})["embedding"]  # laion's own forward
        reference = F.normalize(audio_tower.audio_projection(branch), dim=-1)
    assert out.shape == (3, 32) and audio_tower.out_dim == 32
    assert torch.allclose(out.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(out, reference, atol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_silent_and_padded_clips_give_finite_outputs_and_grads(audio_tower: ClapAudioTower, training: bool) -> None:
    audio_tower.train(training)
    x = torch.randn(4, 60000) * 0.1
    x[0] = 0.0  # all zero
    x[1, 5000:] = 0.0  # zero-padded
    x[2, :] = 1e-30  # "silent" but not zero
    x.requires_grad_(True)
    out = audio_tower.embed(x)
    assert torch.isfinite(out).all()
    (out * torch.randn_like(out)).sum().backward()
    assert torch.isfinite(x.grad).all()
    grads = [p.grad for p in audio_tower.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    audio_tower.zero_grad(set_to_none=True)
    only_zeros = torch.zeros(2, 20000, requires_grad=True)  # a whole batch of silence (BatchNorm sees no variance)
    out = audio_tower.embed(only_zeros)
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(only_zeros.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in audio_tower.parameters() if p.grad is not None)
    audio_tower.zero_grad(set_to_none=True)


def test_trailing_zeros_do_not_change_the_embedding(audio_tower: ClapAudioTower) -> None:
    audio_tower.eval()
    clip = torch.randn(1, 17000) * 0.1
    padded = F.pad(clip, (0, 40000))
    with torch.no_grad():
        assert torch.allclose(audio_tower.embed(clip), audio_tower.embed(padded), atol=1e-6)
        batch = torch.stack([F.pad(clip[0], (0, 8000)), torch.randn(17000 + 8000)])
        assert torch.allclose(audio_tower.embed(batch)[0], audio_tower.embed(clip)[0], atol=1e-5)


def test_silence_under_half_precision_autocast(audio_tower: ClapAudioTower) -> None:
    audio_tower.train()
    x = torch.randn(2, 20000) * 0.1
    x[0] = 0.0
    with torch.autocast("cpu", dtype=torch.float16):
        out = audio_tower.embed(x)
    assert torch.isfinite(out).all()


def test_frozen_towers_have_no_grads_and_stay_in_eval() -> None:
    for tower in (tiny_audio(frozen=True), tiny_text("transformer", frozen=True)):
        tower.train()
        assert not any(m.training for m in tower.modules())
        assert not any(p.requires_grad for p in tower.parameters())


def test_bad_audio_sizes_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="preset"):
        ClapAudioTower(preset="huge")
    with pytest.raises(ConfigError, match="num_heads"):
        ClapAudioTower(**{**TINY_AUDIO, "num_heads": [1, 2, 4]})
    with pytest.raises(ConfigError, match="clip_samples"):
        ClapAudioTower(**{**TINY_AUDIO, "clip_samples": 480000})


# --- text ----------------------------------------------------------------------------------------------

def test_transformer_text_tower_shapes_truncation_and_empty() -> None:
    tower = tiny_text("transformer").eval()
    long_caption = "a very long caption " * 30
    ids, mask = tower.tokenize(["a dog", long_caption])
    assert ids.shape == (2, 16) and mask[0].sum() == 4  # start, a, dog, end
    assert ids[1, -1] == 49407 and ids[1].argmax() == 15  # cut caption still ends in end-of-text
    with torch.no_grad():
        out = tower.embed(["a dog", long_caption, ""])
        alone = tower.embed(["a dog"])
    assert out.shape == (3, 32) and torch.allclose(out.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(out[0], alone[0], atol=1e-5)  # padding to a longer caption changes nothing
    with pytest.raises(ValueError, match="empty caption list"):
        tower.embed([])


def test_gpt2_text_tower_needs_a_tokenizer() -> None:
    tower = tiny_text("gpt2")
    assert not tower.is_fitted
    with pytest.raises(TokenizerNotFitted, match="fit_to_data"):
        tower.embed(["a dog"])
    tower.fit_to_data(CAPTIONS)
    assert tower.is_fitted and tower.tokenizer.vocab_size <= 400
    json_before = tower.tokenizer.to_json()
    tower.fit_to_data(["something else entirely"])  # no-op once fitted
    assert tower.tokenizer.to_json() == json_before


def test_gpt2_text_tower_shapes_truncation_and_padding(gpt2_tower: ClapTextTower) -> None:
    gpt2_tower.eval()
    ids, mask = gpt2_tower.tokenize(["a dog", "a dog barks " * 40])
    assert ids.shape[1] == 16 and ids[1, -1] == gpt2_tower.tokenizer.eos_id and mask[1].all()
    with torch.no_grad():
        out = gpt2_tower.embed(CAPTIONS + [""])
        alone = gpt2_tower.embed([CAPTIONS[0]])
    assert out.shape == (7, 32) and torch.allclose(out.norm(dim=-1), torch.ones(7), atol=1e-5)
    assert torch.allclose(out[0], alone[0], atol=1e-5)
    with pytest.raises(ValueError, match="empty caption list"):
        gpt2_tower.embed([])


def test_bpe_round_trip_save_load_and_determinism(tmp_path: Path) -> None:
    bpe = BpeTokenizer.train(CAPTIONS * 4, vocab_size=400)
    for text in [*CAPTIONS, "  unseen Wörds,  and\ttabs\n", ""]:
        assert bpe.decode(bpe.encode(text)) == text
    assert bpe.to_json() == BpeTokenizer.train(CAPTIONS * 4, vocab_size=400).to_json()
    bpe.save(tmp_path / "tok")
    for path in (tmp_path / "tok", tmp_path / "tok" / "tokenizer.json"):
        assert BpeTokenizer.load(path).encode(CAPTIONS[2]) == bpe.encode(CAPTIONS[2])
    tower = tiny_text("gpt2", tokenizer=str(tmp_path / "tok"))
    assert tower.is_fitted and tower.tokenizer.to_json() == bpe.to_json()
    with pytest.raises(ConfigError, match="not found"):
        BpeTokenizer.load(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="vocab_size"):
        tiny_text("gpt2", vocab_size=300, tokenizer=str(tmp_path / "tok"))


def test_tokenizer_travels_in_the_state_dict(gpt2_tower: ClapTextTower, tmp_path: Path) -> None:
    torch.save(gpt2_tower.state_dict(), tmp_path / "tower.pt")
    fresh = tiny_text("gpt2")
    fresh.load_state_dict(torch.load(tmp_path / "tower.pt", weights_only=True))
    assert fresh.is_fitted
    for a, b in zip(fresh.tokenize(CAPTIONS), gpt2_tower.tokenize(CAPTIONS)):
        assert torch.equal(a, b)
    fresh.eval(), gpt2_tower.eval()
    with torch.no_grad():
        assert torch.allclose(fresh.embed(CAPTIONS), gpt2_tower.embed(CAPTIONS), atol=1e-6)


# --- laion-format weights and the encoders -------------------------------------------------------------

def test_laion_checkpoint_loads_strictly_into_both_encoders(audio_tower: ClapAudioTower, tmp_path: Path) -> None:
    text = tiny_text("transformer")
    state = laion_format(audio_tower, text)
    state = {k.replace("module.text_branch.", "module.transformer."): v for k, v in state.items()}  # older name
    torch.save({"epoch": 3, "state_dict": state}, tmp_path / "clap.pt")

    audio_enc = ClapAudioEncoder(tiny_audio(), pretrained=str(tmp_path / "clap.pt")).eval()
    text_enc = ClapTextEncoder(tiny_text("transformer"), pretrained=str(tmp_path / "clap.pt")).eval()
    for tower, loaded in ((audio_tower, audio_enc.tower), (text, text_enc.tower)):
        for key, value in tower.state_dict().items():
            if key != "_extra_state":
                assert torch.equal(loaded.state_dict()[key], value), key
    audio_tower.eval(), text.eval()
    wave = torch.randn(2, 1, 40000) * 0.1
    with torch.no_grad():
        assert torch.allclose(audio_enc({"audio_48k": wave}), audio_tower.embed(wave[:, 0]), atol=1e-6)
        assert torch.allclose(text_enc({"caption": CAPTIONS}), text.embed(CAPTIONS), atol=1e-6)
    assert isinstance(audio_enc, Encoder) and audio_enc.out_dim == text_enc.out_dim == 32


def test_nested_checkpoint_carries_the_gpt2_tokenizer(gpt2_tower: ClapTextTower, tmp_path: Path) -> None:
    """A Lightning-style checkpoint ("state_dict" → "encoder.tower.*") loads into a GPT-2 tower, tokenizer included."""
    nested = {f"encoder.tower.{k}": v for k, v in gpt2_tower.state_dict().items()}
    torch.save({"state_dict": nested}, tmp_path / "last.ckpt")
    encoder = ClapTextEncoder(tiny_text("gpt2"), pretrained=str(tmp_path / "last.ckpt")).eval()
    assert encoder.is_fitted
    gpt2_tower.eval()
    with torch.no_grad():
        assert torch.allclose(encoder({"caption": CAPTIONS}), gpt2_tower.embed(CAPTIONS), atol=1e-6)


def test_real_laion_clap_state_dict_loads_and_matches_laion(tmp_path: Path) -> None:
    """laion's own CLAP (HTSAT-tiny audio, a 1-layer "transformer" text branch) → our towers, same embeddings."""
    from laion_clap.clap_module.model import CLAP
    from laion_clap.clap_module.tokenizer import tokenize

    audio_cfg = {"model_type": "HTSAT", "model_name": "tiny", "sample_rate": SR, "audio_length": 1024,
                 "window_size": 1024, "hop_size": 480, "fmin": 50, "fmax": 14000, "class_num": 527, "mel_bins": 64,
                 "clip_samples": 480000}
    text_cfg = {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1,
                "model_type": "transformer"}
    torch.manual_seed(1)
    clap = CLAP(768, audio_cfg, text_cfg, joint_embed_shape=64).eval()
    torch.save({"state_dict": {f"module.{k}": v for k, v in clap.state_dict().items()}}, tmp_path / "laion.pt")
    audio = ClapAudioEncoder(ClapAudioTower("tiny", joint_dim=64), pretrained=str(tmp_path / "laion.pt")).eval()
    text_tower = ClapTextTower("transformer", joint_dim=64, n_layer=1, n_head=2, n_embd=32)
    text = ClapTextEncoder(text_tower, pretrained=str(tmp_path / "laion.pt")).eval()
    wave = torch.randn(1, 480000) * 0.1
    with torch.no_grad():
        laion_branch = clap.encode_audio({"waveform": wave}, None)["embedding"]
        laion_audio = F.normalize(clap.audio_projection(laion_branch), dim=-1)
        laion_text = F.normalize(clap.encode_text(tokenize(CAPTIONS[:3]), None), dim=-1)
        assert torch.allclose(audio({"audio_48k": wave}), laion_audio, atol=1e-5)
        assert torch.allclose(text({"caption": CAPTIONS[:3]}), laion_text, atol=1e-5)


def test_wrong_checkpoints_give_clear_errors(audio_tower: ClapAudioTower, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="nowhere.pt' not found"):
        load_laion_weights(audio_tower, tmp_path / "nowhere.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="Cannot read CLAP checkpoint '.*junk.pt'"):
        load_laion_weights(audio_tower, tmp_path / "junk.pt")
    torch.save(laion_format(tiny_audio(joint_dim=16)), tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"other.pt' does not fit.*audio_projection.0.weight \(16, 128\)"):
        load_laion_weights(audio_tower, tmp_path / "other.pt")
    state = laion_format(audio_tower)
    del state["module.audio_branch.bn0.weight"]
    torch.save(state, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match="missing keys: audio_branch.bn0.weight"):
        load_laion_weights(audio_tower, tmp_path / "partial.pt")
    torch.save(laion_format(audio_tower), tmp_path / "audio_only.pt")
    with pytest.raises(CheckpointError, match="no ClapTextTower weights"):
        load_laion_weights(tiny_text("transformer"), tmp_path / "audio_only.pt")


def test_configs_instantiate_tiny_encoders() -> None:
    audio_cfg = OmegaConf.load(CONFIG_DIR / "encoder" / "clap_audio.yaml")
    text_cfg = OmegaConf.load(CONFIG_DIR / "encoder" / "clap_text.yaml")
    assert audio_cfg.tower.preset == "tiny" and text_cfg.tower.backbone == "gpt2"
    audio = instantiate(OmegaConf.merge(audio_cfg, {"tower": TINY_AUDIO}))
    text = instantiate(OmegaConf.merge(text_cfg, {"tower": {**TINY_TEXT, "vocab_size": 400}}))
    assert isinstance(audio, ClapAudioEncoder) and isinstance(text, ClapTextEncoder)
    text.fit_to_data(CAPTIONS)
    with torch.no_grad():
        assert audio({"audio_48k": torch.randn(2, 1, 9600)}).shape == (2, 32)
        assert text({"caption": CAPTIONS[:2]}).shape == (2, 32)


def test_hugging_face_stays_offline_when_lightning_is_imported_first() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    check = "import lightning, vocalgen, huggingface_hub.constants as c; assert c.HF_HUB_OFFLINE, 'online'"
    subprocess.run([sys.executable, "-c", check], env=env, check=True, timeout=120)
