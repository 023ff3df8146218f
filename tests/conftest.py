"""Shared fixtures: a tiny synthetic dataset, tiny-model overrides, config composition, CLI runs."""

import importlib
import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from vocalgen.config import CONFIG_DIR, PROJECT_ROOT, register_resolvers
from vocalgen.data.synthetic import ensure_synthetic_dataset

register_resolvers()
torch.set_num_threads(1)  # tiny models run fastest on one thread, and CI shares its 2 cores

TINY_DATA = {"seed": 0, "n_classes": 16, "sounds_per_class": 1, "imitations_per_sound": 3, "max_seconds": 2.0}


COMMON_TINY = [
    "data.batch_size=4",
    "epochs=1",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "trainer.log_every_n_steps=1",
]
TINY_MOBILENET = ["data.fields.imitation.seconds=1.0", "encoder.backbone.width_mult=0.1"]
TINY_HTSAT = ["encoder.tower.embed_dim=16", "encoder.tower.depths=[1,1,1,1]", "encoder.tower.num_heads=[1,2,4,8]",
              "encoder.tower.window_size=4", "encoder.tower.spec_size=128", "encoder.tower.clip_samples=48000",
              "encoder.tower.num_classes=8", "encoder.tower.joint_dim=32"]
TINY_GPT2 = ["generator.tower.tower.n_layer=1", "generator.tower.tower.n_head=2", "generator.tower.tower.n_embd=32",
             "generator.tower.tower.vocab_size=300", "generator.tower.tower.joint_dim=32"]
TINY_UNET = ["data.fields.audio_16k.samples=10240", "generator.unet.block_out_channels=[8,16]",
             "generator.unet.layers_per_block=1", "generator.unet.down_block_types=[DownBlock2D,AttnDownBlock2D]",
             "generator.unet.up_block_types=[AttnUpBlock2D,UpBlock2D]", "generator.unet.attention_head_dim=8",
             "generator.unet.norm_num_groups=4", "sampling.steps=3"]
TINY_SCENES = ["data.synthetic.n_items=20", "data.synthetic.image_size=32", "data.synthetic.seconds=1.0",
               "data.synthetic.val_fraction=0.2", "data.synthetic.test_fraction=0.2"]
TINY_IMAGE_LDM = ["encoder.vocab_size=300", "encoder.hidden_size=16", "encoder.intermediate_size=32",
                  "encoder.num_hidden_layers=1", "encoder.num_attention_heads=2", "encoder.context_length=12",
                  "generator.unet.block_out_channels=[8,16]", "generator.unet.layers_per_block=1",
                  "generator.unet.down_block_types=[CrossAttnDownBlock2D,DownBlock2D]",
                  "generator.unet.up_block_types=[UpBlock2D,CrossAttnUpBlock2D]", "generator.unet.attention_head_dim=4",
                  "generator.unet.norm_num_groups=4", "sampling.steps=2"]
TINY_QVAE_DATA = ["data.fields.imitation.seconds=1.0", "data.fields.audio.samples=2187",
                  "loss.terms.stft.windows=[256,512]", "loss.terms.mel.n_ffts=[512]", "loss.terms.mel.hops=[128]",
                  "loss.terms.mel.n_mels=40", "callbacks.samples.n_examples=2"]
EXPERIMENT_TINY = {
    "qvae_cpu": [*TINY_QVAE_DATA, "encoder.encoders.latent.backbone.width_mult=0.1", "adapter.adapter.latent_dim=16",
                 "adapter.adapter.in_channels=384", "adapter.adapter.frames=4",   # 96 channels × 4 rows, 1 s
                 "data.fields.imitation_pitch.samples=4000", "generator.hop=64", "generator.seed_channels=8",
                 "generator.dim=16", "generator.intermediate_dim=32", "generator.num_layers=1", "generator.harmonics=8",
                 "generator.noise_bands=9"],
    "qvae": [*TINY_QVAE_DATA, *TINY_MOBILENET[1:], "adapter.in_dim=96", "adapter.latent_dim=16",
             "generator.channels=[16,16,8,8,8,4,4]", "generator.projection=[4]"],
    "qvim_cpu": [*TINY_MOBILENET, "encoder.augment.time_mask=20", "encoder.augment.max_shift=10"],
    "clap_cpu": ["data.fields.audio_48k.samples=48000", *TINY_HTSAT, *TINY_GPT2],
    "qvim_clap_align": ["adapter.in_dim=96", "adapter.hidden_dim=32"],
    "mel_vae": ["data.fields.audio_16k.samples=10240", "generator.vae.base_channels=8", "generator.vae.norm_groups=4",
                "generator.vae.layers_per_block=1"],
    "vocoder": ["data.fields.audio_16k.samples=10240", "generator.upsample_initial_channel=32",
                "generator.resblock_kernel_sizes=[3]", "generator.resblock_dilation_sizes=[[1]]",
                "generator.segment=4000",
                "adversarial.start_step=1", "adversarial.discriminator.discriminators.periods.periods=[2,3]",
                "adversarial.discriminator.discriminators.periods.channels=[4,8,8]",
                "adversarial.discriminator.discriminators.scales.channels=[4,4,8,8,8,8,8]",
                "adversarial.discriminator.discriminators.scales.groups=[1,2,4,4,4,4,1]"],
    "vocos": ["data.fields.audio_16k.samples=10240", "generator.dim=16", "generator.intermediate_dim=32",
              "generator.num_layers=1", "generator.segment=4000"],
    "image_vae": ["generator.vae.base_channels=8", "generator.vae.norm_groups=4", "generator.vae.layers_per_block=1"],
    "image_ldm": TINY_IMAGE_LDM,
    "clap2diffusion_projector": ["adapter.tokens.num_layers=1", "adapter.tokens.num_heads=2",
                                 "adapter.tokens.hidden_dim=16"],
    "clap2diffusion_adapters": ["generator.audio_attention.heads=2", "sampling.steps=2"],
    "clap2diffusion_finetune": [],
    "audioldm_refined": TINY_UNET,
    "audioldm": TINY_UNET,
    "qvim_ldm": [],
}


def tiny_overrides(output_dir: Path, data_root: Path, run_dir: bool = True,
                   experiment: str | None = "qvae_cpu") -> list[str]:
    """Overrides that shrink `experiment` (a key of EXPERIMENT_TINY) to seconds: tiny towers and
    decoders, 1 s clips, 3 training batches (experiment None: only the data, paths and trainer
    settings). `run_dir=False` leaves paths.run_dir to Hydra."""
    synthetic = ",".join(f"{k}:{v}" for k, v in TINY_DATA.items())
    return [
        f"paths.output_dir={output_dir}",
        *([f"paths.run_dir={output_dir}/run"] if run_dir else []),
        f"data.root={data_root}",
        f"data.synthetic={{{synthetic}}}",
        *COMMON_TINY,
        *(EXPERIMENT_TINY[experiment] if experiment else []),
    ]


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny synthetic dataset (16 sounds × 3 imitations), built once per session."""
    root = tmp_path_factory.mktemp("data") / "synthetic"
    ensure_synthetic_dataset(root, **TINY_DATA)
    return root


def compose_config(config_name: str, *overrides: str) -> DictConfig:
    """The project's config `config_name` (train, run_pipeline, …) composed with `overrides`."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name, list(overrides))


@pytest.fixture
def tiny_cfg(tmp_path: Path, data_root: Path):
    """compose(*extra, experiment=…) → the tiny config of `experiment` with `extra` overrides last."""

    def make(*extra: str, experiment: str = "qvae_cpu") -> DictConfig:
        overrides = tiny_overrides(tmp_path, data_root, experiment=experiment)
        return compose_config("train", f"+experiment={experiment}", *overrides, *extra)

    return make


def compose_tiny(experiment: str, output_dir: Path, data_root: Path, run: str, *extra: str) -> DictConfig:
    """The tiny config of `experiment` writing under `output_dir`, its run dir `output_dir/run`."""
    overrides = tiny_overrides(output_dir, data_root, experiment=experiment)
    return compose_config("train", f"+experiment={experiment}", *overrides, f"paths.run_dir={output_dir}/{run}",
                          *extra)


def run_cli(module: str, args: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `python -m module args…` in a new interpreter from the project root; returns the finished
    process. Only for what needs its own process (DDP relaunches its command, import-order checks):
    a new interpreter spends about 13 s importing Lightning on the 2 cores here before it does anything."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@dataclass(frozen=True)
class Finished:
    """What a command left: its exit status and what it printed (children's output is not in it)."""

    returncode: int
    stdout: str
    stderr: str


def run_main(module: str, args: list[str]) -> Finished:
    """`python -m module args…` in this process: the module's Hydra `main` with sys.argv set, so the
    command line is parsed, composed, run and its errors reported exactly as from a shell (exit status
    included), without a new interpreter's imports. Hydra's global state is set aside while it runs and
    put back after, so that a command can also run inside another one's Hydra job."""
    imported = importlib.import_module(module)
    main = getattr(imported, "main", None) or importlib.import_module(f"{module}.__main__").main
    stdout, stderr = io.StringIO(), io.StringIO()
    returncode = 0
    outer_hydra, outer_config = GlobalHydra.instance().hydra, HydraConfig.instance().cfg
    GlobalHydra.instance().clear()
    with patch.object(sys, "argv", [module, *args]), redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            main()
        except SystemExit as exit_:
            returncode = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            GlobalHydra.instance().hydra, HydraConfig.instance().cfg = outer_hydra, outer_config
    return Finished(returncode, stdout.getvalue(), stderr.getvalue())


def mlflow_client(output_dir: Path):
    from mlflow.tracking import MlflowClient

    from vocalgen.tracking import store_uri

    return MlflowClient(store_uri(output_dir / "mlflow"))


def all_runs(output_dir: Path) -> list:
    client = mlflow_client(output_dir)
    return client.search_runs([e.experiment_id for e in client.search_experiments()])
