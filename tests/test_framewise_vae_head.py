"""The frame-wise VAE head keeps the imitation's timing in the latent (qvae_cpu's adapter)."""

import pytest
import torch

from vocalgen.adapters.framewise_vae_head import FramewiseVAEHead
from vocalgen.encoders.mobilenet_v3 import MobileNetV3
from vocalgen.errors import ConfigError


def test_each_latent_block_sees_only_its_own_frame() -> None:
    head = FramewiseVAEHead(in_channels=6, frames=5, latent_dim=20).eval()   # C=3, F'=2: 4 dimensions a frame
    features = torch.randn(2, 3, 2, 5)
    base = head(features)["condition"]
    changed = features.clone()
    changed[..., 3] += 1.0
    moved = head(changed)["condition"]
    assert base.shape == (2, 20)
    assert torch.equal(base[:, :12], moved[:, :12]) and torch.equal(base[:, 16:], moved[:, 16:])
    assert not torch.allclose(base[:, 12:16], moved[:, 12:16])


def test_samples_in_training_and_gives_the_mean_in_eval() -> None:
    head = FramewiseVAEHead(in_channels=6, frames=5, latent_dim=20)
    features = torch.randn(2, 3, 2, 5)
    out = head(features)
    assert out["mu"].shape == out["logvar"].shape == (2, 20)
    assert not torch.equal(out["condition"], out["mu"])
    head.eval()
    assert torch.equal(head(features)["condition"], head(features)["mu"])


def test_bad_shapes_name_the_key_to_set() -> None:
    with pytest.raises(ConfigError, match="latent_dim=21 must be a multiple of adapter.frames=5"):
        FramewiseVAEHead(in_channels=6, frames=5, latent_dim=21)
    head = FramewiseVAEHead(in_channels=6, frames=5, latent_dim=20)
    with pytest.raises(ConfigError, match="encoder.backbone.pool=false"):
        head(torch.randn(2, 6))
    with pytest.raises(ConfigError, match="6 features in 5 frames but the encoder gives 6 in 7"):
        head(torch.randn(2, 3, 2, 7))


def test_unpooled_mobilenet_gives_the_map_the_head_expects() -> None:
    spectrogram = torch.randn(1, 1, 128, 401)            # 4 s of 128-band log-mel at 100 frames/s
    unpooled = MobileNetV3(width_mult=0.25, pool=False, init_seed=0).eval()
    pooled = MobileNetV3(width_mult=0.25, init_seed=0).eval()
    features = unpooled(spectrogram)
    assert features.shape == (1, unpooled.out_dim, 4, 13)
    torch.testing.assert_close(pooled(spectrogram), features.mean(dim=(2, 3)))
