"""Named conditions routed to a UNet2DConditionModel's paths: cross-attention tokens and FiLM vectors."""

import pytest
import torch
from diffusers import UNet2DConditionModel

from vocalgen.errors import ConfigError
from vocalgen.generators.condition_routing import ConditionRouting


def tiny_unet(film: bool = True, cross_attention: bool = True) -> UNet2DConditionModel:
    down = ["CrossAttnDownBlock2D" if cross_attention else "DownBlock2D", "DownBlock2D"]
    up = ["UpBlock2D", "CrossAttnUpBlock2D" if cross_attention else "UpBlock2D"]
    return UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=(8, 16), layers_per_block=1,
        down_block_types=down, up_block_types=up, norm_num_groups=4, attention_head_dim=4,
        mid_block_type="UNetMidBlock2DCrossAttn" if cross_attention else "UNetMidBlock2D", cross_attention_dim=6,
        class_embed_type="simple_projection" if film else None, projection_class_embeddings_input_dim=5,
    )


def test_named_conditions_reach_the_paths_the_routes_name_and_tokens_concatenate_in_route_order() -> None:
    routing = ConditionRouting(tiny_unet(), {"text": "cross_attention", "audio": "cross_attention", "clap": "film"})
    conditions = {"text": torch.randn(2, 7, 6), "audio": torch.randn(2, 6), "clap": torch.randn(2, 5)}
    inputs = routing.unet_inputs(routing.check(conditions))
    assert torch.equal(inputs["encoder_hidden_states"][:, :7], conditions["text"])
    assert torch.equal(inputs["encoder_hidden_states"][:, 7], conditions["audio"])  # a vector is one token
    assert torch.equal(inputs["class_labels"], conditions["clap"])
    unet = tiny_unet()
    out = unet(torch.randn(2, 4, 8, 8), torch.tensor([1, 2]), **inputs).sample
    assert out.shape == (2, 4, 8, 8)


def test_without_routes_one_condition_goes_to_every_path_the_unet_has() -> None:
    film_only = ConditionRouting(tiny_unet(cross_attention=False))
    assert film_only.routes == {"condition": ["film"]}
    both = ConditionRouting(tiny_unet())
    assert both.routes == {"condition": ["cross_attention", "film"]}


@pytest.mark.parametrize(("routes", "conditions", "says"), [
    ({"text": "cross_attention"}, {"audio": torch.randn(2, 6)}, "encoder gives ['audio']"),
    ({"text": "cross_attention"}, {"text": torch.randn(2, 3, 7)}, "cross_attention_dim=6"),
    ({"clap": "film"}, {"clap": torch.randn(2, 3, 5)}, "takes vectors"),
])
def test_a_condition_the_unet_cannot_take_is_refused_naming_it(routes: dict, conditions: dict, says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("[", r"\[").replace("]", r"\]")):
        ConditionRouting(tiny_unet(), routes).check(conditions)


def test_a_route_to_a_path_the_unet_lacks_or_to_no_known_path_is_refused() -> None:
    with pytest.raises(ConfigError, match="no such path"):
        ConditionRouting(tiny_unet(film=False), {"clap": "film"})
    with pytest.raises(ConfigError, match="one or more of"):
        ConditionRouting(tiny_unet(), {"clap": "time"})
