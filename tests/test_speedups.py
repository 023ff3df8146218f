"""The speed options of a config (vocalgen/speedups.py): channels_last stores the convolution weights
channels-last without changing the result or the checkpoint's keys; compile=true compiles the named parts."""

import torch
from omegaconf import OmegaConf
from torch import nn

from vocalgen.speedups import apply_speedups


def convolutional() -> nn.Module:
    torch.manual_seed(0)
    return nn.ModuleDict({"encoder": nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                                   nn.Conv2d(8, 4, 3, stride=2, groups=4))})


def test_channels_last_stores_conv_weights_channels_last_and_computes_the_same() -> None:
    model, plain = convolutional(), convolutional()
    x = torch.randn(2, 1, 16, 12)
    assert apply_speedups(model, OmegaConf.create({"channels_last": True})) == ["channels_last"]
    weight = model["encoder"][3].weight                            # [4, 2, 3, 3]
    assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
    torch.testing.assert_close(model["encoder"](x), plain["encoder"](x), rtol=1e-4, atol=1e-5)
    plain.load_state_dict(model.state_dict())                      # a checkpoint of either loads into the other
    assert list(plain.state_dict()) == list(model.state_dict())


def test_without_options_nothing_changes_and_compile_names_its_parts() -> None:
    model = convolutional()
    assert apply_speedups(model, OmegaConf.create({"channels_last": False, "compile": False})) == []
    assert model["encoder"][3].weight.is_contiguous()
    applied = apply_speedups(model, OmegaConf.create({"compile": True, "compile_parts": ["encoder"]}))
    assert applied == ["compile: encoder"]
