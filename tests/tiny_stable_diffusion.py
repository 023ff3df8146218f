"""A tiny Stable Diffusion folder for tests, as `StableDiffusionPipeline.save_pretrained` writes it: a VAE with
d = 2, a 16-wide CLIP text model with a letters-only vocabulary, a two-level cross-attention UNet and DDIM."""

import json
from pathlib import Path

import torch

LETTERS = "abcdefghijklmnopqrstuvwxyz"
TEXT = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
        "context_length": 12}


def clip_vocabulary() -> dict[str, int]:
    """A tiny CLIP vocabulary: the two special tokens, then each letter alone and at a word's end."""
    vocabulary = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for letter in LETTERS:
        vocabulary[letter] = len(vocabulary)
        vocabulary[letter + "</w>"] = len(vocabulary)
    return vocabulary


def text_sizes() -> dict[str, int]:
    """The ClipTextEncoder arguments of the folder's text encoder."""
    return {**TEXT, "vocab_size": len(clip_vocabulary())}


def save_tiny_stable_diffusion(root: Path) -> Path:
    """Write the tiny pipeline (seeded) under `root`/sd and return that folder."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocabulary = clip_vocabulary()
    (root / "vocab.json").write_text(json.dumps(vocabulary))
    (root / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(vocab=str(root / "vocab.json"), merges=str(root / "merges.txt"),
                              model_max_length=TEXT["context_length"])
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(vocabulary), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        max_position_embeddings=TEXT["context_length"], bos_token_id=0, eos_token_id=1, pad_token_id=1))
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=[8, 16],
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        layers_per_block=1, norm_num_groups=4)
    unet = UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4, block_out_channels=[8, 16],
                                layers_per_block=1, down_block_types=["CrossAttnDownBlock2D", "DownBlock2D"],
                                up_block_types=["UpBlock2D", "CrossAttnUpBlock2D"], cross_attention_dim=16,
                                attention_head_dim=4, norm_num_groups=4)
    pipeline = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                       scheduler=DDIMScheduler(clip_sample=False, steps_offset=1), safety_checker=None,
                                       feature_extractor=None, requires_safety_checker=False)
    pipeline.save_pretrained(root / "sd")
    return root / "sd"
