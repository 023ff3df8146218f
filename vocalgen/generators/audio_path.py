"""A trained text → image latent diffusion model given an audio path (CLAP2Diffusion's stage 2)."""

from collections.abc import Mapping
from typing import Any

from vocalgen.generators.condition_routing import ConditionRouting
from vocalgen.generators.gated_audio_attention import install_gated_audio_attention
from vocalgen.generators.latent_diffusion import LatentDiffusion


def with_audio_attention(base: LatentDiffusion, audio_attention: Mapping[str, Any],
                         routes: Mapping[str, str | list[str]]) -> LatentDiffusion:
    """`base` (e.g. an image_ldm stage's generator, its weights and latent scale loaded) with gated
    audio cross-attention in its UNet's cross-attention layers (`audio_attention`: the keyword
    arguments of install_gated_audio_attention) and named conditions routed by `routes`, e.g.
    {"text": cross_attention, "audio": audio_attention}. The same module, changed in place."""
    install_gated_audio_attention(base.unet, **audio_attention)
    base.routing = ConditionRouting(base.unet, routes)
    return base
