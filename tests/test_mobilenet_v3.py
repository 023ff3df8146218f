"""MobileNetV3 (EfficientAT mn10 layout) and loading of EfficientAT-keyed state dicts."""

from pathlib import Path

import pytest
import torch

from vocalgen.encoders.efficientat_weights import load_efficientat_weights
from vocalgen.encoders.mobilenet_v3 import MobileNetV3, make_divisible

TINY = 0.2


def _efficientat_state_dict(model: MobileNetV3, n_classes: int = 527) -> dict[str, torch.Tensor]:
    """A state dict keyed like an EfficientAT checkpoint: features of `model` plus an mlp classifier head."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["classifier.2.weight"] = torch.randn(1280, model.out_dim)
    state["classifier.2.bias"] = torch.randn(1280)
    state["classifier.5.weight"] = torch.randn(n_classes, 1280)
    state["classifier.5.bias"] = torch.randn(n_classes)
    return state


def test_make_divisible_matches_efficientat_rounding() -> None:
    assert [make_divisible(c) for c in (16, 960, 160 * 0.1, 72 * 0.5, 960 * 0.2)] == [16, 960, 16, 40, 192]


def test_full_width_shape_params_and_key_names() -> None:
    model = MobileNetV3().eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, 128, 100))
    assert model.out_dim == 960
    assert out.shape == (2, 960)
    n_params = sum(p.numel() for p in model.parameters())
    assert 2.9e6 < n_params < 3.05e6  # EfficientAT's 4.88 M minus its 960-1280-527 mlp head (1.91 M)
    keys = model.state_dict()
    assert keys["features.0.0.weight"].shape == (16, 1, 3, 3)
    assert keys["features.4.block.2.conc_se_layers.0.fc1.weight"].shape == (24, 72)
    assert keys["features.16.0.weight"].shape == (960, 160, 1, 1)
    assert len(model.features) == 17


@pytest.mark.parametrize(("n_mels", "n_frames"), [(128, 33), (32, 101), (64, 257)])
def test_tiny_width_odd_sizes(n_mels: int, n_frames: int) -> None:
    model = MobileNetV3(width_mult=TINY).eval()
    with torch.no_grad():
        fmap = model.forward_features(torch.randn(3, 1, n_mels, n_frames))
        out = model(torch.randn(3, 1, n_mels, n_frames))
    assert fmap.shape == (3, model.out_dim, -(-n_mels // 32), -(-n_frames // 32))
    assert out.shape == (3, model.out_dim) and torch.isfinite(out).all()


def test_options_change_layout() -> None:
    assert MobileNetV3(width_mult=TINY, reduced_tail=True).out_dim == 6 * make_divisible(80 * TINY)
    no_se = MobileNetV3(width_mult=TINY, use_se=False)
    assert not any("conc_se_layers" in k for k in no_se.state_dict())
    assert no_se(torch.randn(1, 1, 32, 40)).shape == (1, no_se.out_dim)


def test_gradients_flow() -> None:
    model = MobileNetV3(width_mult=TINY)
    x = torch.randn(2, 1, 64, 77, requires_grad=True)
    model(x).pow(2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.parameters())


def test_load_efficientat_state_dict_strictly(tmp_path: Path) -> None:
    source, target = MobileNetV3(width_mult=TINY), MobileNetV3(width_mult=TINY)
    with torch.no_grad():
        for buf in source.buffers():
            buf.add_(1)
    state = _efficientat_state_dict(source)
    path = tmp_path / "mn_as.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    load_efficientat_weights(target, path)
    for key, value in target.state_dict().items():
        assert torch.equal(value, state[key]), key
    source.eval(), target.eval()
    x = torch.randn(2, 1, 64, 50)
    with torch.no_grad():
        assert torch.allclose(source(x), target(x))


def test_num_batches_tracked_may_be_absent(tmp_path: Path) -> None:
    state = _efficientat_state_dict(MobileNetV3(width_mult=TINY))
    path = tmp_path / "mn.pt"
    torch.save({k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}, path)
    load_efficientat_weights(MobileNetV3(width_mult=TINY), path)


def test_missing_key_is_named(tmp_path: Path) -> None:
    state = _efficientat_state_dict(MobileNetV3(width_mult=TINY))
    del state["features.7.block.1.0.weight"]
    path = tmp_path / "missing.pt"
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"missing keys: features\.7\.block\.1\.0\.weight"):
        load_efficientat_weights(MobileNetV3(width_mult=TINY), path)


def test_unexpected_key_is_named(tmp_path: Path) -> None:
    state = _efficientat_state_dict(MobileNetV3(width_mult=TINY))
    state["features.4.block.2.conc_se_layers.1.fc1.weight"] = torch.zeros(8, 8)
    path = tmp_path / "extra.pt"
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"unexpected keys: features\.4\.block\.2\.conc_se_layers\.1"):
        load_efficientat_weights(MobileNetV3(width_mult=TINY), path)


def test_width_mismatch_names_key_and_shapes(tmp_path: Path) -> None:
    path = tmp_path / "wide.pt"
    torch.save(_efficientat_state_dict(MobileNetV3(width_mult=1.0)), path)
    with pytest.raises(
        ValueError, match=r"'features\.0\.0\.weight' has shape \(16, 1, 3, 3\).*\(8, 1, 3, 3\)"
    ):
        load_efficientat_weights(MobileNetV3(width_mult=TINY), path)


def test_missing_file_names_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "mn10_as.pt"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_efficientat_weights(MobileNetV3(width_mult=TINY), path)


def test_not_a_state_dict(tmp_path: Path) -> None:
    path = tmp_path / "list.pt"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(ValueError, match="not a state dict"):
        load_efficientat_weights(MobileNetV3(width_mult=TINY), path)
