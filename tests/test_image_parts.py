"""The image parts of CLAP2Diffusion: the image VAE (from its sizes, from a Stable Diffusion folder, trained
as the image_vae stage and loaded back as a pretransform), the CLIP text encoder (tokenizer fitted to the
captions or the folder's) and the checks of a local Stable Diffusion folder. The folder is a tiny pipeline
saved by diffusers in the test."""

import shutil
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from bench.latent import untrained_checkpoint
from tests.conftest import COMMON_TINY, TINY_SCENES
from tests.tiny_stable_diffusion import TEXT, save_tiny_stable_diffusion, text_sizes
from vocalgen.config import CONFIG_DIR
from vocalgen.encoders.clap.bpe_tokenizer import TokenizerNotFitted
from vocalgen.encoders.clip_text import ClipTextEncoder
from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.generators.image_autoencoder import ImageVAEAutoencoder
from vocalgen.losses.reconstruction import ImageGradientL1, L1Distance
from vocalgen.outputs import ImageOutput
from vocalgen.pretransforms.image_latent import ImageLatentPretransform
from vocalgen.pretransforms.image_vae import ImageVAE
from vocalgen.stable_diffusion_folder import build_unet, check_stable_diffusion_folder, read_component_config
from vocalgen.stages import resolve_stages

VAE = {"latent_channels": 4, "base_channels": 8, "multipliers": [1, 2], "layers_per_block": 1, "norm_groups": 4}
CAPTIONS = ["a red square on a blue sky", "a green circle at night", "two birds over a yellow field",
            "rain on a grey street", "a red sun over the sea"]
SCENES = [*TINY_SCENES, "generator.vae.base_channels=8", "generator.vae.norm_groups=4"]


@pytest.fixture(scope="module")
def sd_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_stable_diffusion(tmp_path_factory.mktemp("stable_diffusion"))


def images(batch: int = 2, size: int = 16) -> torch.Tensor:
    """Smooth RGB images [batch, 3, size, size] in [-1, 1] (a fixed random colour field, upsampled)."""
    coarse = torch.rand(batch, 3, 4, 4, generator=torch.Generator().manual_seed(0)) * 2 - 1
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)


# --- the Stable Diffusion folder ------------------------------------------------------------------------


def test_vae_from_the_folder_encodes_like_diffusers_and_reloads_from_its_sizes(sd_folder: Path) -> None:
    from diffusers import AutoencoderKL

    vae = ImageVAE(**VAE, pretrained=str(sd_folder))
    pretransform = ImageLatentPretransform(vae, image_size=16)
    latents = pretransform.encode(images())
    assert latents.shape == (2, 4, 8, 8) and pretransform.latent_shape == (4, 8, 8)
    reference = AutoencoderKL.from_pretrained(sd_folder, subfolder="vae", local_files_only=True)
    assert float(vae.scaling_factor) == pytest.approx(reference.config.scaling_factor)  # 0.18215, SD's
    with torch.no_grad():
        expected = reference.encode(images()).latent_dist.mean * reference.config.scaling_factor
    assert torch.allclose(latents, expected, atol=1e-6)
    decoded = pretransform.decode(latents)
    assert decoded.shape == (2, 3, 16, 16) and decoded.abs().max() <= 1
    rebuilt = ImageVAE(**VAE)  # a checkpoint reloaded without the folder: its sizes, then its state dict
    rebuilt.load_state_dict(vae.state_dict())
    assert ImageLatentPretransform(rebuilt, 16).fingerprint == pretransform.fingerprint


def test_vae_sizes_that_differ_from_the_folder_are_named(sd_folder: Path) -> None:
    with pytest.raises(ConfigError, match=r"vae has layers_per_block=1 \(given 2\).*set those arguments"):
        ImageVAE(**{**VAE, "layers_per_block": 2}, pretrained=str(sd_folder))


def test_text_encoder_from_the_folder_tokenizes_and_encodes_like_transformers(sd_folder: Path) -> None:
    from transformers import CLIPTextModel, CLIPTokenizer

    encoder = ClipTextEncoder(pretrained=str(sd_folder), **text_sizes()).eval()
    captions = ["A red cat", "the cat sat on the mat " * 3]
    reference_tokenizer = CLIPTokenizer.from_pretrained(sd_folder, subfolder="tokenizer", local_files_only=True)
    expected_ids = reference_tokenizer(captions, padding="max_length", max_length=TEXT["context_length"],
                                       truncation=True, return_tensors="pt").input_ids
    ids, mask = encoder.tokenize(captions)
    assert torch.equal(ids, expected_ids)  # BOS, lower-cased letters, EOS, padded with EOS to 12
    assert mask[0].tolist() == [1] * 9 + [0] * 3 and mask[1].all()
    reference = CLIPTextModel.from_pretrained(sd_folder, subfolder="text_encoder", local_files_only=True)
    with torch.no_grad():
        tokens = encoder({"caption": captions})
        assert torch.allclose(tokens, reference(input_ids=expected_ids).last_hidden_state, atol=1e-5)
        assert tokens.shape == (2, 12, 16) and encoder.out_dim == 16
        rebuilt = ClipTextEncoder(**text_sizes()).eval()  # no folder: sizes, then weights and tokenizer
        rebuilt.load_state_dict(encoder.state_dict())
        assert torch.equal(rebuilt({"caption": captions}), tokens)


def test_the_unet_loads_from_the_folder_and_denoises_its_vae_latents_under_its_text_tokens(sd_folder: Path) -> None:
    unet = build_unet(str(sd_folder), **read_component_config(sd_folder, "unet"))
    encoder = ClipTextEncoder(pretrained=str(sd_folder), **text_sizes())
    latents = ImageLatentPretransform(ImageVAE(**VAE, pretrained=str(sd_folder)), 16).encode(images())
    with torch.no_grad():
        tokens = encoder({"caption": CAPTIONS[:2]})
        predicted = unet(latents, torch.tensor([10, 500]), encoder_hidden_states=tokens).sample
    assert predicted.shape == latents.shape == (2, 4, 8, 8)


@pytest.mark.parametrize(("removed", "message"), [
    ("unet", r"lacks its 'unet' component \(unet/config.json is missing\)"),
    ("vae/diffusion_pytorch_model.safetensors", r"lacks its 'vae' component \(vae/diffusion_pytorch_model"),
    ("tokenizer/tokenizer.json", r"lacks its 'tokenizer' component \(tokenizer/tokenizer.json or "
                                 r"tokenizer/vocab.json \+ merges.txt is missing\)"),
    ("model_index.json", r"has no model_index.json"),
    ("", r"does not exist"),
])
def test_a_folder_missing_a_component_names_it(sd_folder: Path, tmp_path: Path, removed: str, message: str) -> None:
    broken = tmp_path / "sd"
    if removed:
        shutil.copytree(sd_folder, broken)
        target = broken / removed
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(ConfigError, match=rf"Stable Diffusion folder {broken} .*{message}.*diffusers layout"):
        check_stable_diffusion_folder(broken)


def test_loaders_check_only_the_components_they_read(sd_folder: Path, tmp_path: Path) -> None:
    shutil.copytree(sd_folder, tmp_path / "sd")
    shutil.rmtree(tmp_path / "sd" / "unet")
    ImageVAE(**VAE, pretrained=str(tmp_path / "sd"))  # the VAE needs no UNet
    with pytest.raises(ConfigError, match="lacks its 'unet' component"):
        build_unet(str(tmp_path / "sd"))
    shutil.rmtree(tmp_path / "sd" / "tokenizer")
    with pytest.raises(ConfigError, match="lacks its 'tokenizer' component"):
        ClipTextEncoder(pretrained=str(tmp_path / "sd"), **text_sizes())


# --- from scratch ---------------------------------------------------------------------------------------


def test_image_vae_from_its_sizes_round_trips_shapes() -> None:
    vae = ImageVAE(**{**VAE, "multipliers": [1, 2, 2]})
    mean, logvar = vae.posterior(images(size=32))
    assert mean.shape == logvar.shape == (2, 4, 8, 8) and vae.downsampling == 4
    assert vae.decode(mean).shape == (2, 3, 32, 32) and float(vae.scaling_factor) == 1.0
    with pytest.raises(ConfigError, match=r"divisible by 4, got \(30, 30\)"):
        vae.posterior(images(size=30))
    with pytest.raises(ConfigError, match="multiples of norm_groups=3"):
        ImageVAE(**{**VAE, "norm_groups": 3})


def test_text_encoder_from_scratch_fits_its_tokenizer_and_keeps_it_in_the_state_dict() -> None:
    encoder = ClipTextEncoder(**TEXT, vocab_size=300).eval()
    with pytest.raises(TokenizerNotFitted, match="fit_to_data"):
        encoder({"caption": CAPTIONS})
    with pytest.raises(ConfigError, match="no captions"):
        encoder.fit_to_data(["", "  "])
    encoder.fit_to_data(CAPTIONS * 3)
    assert encoder.is_fitted and encoder.tokenizer.vocab_size <= 300
    ids, _ = encoder.tokenize(["a red square", "a very long caption " * 10])
    assert ids.shape == (2, 12) and ids[1, -1] == encoder.tokenizer.eos_id
    with torch.no_grad():
        tokens = encoder({"caption": CAPTIONS})
        assert tokens.shape == (5, 12, 16)
        fresh = ClipTextEncoder(**TEXT, vocab_size=300).eval()
        fresh.load_state_dict(encoder.state_dict())
        assert fresh.is_fitted and torch.equal(fresh({"caption": CAPTIONS}), tokens)
    with pytest.raises(ConfigError, match="raise vocab_size to at least"):
        ClipTextEncoder(**TEXT, vocab_size=260).load_state_dict(encoder.state_dict())


def test_the_image_gradient_term_sees_a_blurred_star_but_not_a_flat_offset() -> None:
    target = torch.zeros(1, 3, 16, 16)
    target[..., 7, 7] = 1.0                                   # one bright pixel: a star
    blurred = target.clone()
    blurred[..., 6:9, 6:9] = 1.0 / 9                           # the same light spread over 3 × 3
    gradient, pixel = ImageGradientL1(), L1Distance()
    shifted = target + pixel.distance(blurred, target)         # a flat offset with the blur's pixel L1
    assert float(pixel.distance(shifted, target)) == pytest.approx(float(pixel.distance(blurred, target)))
    assert float(gradient.distance(shifted, target)) == pytest.approx(0.0, abs=1e-7)
    assert float(gradient.distance(blurred, target)) > float(pixel.distance(blurred, target))


def test_image_autoencoder_loss_terms_are_finite_and_a_step_lowers_the_reconstruction_loss() -> None:
    torch.manual_seed(0)
    generator = ImageVAEAutoencoder(ImageVAE(**VAE), image_size=16)
    loss = instantiate(OmegaConf.load(CONFIG_DIR / "loss" / "image_vae.yaml"))
    batch = {"image": images(4)}

    def reconstruction() -> float:
        generator.eval()
        with torch.no_grad():
            return float(loss(generator.training_forward(batch, batch["image"]), step=0)["l1"])

    before = reconstruction()
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3)
    generator.train()
    for _ in range(3):
        terms = loss(generator.training_forward(batch, batch["image"]), step=0)
        assert all(torch.isfinite(value) for value in terms.values()) and set(terms) >= {"loss", "l1", "kl"}
        optimizer.zero_grad()
        terms["loss"].backward()
        optimizer.step()
    assert reconstruction() < before
    generated = generator.generate(batch["image"])
    assert generated.shape == (4, 3, 16, 16) and generated.abs().max() <= 1
    assert isinstance(generator.output, ImageOutput) and (generator.output.height, generator.output.width) == (16, 16)


# --- the image_vae stage --------------------------------------------------------------------------------


def scenes_overrides(out: Path) -> list[str]:
    return [f"paths.output_dir={out}", f"paths.run_dir={out}/run", f"data.root={out}/scenes", *COMMON_TINY,
            *SCENES]


def test_an_image_vae_stage_loads_as_a_pretransform_by_kind(tmp_path: Path) -> None:
    checkpoint = untrained_checkpoint("image_vae_cpu", scenes_overrides(tmp_path), tmp_path / "image_vae.ckpt")
    later = OmegaConf.create({
        "experiment_name": "later", "paths": {"mlflow_dir": str(tmp_path / "mlflow")},
        "stage_inputs": {"image_vae_checkpoint": {"kind": ["image_vae"], "made_by": "+experiment=image_vae"}},
        "image_vae_checkpoint": str(checkpoint),
        "pretransform": {"_target_": "vocalgen.pretransforms.image_latent.ImageLatentPretransform",
                         "vae": {"_stage_": "image_vae_checkpoint", "key": "generator.vae", "prefix": "generator.vae."},
                         "image_size": {"_stage_": "image_vae_checkpoint", "key": "data.fields.image.size"}},
    })
    pretransform = instantiate(resolve_stages(later).pretransform)
    state = torch.load(checkpoint, weights_only=True)["state_dict"]
    loaded = pretransform.vae.state_dict()
    assert all(torch.equal(value, state[f"generator.vae.{name}"]) for name, value in loaded.items())
    assert pretransform.latent_shape == (8, 8, 8) and pretransform.encode(images(size=32)).shape == (2, 8, 8, 8)
    later.stage_inputs.image_vae_checkpoint.kind = ["mel_vae"]
    with pytest.raises(CheckpointError, match="is a 'image_vae' stage.*needs a mel_vae"):
        resolve_stages(later)
