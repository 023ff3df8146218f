"""A local Stable Diffusion 1.x folder standing in for a trained text → image stage (CLAP2Diffusion's stage 0):
the config of a stage whose parts load from the folder, shaped as an image_ldm checkpoint's config, so that a
later stage references it as it references a trained one (vocalgen.stages: `image_ldm_checkpoint=/path/to/sd`)."""

from pathlib import Path
from typing import Any

from vocalgen.encoders.clip_text import clip_text_arguments
from vocalgen.pretransforms.image_vae import vae_arguments
from vocalgen.stable_diffusion_folder import check_stable_diffusion_folder, read_component_config

STABLE_DIFFUSION_KIND = "stable_diffusion"
IMAGE_SIZE = "${data.fields.image.size}"  # resolved in the later stage's config: the size of its pictures
SCHEDULE_KEYS = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "prediction_type")
SAMPLING = {"steps": 50, "guidance": 7.5}  # Stable Diffusion's usual DDIM steps and text guidance


def is_stable_diffusion_folder(reference: str | Path) -> bool:
    """Whether a stage reference names a folder with model_index.json (checked in full when it is read)."""
    return (Path(reference).expanduser() / "model_index.json").is_file()


def stable_diffusion_stage_config(folder: str | Path) -> dict[str, Any]:
    """The config of a text → image stage made of `folder`'s parts (the folder checked first):

    - encoder: a ClipTextEncoder of text_encoder/ and tokenizer/ (tokens [B, L, D] for cross-attention);
    - generator: LatentDiffusion with the UNet of unet/ over the latents of vae/ (ImageLatentPretransform,
      scaled by the VAE's scaling_factor, so latent_scale is 1: the scale Stable Diffusion's UNet was trained
      at), the noise schedule of scheduler/, the text tokens routed to cross-attention;
    - sampling: 50 DDIM steps at text guidance 7.5.

    Every part keeps `pretrained` = the folder: it is loaded from there when a later stage is built, and
    rebuilt from its arguments when that stage's checkpoint is reloaded (vocalgen.checkpoints)."""
    path = str(check_stable_diffusion_folder(folder))
    scheduler = read_component_config(path, "scheduler", "scheduler_config.json")
    return {
        "stage_kind": STABLE_DIFFUSION_KIND,
        "experiment_name": STABLE_DIFFUSION_KIND,
        "encoder": {"_target_": "vocalgen.encoders.clip_text.ClipTextEncoder", "pretrained": path, "field": "caption",
                    **clip_text_arguments(read_component_config(path, "text_encoder"))},
        "generator": {
            "_target_": "vocalgen.generators.latent_diffusion.LatentDiffusion",
            "target_field": "image",
            "item_shape": [3, IMAGE_SIZE, IMAGE_SIZE],
            "condition_dropout": 0.1,
            "latent_scale": 1.0,
            "routes": {"condition": "cross_attention"},
            "schedule": {"_target_": "vocalgen.generators.noise_schedule.NoiseSchedule",
                         **{key: scheduler[key] for key in SCHEDULE_KEYS if key in scheduler}},
            "pretransform": {"_target_": "vocalgen.pretransforms.image_latent.ImageLatentPretransform",
                             "vae": {"_target_": "vocalgen.pretransforms.image_vae.ImageVAE", "pretrained": path,
                                     **vae_arguments(read_component_config(path, "vae"))},
                             "image_size": IMAGE_SIZE},
            "unet": {"_target_": "vocalgen.stable_diffusion_folder.build_unet", "_convert_": "all", "pretrained": path,
                     **read_component_config(path, "unet")},
        },
        "sampling": dict(SAMPLING),
    }
