"""The speed options of a config (vocalgen/speedups.py): channels_last stores the convolution weights
channels-last without changing the result or the checkpoint's keys; depthwise_fp32 keeps depthwise
convolutions and attention_fp32 diffusers attention out of bf16 autocast; compile=true compiles the named parts."""

import torch
from omegaconf import OmegaConf
from torch import nn

from vocalgen.attention_fp32 import Fp32AttnProcessor
from vocalgen.depthwise_fp32 import Fp32DepthwiseConv2d, keep_depthwise_fp32
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


def test_depthwise_fp32_keeps_depthwise_convolutions_out_of_bf16_autocast_and_the_keys() -> None:
    def inverted_block() -> nn.Module:                             # dense, depthwise, pointwise
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 8, 3, groups=8), nn.Conv2d(8, 4, 1))

    model, plain = inverted_block(), inverted_block()
    assert apply_speedups(model, OmegaConf.create({"depthwise_fp32": True})) == ["depthwise_fp32: 1 convolutions"]
    assert [type(conv) for conv in model] == [nn.Conv2d, Fp32DepthwiseConv2d, nn.Conv2d]
    outputs = []
    for conv in model:
        conv.register_forward_hook(lambda module, args, out: outputs.append(out.dtype))
    x = torch.randn(2, 1, 16, 12)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = model(x)
    assert outputs == [torch.bfloat16, torch.float32, torch.bfloat16]
    torch.testing.assert_close(y.float(), plain(x), rtol=0.05, atol=0.05)
    assert list(plain.state_dict()) == list(model.state_dict())
    plain.load_state_dict(model.state_dict())


def test_keep_depthwise_fp32_swaps_only_depthwise_convolutions() -> None:
    grouped = nn.Sequential(nn.Conv2d(8, 8, 3, groups=8), nn.Conv2d(8, 8, 3, groups=2), nn.Conv2d(1, 1, 3))
    assert keep_depthwise_fp32(grouped) == 1
    assert [type(conv) for conv in grouped] == [Fp32DepthwiseConv2d, nn.Conv2d, nn.Conv2d]


def test_attention_fp32_runs_default_attention_outside_autocast_and_leaves_custom_processors() -> None:
    from diffusers.models.attention_processor import Attention, AttnProcessor

    torch.manual_seed(0)
    model = nn.ModuleDict({"self": Attention(16, heads=2, dim_head=8), "custom": Attention(16, heads=2, dim_head=8)})
    model["custom"].set_processor(AttnProcessor())               # set on purpose by a system: kept
    plain = {name: attention.processor for name, attention in model.items()}
    x = torch.randn(2, 5, 16)
    reference = model["self"](x)
    assert apply_speedups(model, OmegaConf.create({"attention_fp32": True})) == ["attention_fp32: 1 attention layers"]
    assert isinstance(model["self"].processor, Fp32AttnProcessor) and model["custom"].processor is plain["custom"]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        kept, mixed = model["self"](x), model["custom"](x)
    assert kept.dtype == torch.float32 and mixed.dtype == torch.bfloat16
    torch.testing.assert_close(kept, reference)


def test_every_speed_option_is_a_train_config_key_off_by_default() -> None:
    from vocalgen.config import CONFIG_DIR
    from vocalgen.speedups import SPEED_OPTIONS

    train = OmegaConf.load(CONFIG_DIR / "train.yaml")             # the plain step switches these off by name
    assert all(train[option] is False for option in SPEED_OPTIONS) and train.compile is False
