"""EncodecPretransform and EncodecAutoencoder: shapes, fingerprints and checkpoint loading (tiny models)."""

import math
from pathlib import Path

import pytest
import torch

from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.generators.encodec_autoencoder import EncodecAutoencoder
from vocalgen.pretransforms.encodec import EncodecPretransform

TINY = {"n_filters": 2, "ratios": [8, 5, 4, 2], "dimension": 8, "lstm": 0, "bins": 16, "n_q": 4}
TINY_BANDWIDTH = 0.6  # 4 bits × 75 Hz = 0.3 kbps per codebook → 2 codebooks


def tiny_pretransform(seed: int = 0, **overrides) -> EncodecPretransform:
    torch.manual_seed(seed)
    return EncodecPretransform(**{**TINY, **overrides})


@pytest.mark.parametrize("quantized", [False, True])
@pytest.mark.parametrize("samples", [320, 1000, 2400])
def test_round_trip_shapes(samples: int, quantized: bool) -> None:
    pretransform = tiny_pretransform(quantized=quantized, bandwidth=TINY_BANDWIDTH)
    latents = pretransform.encode(torch.randn(2, 1, samples))
    frames = math.ceil(samples / 320)
    assert latents.shape == (2, TINY["dimension"], frames)
    assert pretransform.decode(latents).shape == (2, 1, frames * 320)
    assert pretransform.frame_rate == 75.0 and pretransform.sample_rate == 24_000
    assert pretransform.latent_channels == TINY["dimension"]


def test_frozen_and_bad_input() -> None:
    pretransform = tiny_pretransform()
    pretransform.train()
    assert not pretransform.training and not any(p.requires_grad for p in pretransform.parameters())
    with pytest.raises(ValueError, match=r"\[B, 1, N\]"):
        pretransform.encode(torch.randn(2, 2, 640))
    with pytest.raises(ConfigError, match="pretransform.bandwidth"):
        tiny_pretransform(quantized=True, bandwidth=6.0)


def test_fingerprint_stable_and_sensitive() -> None:
    first, again = tiny_pretransform(seed=0), tiny_pretransform(seed=0)
    assert first.fingerprint == again.fingerprint == first.fingerprint
    assert len(first.fingerprint) == 16
    assert tiny_pretransform(seed=1).fingerprint != first.fingerprint
    assert tiny_pretransform(seed=0, quantized=True, bandwidth=TINY_BANDWIDTH).fingerprint != first.fingerprint
    with torch.no_grad():
        next(again.parameters()).view(-1)[0] += 1e-3
    assert again.fingerprint != first.fingerprint


@pytest.mark.filterwarnings("ignore:.*weight_norm.*:FutureWarning")
def test_published_state_dict_loads_strictly(tmp_path: Path) -> None:
    from encodec import EncodecModel

    published = EncodecModel.encodec_model_24khz(pretrained=False)
    path = tmp_path / "encodec_24khz-d7cc33bc.th"
    torch.save(published.state_dict(), path)
    pretransform = EncodecPretransform(pretrained=str(path))
    audio = torch.randn(1, 1, 640)
    with torch.no_grad():
        expected = published.encoder(audio)
    assert torch.allclose(pretransform.encode(audio), expected, atol=1e-5) and expected.shape == (1, 128, 2)
    assert torch.allclose(pretransform.decode(expected), published.decoder(expected).detach(), atol=1e-5)


def test_mismatched_or_missing_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "tiny.th"
    torch.save(tiny_pretransform().model.state_dict(), path)
    with pytest.raises(CheckpointError, match="tiny.th.*shape mismatches"):
        EncodecPretransform(pretrained=str(path), **{**TINY, "n_filters": 4})
    with pytest.raises(CheckpointError, match="tiny.th.*missing keys"):
        EncodecPretransform(pretrained=str(path), **{**TINY, "lstm": 1})
    with pytest.raises(CheckpointError, match="does not exist"):
        EncodecPretransform(pretrained=str(tmp_path / "absent.th"), **TINY)
    nested = tmp_path / "nested.ckpt"
    torch.save({"state_dict": {f"generator.model.{k}": v for k, v in torch.load(path).items()}}, nested)
    with pytest.raises(CheckpointError, match="prefix='generator.model.'"):
        EncodecPretransform(pretrained=str(nested), **TINY)
    with pytest.raises(CheckpointError, match="no key starting with 'model.'"):
        EncodecPretransform(pretrained=str(nested), prefix="model.", **TINY)


@pytest.mark.parametrize("quantized", [False, True])
def test_autoencoder_training_forward(quantized: bool) -> None:
    torch.manual_seed(0)
    autoencoder = EncodecAutoencoder(quantized=quantized, bandwidth=TINY_BANDWIDTH, **TINY).train()
    audio = torch.randn(2, 1, 1000)
    outputs = autoencoder.training_forward({"audio_24k": audio}, audio)
    assert outputs["prediction"].shape == outputs["target"].shape == (2, 1, 1000)
    assert ("commitment" in outputs) == quantized
    if quantized:
        assert outputs["commitment"].dim() == 0 and torch.isfinite(outputs["commitment"])
    outputs["prediction"].pow(2).mean().backward()
    assert autoencoder.model.encoder.model[0].conv.conv.weight_v.grad is not None
    assert autoencoder.eval().generate(audio).shape == (2, 1, 1000)
    assert autoencoder.sample_rate == 24_000 and autoencoder.target_field == "audio_24k"


def test_autoencoder_checkpoint_loads_into_pretransform(tmp_path: Path) -> None:
    torch.manual_seed(0)
    autoencoder = EncodecAutoencoder(quantized=True, bandwidth=TINY_BANDWIDTH, **TINY).train()
    autoencoder.training_forward({"audio_24k": torch.randn(2, 1, 2400)}, None)  # k-means starts the codebooks
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": {f"generator.{k}": v for k, v in autoencoder.state_dict().items()}}, path)
    pretransform = EncodecPretransform(pretrained=str(path), prefix="generator.model.", quantized=True,
                                       bandwidth=TINY_BANDWIDTH, **TINY)
    audio = torch.randn(1, 1, 960)
    with torch.no_grad():
        expected = autoencoder.eval().reconstruct(audio, learn_codebooks=False)[0]
    assert torch.allclose(pretransform.decode(pretransform.encode(audio)), expected, atol=1e-6)


def test_a_fresh_encoder_passes_its_input_on() -> None:
    """With PyTorch's default init the latents barely depended on the input and training stalled."""
    torch.manual_seed(0)
    model = EncodecAutoencoder(n_filters=4, lstm=0).model
    t = torch.arange(4800) / 24000
    clips = torch.stack([torch.sin(2 * torch.pi * 220 * t) * (t < 0.1), torch.randn(4800) * 0.1]).unsqueeze(1)
    latents = model.encoder(clips)
    assert latents.std(dim=-1).mean() > 0.05 * latents.std()  # they vary over time
    assert (latents[0] - latents[1]).abs().mean() > 0.1 * latents.abs().mean()  # and between inputs


TINY_VOCOS = {"dim": 16, "intermediate_dim": 32, "num_layers": 2}


def test_a_vocos_decoder_checkpoint_decodes_the_same_in_the_pretransform(tmp_path: Path) -> None:
    torch.manual_seed(0)
    autoencoder = EncodecAutoencoder(vocos_decoder=TINY_VOCOS, **TINY).eval()
    audio = torch.randn(2, 1, 1000)
    with torch.no_grad():
        reconstruction = autoencoder.generate(audio)
    assert reconstruction.shape == (2, 1, 1000)  # 4 frames of the 1280-point inverse STFT, cut to the input
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": {f"generator.{k}": v for k, v in autoencoder.state_dict().items()}}, path)
    pretransform = EncodecPretransform(pretrained=str(path), prefix="generator.model.", vocos_decoder=TINY_VOCOS,
                                       **TINY)
    latents = pretransform.encode(audio)
    assert pretransform.decode(latents).shape == (2, 1, latents.shape[-1] * 320)
    assert torch.allclose(pretransform.decode(latents)[..., :1000], reconstruction, atol=1e-5)
    with pytest.raises(CheckpointError, match=r"unexpected keys \['decoder\.backbone"):  # read as SEANet: named
        EncodecPretransform(pretrained=str(path), prefix="generator.model.", **TINY)
