"""The α-blending loop experiments end to end on tiny loops: EnCodec, then IADB with tempo, CLAP, both
and neither; pre-encoded latents, guidance, generation from a BPM or a reference clip, tempo scoring."""

from pathlib import Path

import lightning as L
import pytest
import soundfile as sf
import torch
from hydra import compose, initialize_config_dir

from tests.conftest import COMMON_TINY, EXPERIMENT_TINY, TINY_DATA, all_runs, mlflow_client
from vocalgen.checkpoints import load_module
from vocalgen.config import CONFIG_DIR
from vocalgen.errors import ConfigError
from vocalgen.evaluate import evaluate
from vocalgen.generate import generate
from vocalgen.train import train

FRAMES = 32  # latent frames: 32 × 320 samples = 0.43 s at 24 kHz
LOOPS = "{seed:0,n_loops:16,seconds:2.0,min_bpm:70,max_bpm:180,sample_rate:24000}"
TINY_ENCODEC = ["generator.n_filters=2", "generator.dimension=16", "generator.lstm=0", "adversarial.start_step=1",
                "adversarial.discriminator.filters=4", "adversarial.discriminator.n_ffts=[256,512,128]"]
TINY_IADB = [f"generator.frames={FRAMES}", "generator.denoiser.channels=16", "generator.denoiser.base_channels=8",
             "generator.denoiser.levels=2", "generator.denoiser.embedding_dim=16", "sampling.steps=3"]


def compose_loops(experiment: str, out: Path, run: str, *extra: str):
    """`experiment` on the tiny synthetic loops, writing under `out`, run dir `out/run`."""
    overrides = [f"paths.output_dir={out}", f"paths.run_dir={out}/{run}", f"data.root={out}/loops",
                 f"data.synthetic={LOOPS}", f"data.fields.audio_24k.samples={FRAMES * 320}", "data.batch_size=4",
                 "trainer.check_val_every_n_epoch=1",
                 *COMMON_TINY]
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("train", [f"+experiment={experiment}", *overrides, *extra])


def last(out: Path, run: str) -> Path:
    return out / run / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> dict:
    """A tiny EnCodec (on loops) and a tiny CLAP (on the synthetic sounds); the output dir and links."""
    out = tmp_path_factory.mktemp("iadb")
    train(compose_loops("encodec_cpu", out, "encodec", *TINY_ENCODEC, "data.fields.beat_phase=null"))
    synthetic = ",".join(f"{k}:{v}" for k, v in TINY_DATA.items())
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        clap = compose("train", ["+experiment=clap_cpu", f"paths.output_dir={out}", f"paths.run_dir={out}/clap",
                                 f"data.root={data_root}", f"data.synthetic={{{synthetic}}}", *COMMON_TINY,
                                 *EXPERIMENT_TINY["clap_cpu"], "data.batch_size=8"])
    train(clap)
    return {"out": out, "encodec": f"encodec_checkpoint={last(out, 'encodec')}",
            "clap": f"clap_checkpoint={last(out, 'clap')}"}


class WeightsUnchangedByValidation(L.Callback):
    """Fails the run if a validation epoch changes any parameter (the published code stepped there)."""

    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        self.before = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        after = pl_module.state_dict()
        changed = [k for k, v in self.before.items() if not torch.equal(v, after[k])]
        assert not changed, f"validation changed {changed[:3]}"


def test_encodec_trains_with_its_discriminator(stages) -> None:
    (run,) = [r for r in all_runs(stages["out"]) if r.info.run_name == "encodec"]
    assert {"train/l1_step", "train/mel_step", "train/disc_loss_step", "train/adversarial_step",
            "val/mel"} <= set(run.data.metrics)


def test_iadb_bpm_trains_on_pre_encoded_latents_and_generates_loops_of_the_requested_tempo(stages, tmp_path: Path):
    out, cache = stages["out"], stages["out"] / "latents"
    check = ["+callbacks.weights_check._target_=tests.test_iadb_experiments.WeightsUnchangedByValidation"]
    train(compose_loops("iadb_bpm_cpu", out, "bpm", stages["encodec"], *TINY_IADB, f"data.cache={cache}", *check))
    item = torch.load(next(cache.glob("*.pt")), weights_only=True)
    assert item["latents"].shape == (16, FRAMES) and item["encoded"]["beat_phase"].shape == (FRAMES,)
    written = generate(str(last(out, "bpm")), None, tmp_path, out / "mlflow", bpm=[124, 90.5], steps=2,
                       guidance=2.0)
    assert [p.name for p in written] == ["bpm124.wav", "bpm90.5.wav", "grid.png"]  # grid: their spectrograms
    info = sf.info(written[0])
    assert info.samplerate == 24000 and info.frames == FRAMES * 320
    for bad in (0, -5, 500):
        with pytest.raises(ConfigError, match=r"bpm="):
            generate(str(last(out, "bpm")), None, tmp_path, out / "mlflow", bpm=[bad])


def test_a_latent_cache_of_another_encodec_is_refused(stages) -> None:
    out = stages["out"]
    train(compose_loops("encodec_cpu", out, "encodec2", *TINY_ENCODEC, "data.fields.beat_phase=null", "seed=3"))
    with pytest.raises(ConfigError, match="pre-encoded by other weights.*pretransform"):
        train(compose_loops("iadb_bpm_cpu", out, "bpm2", f"encodec_checkpoint={last(out, 'encodec2')}", *TINY_IADB,
                            f"data.cache={out / 'latents'}"))


def test_tempo_evaluation_scores_each_guidance(stages, tmp_path: Path) -> None:
    metrics = evaluate(str(last(stages["out"], "bpm")), stages["out"] / "mlflow", bpms=[100, 150],
                       guidances=[0, 1, 2], per_bpm=1, sampling={"steps": 2})
    for w in ("0", "1", "2"):
        assert 0 <= metrics[f"g{w}/acc1"] <= metrics[f"g{w}/acc2"] <= 1
        per_tempo = [metrics[f"g{w}/bpm{bpm}/acc1"] for bpm in (100, 150)]
        assert metrics[f"g{w}/acc1"] == pytest.approx(sum(per_tempo) / 2)
    (run,) = [r for r in all_runs(stages["out"]) if r.info.run_name == "evaluate iadb_bpm"]
    csv = mlflow_client(stages["out"]).download_artifacts(run.info.run_id, "tempo_estimates.csv", str(tmp_path))
    rows = Path(csv).read_text().splitlines()
    assert rows[0] == "guidance,seed,requested_bpm,estimated_bpm" and len(rows) == 1 + 3 * 2
    assert [row.split(",")[2] for row in rows[1:3]] == ["100", "150"]
    with pytest.raises(ConfigError, match="bpms="):
        evaluate(str(last(stages["out"], "bpm")), stages["out"] / "mlflow", bpms=[0])


def test_iadb_clap_and_both_conditions_train_and_generate_from_a_reference_clip(stages, data_root: Path,
                                                                                tmp_path: Path) -> None:
    out = stages["out"]
    train(compose_loops("iadb_clap_cpu", out, "clap_loops", stages["encodec"], stages["clap"], *TINY_IADB))
    train(compose_loops("iadb_bpm_clap_cpu", out, "both", stages["encodec"], stages["clap"], *TINY_IADB))
    reference = sorted((out / "loops" / "Loops").glob("*.wav"))[0]
    (from_clip,) = generate(str(last(out, "clap_loops")), [reference], tmp_path, out / "mlflow", steps=2)
    assert sf.info(from_clip).frames == FRAMES * 320
    (both,) = generate(str(last(out, "both")), [reference], tmp_path, out / "mlflow", bpm=[120], steps=2)
    assert both.name == f"{reference.stem}_bpm120.wav"
    module, _ = load_module(last(out, "both"))
    assert set(module.encoder.encoders) == {"beat_phase", "clap"}
    metrics = evaluate(str(last(out, "clap_loops")), out / "mlflow", split="val", sampling={"steps": 2})
    assert {"clap_score", "shuffled/clap_score", "unconditional/clap_score"} <= set(metrics)


def test_the_unconditional_baseline_trains_and_ignores_tempo_requests(stages, tmp_path: Path) -> None:
    out = stages["out"]
    train(compose_loops("iadb_unconditional_cpu", out, "uncond", stages["encodec"], *TINY_IADB,
                        "callbacks.samples.every_n_epochs=1"))
    samples = sorted((out / "uncond" / "samples" / "epoch_000").glob("*_generated.wav"))
    assert len(samples) == 2  # one unconditional loop for each of the two validation loops (was one in all)
    with pytest.raises(ConfigError, match="conditioned on tempo"):
        generate(str(last(out, "uncond")), None, tmp_path, out / "mlflow", bpm=[120])
    metrics = evaluate(str(last(out, "uncond")), out / "mlflow", bpms=[120], guidances=[1], per_bpm=1,
                       sampling={"steps": 2})
    assert set(metrics) == {"g1/acc1", "g1/acc2", "g1/tempo_error", "g1/bpm120/acc1", "g1/bpm120/acc2"}


@pytest.mark.parametrize(("size", "levels"), [("iadb_48m", 6), ("iadb_48m_7levels", 7)])
def test_the_48m_sizes_match_the_published_unet_parameter_count(size: str, levels: int) -> None:
    from hydra.utils import instantiate

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", ["+experiment=iadb_bpm", f"+experiment/sizes={size}", "encodec_checkpoint=x"])
    torch.manual_seed(0)
    unet = instantiate(cfg.generator.denoiser)
    parameters = sum(parameter.numel() for parameter in unet.parameters())
    # the published LADMG UNet counts 47.8 M (bench/published_unet.py), these layouts 49.0 and 49.1 M; the recipe
    # size 62.4 M
    assert abs(parameters - 47.8e6) / 47.8e6 < 0.03
    assert unet.multiple == 2 ** (levels - 1) and len(unet.down) == levels  # parameters at the coarse levels
