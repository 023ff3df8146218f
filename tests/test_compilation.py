"""compile=true: the networks an experiment names are compiled in place, checkpoints keep their keys, and a
name that matches nothing is a ConfigError naming the model's parts."""

import pytest
import torch
from torch import nn

from vocalgen.compilation import compile_parts, compiled_module_names
from vocalgen.errors import ConfigError


class Part(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.unet = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 4))
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.unet(x))


def model() -> nn.Module:
    torch.manual_seed(0)
    return nn.ModuleDict({"encoder": Part(), "generator": Part()})


def test_names_are_matched_with_wildcards_and_the_outermost_module_wins() -> None:
    net = model()
    assert compiled_module_names(net, ["*.unet"]) == ["encoder.unet", "generator.unet"]
    assert compiled_module_names(net, ["generator", "generator.unet"]) == ["generator"]
    with pytest.raises(ConfigError, match=r"'generator.denoiser' names no module.*\['encoder', 'generator'\]"):
        compiled_module_names(net, ["generator.denoiser"])
    with pytest.raises(ConfigError, match="compile_parts is empty"):
        compile_parts(net, [])


def test_a_compiled_network_computes_the_same_and_keeps_its_state_dict_keys() -> None:
    net = model()
    x = torch.randn(3, 4)
    plain, keys = net["generator"](x), list(net.state_dict())
    assert compile_parts(net, ["generator.unet"]) == ["generator.unet"]
    compiled = net["generator"](x)
    assert list(net.state_dict()) == keys
    torch.testing.assert_close(compiled, plain, rtol=1e-5, atol=1e-6)
    compiled.sum().backward()                                  # gradients flow through the compiled graph
    assert net["generator"].unet[0].weight.grad is not None
