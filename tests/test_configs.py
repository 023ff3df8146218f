"""Every experiment composes and instantiates; unknown keys fail naming the key."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from hydra.utils import instantiate

from tests.conftest import run_main
from vocalgen.config import CONFIG_DIR, merge_sampling
from vocalgen.interfaces import Adapter, Encoder, Generator, Loss
from vocalgen.module import VocalGenModule, build_module

# these need earlier stages' checkpoints: tests/test_clap_align.py and tests/test_latent_diffusion.py build them
STAGED = {"qvim_clap_align", "audioldm", "audioldm_refined", "qvim_ldm", "iadb_bpm", "iadb_clap", "iadb_bpm_clap",
          "iadb_unconditional", "image_ldm", "clap2diffusion_projector", "clap2diffusion_adapters",
          "clap2diffusion_finetune"}
STAGED |= {f"{name}_cpu" for name in STAGED}
EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml") if p.stem not in STAGED)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_composes_and_instantiates(experiment: str, tmp_path: Path) -> None:
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", [f"+experiment={experiment}", f"paths.output_dir={tmp_path}",
                                f"paths.run_dir={tmp_path}/run"])
    assert cfg.experiment_name and cfg.trainer.max_epochs == cfg.epochs
    module = build_module(cfg)
    assert isinstance(module, VocalGenModule)
    for part, kind in ((module.encoder, Encoder), (module.adapter, Adapter), (module.generator, Generator),
                       (module.loss, Loss)):
        assert isinstance(part, kind)
    datamodule = instantiate(cfg.data)
    assert datamodule.fields
    for callback in cfg.callbacks.values():
        instantiate(callback)


def test_qvae_keeps_the_recipe_sizes() -> None:
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", ["+experiment=qvae"])
    assert cfg.generator.channels == [512] + [256] * 6 + [128] * 3
    assert cfg.data.fields.imitation.seconds == 10.0 and cfg.data.batch_size == 32
    assert cfg.optimizer.lr == 8e-4 and list(cfg.optimizer.betas) == [0.95, 0.999]
    assert cfg.trainer.gradient_clip_val == 2.0
    assert cfg.loss.weights == {"stft": 1.0, "mel": 1.5, "l1": 1.0, "kl": cfg.loss.weights.kl}
    assert cfg.loss.weights.kl.end == 1e-4


def test_unknown_key_is_named() -> None:
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"), \
            pytest.raises(ConfigCompositionException, match="optimizer.lrr"):
        compose("train", ["+experiment=qvae", "optimizer.lrr=1e-3"])


def test_cli_reports_unknown_key_and_missing_checkpoint(tmp_path: Path) -> None:
    unknown = run_main("vocalgen.train", ["+experiment=qvae_cpu", "optimizer.lrr=1e-3",
                                         f"paths.output_dir={tmp_path}"])
    assert unknown.returncode == 2 and "optimizer.lrr" in unknown.stderr and "Traceback" not in unknown.stderr
    no_option = run_main("vocalgen.train", ["+experiment=no_such_system", f"paths.output_dir={tmp_path}"])
    assert no_option.returncode == 2 and "no_such_system" in no_option.stderr
    missing = run_main("vocalgen.train", ["+experiment=qvae_cpu", f"ckpt_path={tmp_path}/gone.ckpt",
                                         f"paths.output_dir={tmp_path}"])
    assert missing.returncode != 0 and "gone.ckpt does not exist" in missing.stderr


def test_a_guidance_override_replaces_the_checkpoints_ramp() -> None:
    ramp = {"steps": 100, "guidance": 1.0, "guidance_end": 3.0}
    assert merge_sampling(ramp, {"guidance": 0.0}) == {"steps": 100, "guidance": 0.0}
    assert merge_sampling(ramp, {"guidance": 2.0, "guidance_end": 5.0})["guidance_end"] == 5.0
    assert merge_sampling(ramp, {"steps": 10}) == {**ramp, "steps": 10}
    assert merge_sampling(None, None) == {}
