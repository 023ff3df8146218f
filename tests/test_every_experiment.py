"""Every experiment file prints without any checkpoint and fast-dev-runs on its own, later stages on
tiny earlier stages made once per module; stage inputs are checked by kind, not by class path."""

from pathlib import Path

import pytest
import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from bench.latent import untrained_checkpoint
from tests.conftest import COMMON_TINY, EXPERIMENT_TINY, TINY_DATA, TINY_SCENES, compose_config, run_main
from tests.test_iadb_experiments import FRAMES, LOOPS, TINY_ENCODEC, TINY_IADB
from vocalgen import train as train_command
from vocalgen.callbacks.config_in_checkpoint import CHECKPOINT_KEY
from vocalgen.checkpoints import load_module
from vocalgen.compilation import compiled_module_names
from vocalgen.config import CONFIG_DIR
from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.evaluate import evaluate
from vocalgen.evaluation.autoencoding import AutoencodingEvaluation
from vocalgen.evaluation.job import Evaluation, EvaluationJob
from vocalgen.evaluation.vocoding import VocodingEvaluation
from vocalgen.module import build_module
from vocalgen.stages import resolve_stages
from vocalgen.train import train

EXPERIMENTS = sorted(path.stem for path in (CONFIG_DIR / "experiment").glob("*.yaml"))
LOOP_EXPERIMENTS = {name for name in EXPERIMENTS if name.startswith(("encodec", "iadb"))}
SCENE_EXPERIMENTS = {name for name in EXPERIMENTS if name.startswith(("image_", "clap2diffusion"))}
TINY = {**EXPERIMENT_TINY, "encodec": TINY_ENCODEC, "iadb": TINY_IADB,
        "qvim": EXPERIMENT_TINY["qvim_cpu"], "clap": EXPERIMENT_TINY["clap_cpu"]}
# what each experiment's stage inputs are fed with: root key → the tiny stage (below) that makes it
INPUTS = {"qvim_checkpoint": "qvim", "clap_checkpoint": "clap", "align_checkpoint": "align", "vae_checkpoint": "vae",
          "vocoder_checkpoint": "vocoder", "ldm_checkpoint": "ldm", "encodec_checkpoint": "encodec",
          "image_vae_checkpoint": "image_vae", "image_ldm_checkpoint": "image_ldm", "projector_checkpoint": "projector",
          "adapters_checkpoint": "adapters"}


def tiny_overrides(experiment: str, out: Path, data_root: Path) -> list[str]:
    """Data, paths and sizes that make `experiment` (recipe or _cpu size) a tiny run."""
    family = experiment if experiment in TINY else experiment.removesuffix("_cpu")
    sizes = TINY["iadb" if family.startswith("iadb") else family]  # every iadb_* shares the α-blending sizes
    paths = [f"paths.output_dir={out}", f"paths.run_dir={out}/{experiment}"]
    if experiment in LOOP_EXPERIMENTS:
        data = [f"data.root={out}/loops", f"data.synthetic={LOOPS}", f"data.fields.audio_24k.samples={FRAMES * 320}",
                "data.batch_size=4"]
        if family == "encodec":
            data.append("data.fields.beat_phase=null")
    elif experiment in SCENE_EXPERIMENTS:
        data = [f"data.root={out}/scenes", *TINY_SCENES]
    else:
        synthetic = ",".join(f"{key}:{value}" for key, value in TINY_DATA.items())
        data = [f"data.root={data_root}", f"data.synthetic={{{synthetic}}}"]
    return [*paths, *COMMON_TINY, *data, *sizes]


def compose_experiment(experiment: str, *extra: str) -> DictConfig:
    return compose_config("train", f"+experiment={experiment}", *extra)


@pytest.fixture(scope="module")
def tiny_stages(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> dict[str, Path]:
    """Untrained tiny checkpoints of every stage that a later one loads: enough to build and step it."""
    out = tmp_path_factory.mktemp("stages")
    made: dict[str, Path] = {}

    def make(name: str, experiment: str, *extra: str) -> None:
        (out / name).mkdir()
        made[name] = untrained_checkpoint(experiment, [*tiny_overrides(experiment, out, data_root), *extra],
                                          out / name / "tiny.ckpt")

    make("qvim", "qvim_cpu")
    make("clap", "clap_cpu")
    make("clap_transformer", "clap_cpu", "generator.tower.tower.backbone=transformer",
         "generator.tower.tower.context_length=32")
    make("vae", "mel_vae_cpu")
    make("vocoder", "vocoder_cpu")
    make("encodec", "encodec_cpu")
    make("align", "qvim_clap_align", f"qvim_checkpoint={made['qvim']}", f"clap_checkpoint={made['clap']}")
    make("ldm", "audioldm_refined_cpu", f"clap_checkpoint={made['clap']}", f"vae_checkpoint={made['vae']}",
         f"vocoder_checkpoint={made['vocoder']}")
    make("image_vae", "image_vae_cpu")
    make("image_ldm", "image_ldm_cpu", f"image_vae_checkpoint={made['image_vae']}")
    make("projector", "clap2diffusion_projector_cpu", f"clap_checkpoint={made['clap']}",
         f"image_ldm_checkpoint={made['image_ldm']}")
    make("adapters", "clap2diffusion_adapters_cpu", f"projector_checkpoint={made['projector']}",
         f"image_ldm_checkpoint={made['image_ldm']}")
    return made


def stage_links(experiment: str, stages: dict[str, Path]) -> list[str]:
    """`key=checkpoint` for every stage input `experiment` declares."""
    declared = compose_experiment(experiment).stage_inputs
    clap = "clap_transformer" if experiment == "audioldm" else "clap"
    return [f"{key}={stages[clap if key == 'clap_checkpoint' else INPUTS[key]]}" for key in declared]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_fast_dev_runs(experiment: str, tiny_stages: dict[str, Path], tmp_path: Path,
                                        data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = compose_experiment(experiment, *tiny_overrides(experiment, tmp_path, data_root),
                             *stage_links(experiment, tiny_stages), "debug=fdr", "data.cache=null")
    built = []
    monkeypatch.setattr(train_command, "build_module", lambda config: built.append(build_module(config)) or built[-1])
    train(cfg)
    assert not list(tmp_path.rglob("*.ckpt"))  # a fast dev run writes no checkpoint
    compiled_module_names(built[0], cfg.compile_parts)  # what compile=true would compile exists in the model


# the evaluations each family lists for vocalgen.evaluate (the others list none)
EVALUATIONS = {"clap": {"retrieval"}, "qvim": {"retrieval"}, "qvim_clap_align": {"retrieval"},
               "clap2diffusion_projector": {"retrieval", "sound_classes"}, "audioldm": {"generation"},
               "audioldm_refined": {"generation"}, "qvim_ldm": {"generation"}, "iadb_bpm": {"tempo"},
               "iadb_unconditional": {"tempo"}, "iadb_clap": {"generation"}, "iadb_bpm_clap": {"generation", "tempo"},
               "clap2diffusion_adapters": {"image_adherence"}, "clap2diffusion_finetune": {"image_adherence"},
               "vocoder": {"vocoding"}, "vocos": {"vocoding"}, "qvae": {"target_baselines"},
               "encodec": {"autoencoding"}}


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_and_prints_without_opening_a_checkpoint(experiment: str) -> None:
    cfg = compose_experiment(experiment)
    assert all(OmegaConf.is_missing(cfg, key) for key in cfg.stage_inputs if key != "vocoder_checkpoint")
    printed = OmegaConf.to_yaml(cfg)  # what `--cfg job` prints
    assert f"experiment_name: {cfg.experiment_name}" in printed
    assert ("_stage_:" in printed) == bool(cfg.stage_inputs)  # earlier stages stay references, unopened
    evaluators = {name: spec for name, spec in OmegaConf.to_container(cfg.evaluators).items() if spec}
    assert set(evaluators) == EVALUATIONS.get(experiment.removesuffix("_cpu"), set())
    assert all(issubclass(get_class(spec["_target_"]), Evaluation) for spec in evaluators.values())


def test_a_later_stage_prints_with_cfg_job_on_the_command_line() -> None:
    printed = run_main("vocalgen.train", ["+experiment=iadb_bpm_clap_cpu", "--cfg", "job"])
    assert printed.returncode == 0, printed.stderr
    assert "experiment_name: iadb_bpm_clap" in printed.stdout and "encodec_checkpoint: ???" in printed.stdout


def test_a_later_stage_without_its_inputs_names_the_key_and_the_pipeline(data_root: Path, tmp_path: Path) -> None:
    cfg = compose_experiment("qvim_clap_align", *tiny_overrides("qvim_clap_align", tmp_path, data_root), "debug=fdr")
    with pytest.raises(ConfigError, match=r"needs qvim_checkpoint=.*\+experiment=qvim.*\+pipeline=vocaldm"):
        train(cfg)


def test_the_missing_input_error_is_one_line_with_status_2(tmp_path: Path) -> None:
    failed = run_main("vocalgen.train", ["+experiment=qvim_clap_align", "debug=fdr", f"paths.output_dir={tmp_path}",
                                         f"hydra.run.dir={tmp_path}/run"])
    assert failed.returncode == 2
    assert failed.stderr.strip().count("\n") == 0 and "qvim_checkpoint" in failed.stderr, failed.stderr


def test_a_stage_of_the_wrong_kind_is_named(tiny_stages: dict[str, Path], tmp_path: Path, data_root: Path) -> None:
    cfg = compose_experiment("qvim_clap_align", *tiny_overrides("qvim_clap_align", tmp_path, data_root),
                             f"qvim_checkpoint={tiny_stages['clap']}", f"clap_checkpoint={tiny_stages['clap']}")
    with pytest.raises(CheckpointError, match="qvim_checkpoint: checkpoint .* is a 'clap_gpt2' stage.*needs a qvim"):
        resolve_stages(cfg)


def test_a_stage_whose_recorded_class_path_moved_still_loads(tiny_stages: dict[str, Path], tmp_path: Path,
                                                             data_root: Path) -> None:
    checkpoint = torch.load(tiny_stages["qvim"], weights_only=True)
    config = checkpoint[CHECKPOINT_KEY]["config"]
    config["generator"]["_target_"] = "vocalgen.generators.renamed_long_ago.OldRetrievalHead"
    moved = tmp_path / "moved.ckpt"
    torch.save(checkpoint, moved)
    cfg = compose_experiment("qvim_clap_align", *tiny_overrides("qvim_clap_align", tmp_path, data_root),
                             f"qvim_checkpoint={moved}", f"clap_checkpoint={tiny_stages['clap']}")
    module = build_module(resolve_stages(cfg))
    for name, value in module.encoder.query.state_dict().items():
        assert torch.equal(value, checkpoint["state_dict"][f"encoder.{name}"]), name


def test_checkpoints_from_before_the_recorded_kind_are_recognised(tiny_stages: dict[str, Path],
                                                                  tmp_path: Path, data_root: Path) -> None:
    checkpoint = torch.load(tiny_stages["clap"], weights_only=True)
    del checkpoint[CHECKPOINT_KEY]["config"]["stage_kind"]
    older = tmp_path / "older.ckpt"
    torch.save(checkpoint, older)
    cfg = compose_experiment("iadb_clap_cpu", *tiny_overrides("iadb_clap_cpu", tmp_path, data_root),
                             f"clap_checkpoint={older}", f"encodec_checkpoint={tiny_stages['encodec']}")
    assert resolve_stages(cfg).generator.denoiser.gate_dim == 32


def test_settings_for_a_callback_that_is_not_configured_are_named(tmp_path: Path, data_root: Path) -> None:
    cfg = compose_experiment("qvim_cpu", *tiny_overrides("qvim_cpu", tmp_path, data_root),
                             "+callbacks.gradient_norms.modules=[encoder]", "logger=csv")
    with pytest.raises(ConfigError, match="callbacks.gradient_norms has settings but no _target_"):
        train(cfg)


def test_the_vocoding_evaluation_sets_a_vocoder_against_griffin_lim(tiny_stages: dict[str, Path],
                                                                    tmp_path: Path) -> None:
    metrics = evaluate(str(tiny_stages["vocoder"]), tmp_path / "mlflow", log_to_mlflow=False,
                       embedder=str(tiny_stages["clap"]), griffin_lim_iterations=4)
    for vocoder in ("vocoder", "griffin_lim"):
        assert metrics[f"{vocoder}/mel"] > 0 and metrics[f"{vocoder}/stft"] > 0
        assert -1 <= metrics[f"{vocoder}/clap_cosine"] <= 1
    assert metrics["mel_gain"] == pytest.approx(metrics["griffin_lim/mel"] / metrics["vocoder/mel"])
    assert metrics["mel_gain"] < 1  # an untrained vocoder is further from the clips than Griffin-Lim
    qvim, config = load_module(tiny_stages["qvim"])
    with pytest.raises(ConfigError, match="judges a mel vocoder; this checkpoint's generator is a RetrievalHead"):
        VocodingEvaluation().run(EvaluationJob(qvim, config, "test", "cpu", {}, tmp_path, config["data"]))


def test_the_autoencoding_evaluation_asks_clap_to_recognise_each_reconstruction(tiny_stages: dict[str, Path],
                                                                                tmp_path: Path) -> None:
    metrics = evaluate(str(tiny_stages["encodec"]), tmp_path / "mlflow", log_to_mlflow=False,
                       embedder=str(tiny_stages["clap"]))
    assert metrics["mel"] > 0 and metrics["stft"] > 0 and metrics["l1"] > 0
    assert 0 < metrics["clap_mrr"] <= 1 and 0 <= metrics["clap_top1"] <= 1
    assert metrics["clap_top1"] <= metrics["clap_mrr"]  # a top-1 hit counts 1 in both, a miss 0 only in top-1
    _, config = load_module(tiny_stages["encodec"])
    data = instantiate(config["data"])
    data.setup("test")
    clips = len(data.datasets["test"])
    assert metrics["chance_mrr"] == pytest.approx(sum(1 / rank for rank in range(1, clips + 1)) / clips)
    assert -1 <= metrics["clap_cosine_other"] <= 1 and -1 <= metrics["clap_cosine_own"] <= 1
    without_clap = evaluate(str(tiny_stages["encodec"]), tmp_path / "mlflow", log_to_mlflow=False)
    assert without_clap["mel"] == pytest.approx(metrics["mel"]) and "clap_mrr" not in without_clap
    qvim, config = load_module(tiny_stages["qvim"])
    with pytest.raises(ConfigError, match="judges an EnCodec autoencoder; this checkpoint's generator is a Retrie"):
        AutoencodingEvaluation().run(EvaluationJob(qvim, config, "test", "cpu", {}, tmp_path, config["data"]))
