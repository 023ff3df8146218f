"""CLAP2Diffusion end to end at tiny sizes: `python -m vocalgen.pipeline +pipeline=clap2diffusion_cpu` trains its
six stages (in this process), then `generate` draws PNGs from a sound and prompts; the sound matters exactly when
its guidance scale does; the projector stage hands on a frozen CLAP; the adapters log image grids to MLflow."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import (
    COMMON_TINY,
    EXPERIMENT_TINY,
    TINY_DATA,
    TINY_SCENES,
    all_runs,
    compose_config,
    mlflow_client,
    run_main,
)
from tests.test_pipeline import child_in_this_process
from tests.tiny_stable_diffusion import save_tiny_stable_diffusion
from vocalgen.checkpoints import load_module
from vocalgen.data.audio_io import audio_files
from vocalgen.data.vimsketch import ImitationPair
from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.evaluate import evaluate
from vocalgen.evaluation.image_adherence import VARIANTS, ImageAdherenceEvaluation
from vocalgen.generate import generate
from vocalgen.pipeline import runner
from vocalgen.stages import resolve_stages
from vocalgen.train import train

SIZES = {"image_vae": EXPERIMENT_TINY["image_vae"], "image_ldm": EXPERIMENT_TINY["image_ldm"],
         "clap": [*EXPERIMENT_TINY["clap_cpu"], "data.batch_size=8"],
         "projector": EXPERIMENT_TINY["clap2diffusion_projector"],
         "adapters": EXPERIMENT_TINY["clap2diffusion_adapters"], "finetune": []}
SCENE_STAGES = ("image_vae", "image_ldm", "projector", "adapters", "finetune")


def tiny_pipeline_args(out: Path, data_root: Path) -> list[str]:
    """clap2diffusion_cpu at tiny sizes: the scenes for the image stages, the synthetic sounds for the CLAP."""
    synthetic = ",".join(f"{key}:{value}" for key, value in TINY_DATA.items())
    own = [f"+stage.{stage}.{override}" for stage in SCENE_STAGES for override in [f"data.root={out}/scenes",
                                                                                   *TINY_SCENES]]
    own += [f"+stage.clap.data.root={data_root}", f"+stage.clap.data.synthetic={{{synthetic}}}",
            "+stage.adapters.callbacks.samples.every_n_epochs=1", "+stage.adapters.callbacks.samples.n_examples=2"]
    own += [f"+stage.{stage}.{override}" for stage, overrides in SIZES.items() for override in overrides]
    return ["+pipeline=clap2diffusion_cpu", f"paths.output_dir={out}", *COMMON_TINY, "trainer.num_sanity_val_steps=0",
            "++trainer.check_val_every_n_epoch=1", *own]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> dict:
    out = tmp_path_factory.mktemp("clap2diffusion")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "run_child", child_in_this_process)
        finished = run_main("vocalgen.pipeline", tiny_pipeline_args(out, data_root))
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    rows = {cells[0]: cells[1:] for cells in map(str.split, finished.stdout.splitlines())
            if len(cells) >= 4 and len(cells[2]) == 32}
    checkpoints = {stage: Path(row[-1]) for stage, row in rows.items()}
    sounds = audio_files(out / "scenes" / "Synthetic_Scenes" / "test" / "audio", "sounds")
    return {"out": out, "rows": rows, "checkpoints": checkpoints, "sounds": sounds}


@pytest.mark.slow
def test_every_stage_trains_and_the_last_draws_one_picture_a_prompt_for_a_sound(chain: dict, tmp_path: Path) -> None:
    assert list(chain["rows"]) == ["image_vae", "image_ldm", "clap", "projector", "adapters", "finetune"]
    assert all(row[2] == "trained" for row in chain["rows"].values())
    written = generate(str(chain["checkpoints"]["finetune"]), chain["sounds"][:1], tmp_path, chain["out"] / "mlflow",
                       text=["a sandy beach", "a city street", "a pine forest"], steps=2, seed=0)
    stem = chain["sounds"][0].stem
    assert [p.name for p in written] == [f"{stem}_a_sandy_beach.png", f"{stem}_a_city_street.png",
                                         f"{stem}_a_pine_forest.png", "grid.png"]
    assert Image.open(written[0]).size == (32, 32) and Image.open(written[0]).mode == "RGB"
    (base,) = generate(str(chain["checkpoints"]["image_ldm"]), None, tmp_path / "text", chain["out"] / "mlflow",
                       text=["a snowy field"], steps=2)
    assert Image.open(base).size == (32, 32)  # the text → image model draws from a prompt alone
    finetune, store = str(chain["checkpoints"]["finetune"]), chain["out"] / "mlflow"
    (prompt_only,) = generate(finetune, None, tmp_path / "prompt", store, text=["a snowy field"], steps=2, seed=0)
    (muted,) = generate(finetune, chain["sounds"][:1], tmp_path / "muted", store, text=["a snowy field"], steps=2,
                        seed=0, guidance={"text": 3.0, "audio": 0.0})
    assert prompt_only.name == "a_snowy_field.png"
    assert np.abs(pixels(prompt_only) - pixels(muted)).max() <= 1  # no sound = a sound guided with scale 0
    (sound_only,) = generate(finetune, chain["sounds"][:1], tmp_path / "sound", store, steps=2)  # zero text
    assert sound_only.name == f"{stem}.png" and Image.open(sound_only).size == (32, 32)
    with pytest.raises(ConfigError, match="a prompt is empty"):
        generate(finetune, chain["sounds"][:1], tmp_path / "empty", store, text=["a beach", " "], steps=2)


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=np.int16)


def with_gates(checkpoint: Path, value: float, into: Path) -> Path:
    """A copy of `checkpoint` with every gate of the audio attention set to `value` (tanh(3) ≈ 1: open)."""
    module, _ = load_module(checkpoint)
    for processor in module.generator.unet.attn_processors.values():
        if hasattr(processor, "gate"):
            processor.gate.data.fill_(value)
    saved = torch.load(checkpoint, weights_only=False)
    saved["state_dict"] = module.state_dict()
    torch.save(saved, into)
    return into


@pytest.mark.slow
def test_the_sound_changes_the_picture_only_through_open_gates_and_a_nonzero_scale(chain: dict, tmp_path: Path) -> None:
    drawn = {}
    for gates, scale in (("open", 2.0), ("open", 0.0), ("closed", 2.0)):
        checkpoint = with_gates(chain["checkpoints"]["finetune"], 3.0 if gates == "open" else 0.0,
                                tmp_path / f"{gates}.ckpt")
        for sound in chain["sounds"][:2]:
            (path,) = generate(str(checkpoint), [sound], tmp_path / f"{gates}{scale}" / sound.stem,
                               chain["out"] / "mlflow", text=["a sandy beach"], steps=2, seed=0,
                               guidance={"text": 2.0, "audio": scale})
            drawn[gates, scale, sound.stem] = pixels(path)
    first, second = (sound.stem for sound in chain["sounds"][:2])
    assert np.abs(drawn["open", 2.0, first] - drawn["open", 2.0, second]).max() > 0
    assert np.array_equal(drawn["open", 0.0, first], drawn["open", 0.0, second])
    assert np.array_equal(drawn["closed", 2.0, first], drawn["closed", 2.0, second])


@pytest.mark.slow
def test_the_projector_trains_on_a_frozen_clap_and_ranks_captions(chain: dict) -> None:
    projector, config = load_module(chain["checkpoints"]["projector"])
    clap, _ = load_module(chain["checkpoints"]["clap"])
    for name, value in clap.encoder.state_dict().items():
        assert torch.equal(projector.encoder.encoders.audio.state_dict()[name], value), name
    assert config["stage_kind"] == "clap2diffusion_projector" and int(projector.adapter.decomposer.step) == 3
    (manifest,) = (chain["out"] / "cache" / "encoded").glob("*/manifest.json")  # its encoders ran once, no VAE
    assert set(json.loads(manifest.read_text())) == {"encoder"}
    metrics = evaluate(str(chain["checkpoints"]["projector"]), chain["out"] / "mlflow", log_to_mlflow=False)
    assert {"mrr", "ndcg", "top1"} <= set(metrics) and 0 <= metrics["top1"] <= metrics["mrr"] <= 1
    assert 0 <= metrics["audio_embedding_centroid_accuracy"] <= 1 and 0 < metrics["audio_embedding_class_share"] <= 1
    assert config["data"]["layout_options"]["caption_column"] == ["sound_caption", "caption"]  # what is heard
    (run,) = [r for r in all_runs(chain["out"]) if r.data.tags.get("stage") == "projector"]
    assert {"val/mrr", "val/info_nce", "val/mse", "val/entropy"} <= set(run.data.metrics)


@pytest.mark.slow
def test_the_adapters_log_an_image_grid_at_their_validation_epoch(chain: dict) -> None:
    from mlflow.tracking import MlflowClient

    from vocalgen.tracking import store_uri

    client = MlflowClient(store_uri(chain["out"] / "mlflow"))
    run_id = chain["rows"]["adapters"][1]
    (epoch,) = [item.path for item in client.list_artifacts(run_id, "samples")]
    names = {Path(item.path).name for item in client.list_artifacts(run_id, epoch)}
    assert {"grid.png", "0_target.png", "0_generated.png", "0.png"} <= names


@pytest.mark.slow
def test_a_stage_of_the_wrong_kind_is_named(chain: dict) -> None:
    cfg = compose_config("train", "+experiment=clap2diffusion_adapters_cpu", f"paths.output_dir={chain['out']}",
                         f"projector_checkpoint={chain['checkpoints']['projector']}",
                         f"image_ldm_checkpoint={chain['checkpoints']['clap']}")
    with pytest.raises(CheckpointError, match="image_ldm_checkpoint: checkpoint .* is a 'clap_gpt2' stage"):
        resolve_stages(cfg)


@pytest.mark.slow
def test_probes_judge_the_pictures_and_the_audio_baselines_differ_only_through_open_gates(chain: dict,
                                                                                          tmp_path: Path) -> None:
    metrics = {}
    for gates in ("open", "closed"):
        checkpoint = with_gates(chain["checkpoints"]["finetune"], 3.0 if gates == "open" else 0.0,
                                tmp_path / f"{gates}.ckpt")
        metrics[gates] = evaluate(str(checkpoint), chain["out"] / "mlflow", log_to_mlflow=gates == "open",
                                  sampling={"steps": 2}, seeds=[0, 1], probe_epochs=2)
    opened, closed = metrics["open"], metrics["closed"]
    for prefix in ("probe/", "reconstructed/", *(f"{variant}/" for variant in VARIANTS)):
        assert 0 <= opened[f"{prefix}scene_accuracy"] <= 1 and 0 <= opened[f"{prefix}element_accuracy"] <= 1
    assert opened["seconds_per_image"] > 0 and "conditioned/fd_std" in opened
    assert len({closed[f"{variant}/fd"] for variant in VARIANTS}) == 1  # closed gates: the sound cannot matter
    assert len({opened[f"{variant}/fd"] for variant in VARIANTS}) == len(VARIANTS)
    (run,) = [r for r in all_runs(chain["out"]) if r.info.run_name.startswith("evaluate")]
    assert run.data.tags["mlflow.parentRunId"] == chain["rows"]["finetune"][1]
    table = mlflow_client(chain["out"]).download_artifacts(run.info.run_id, "probe_predictions.csv", str(tmp_path))
    lines = Path(table).read_text().splitlines()
    assert lines[0] == "seed,variant,id,scene,element,predicted_scene,predicted_element"
    assert len(lines) == 1 + 2 * len(VARIANTS) * 4  # two seeds, four variants, four test scenes


def test_the_image_evaluation_names_a_missing_class_column(tmp_path: Path) -> None:
    pair = ImitationPair(imitation=tmp_path / "a.wav", reference=tmp_path / "a.wav", sound="test/a", label="dog",
                         caption="a beach", extra={"scene": "beach"})
    evaluation = ImageAdherenceEvaluation(scene_column="place")
    assert ImageAdherenceEvaluation().class_of(pair, "scene") == "beach"
    with pytest.raises(ConfigError, match=r"a.wav: .* column 'place'.*scene_column="):
        evaluation.class_of(pair, "scene")


@pytest.mark.slow
def test_a_stable_diffusion_folder_stands_in_for_the_trained_text_to_image_stage(chain: dict, tmp_path: Path) -> None:
    """The chain's projector writes 16-wide tokens, the width of the tiny folder's text encoder too."""
    folder = save_tiny_stable_diffusion(tmp_path)
    out = tmp_path / "out"
    train(compose_config("train", "+experiment=clap2diffusion_adapters_cpu", f"paths.output_dir={out}",
                         f"paths.run_dir={out}/adapters", f"data.root={chain['out']}/scenes", *TINY_SCENES,
                         *COMMON_TINY, *EXPERIMENT_TINY["clap2diffusion_adapters"], "callbacks.samples=null",
                         f"projector_checkpoint={chain['checkpoints']['projector']}",
                         f"image_ldm_checkpoint={folder}"))
    checkpoint = out / "adapters" / "checkpoints" / "last.ckpt"
    shutil.move(folder, tmp_path / "moved")  # the checkpoint holds every weight: it reloads without the folder
    module, config = load_module(checkpoint)
    assert config["generator"]["base"]["unet"]["pretrained"] == str(folder.resolve())
    assert float(module.generator.latent_scale) == 1.0  # the VAE's scaling factor is Stable Diffusion's scale
    from diffusers import UNet2DConditionModel

    original = UNet2DConditionModel.from_pretrained(tmp_path / "moved", subfolder="unet", local_files_only=True)
    trained = module.generator.unet.state_dict()
    for name, value in original.state_dict().items():  # frozen: only the audio processors trained
        assert torch.equal(trained[name], value), name
    (picture,) = generate(str(checkpoint), chain["sounds"][:1], tmp_path / "drawn", out / "mlflow",
                          text=["a beach"], steps=2)
    assert Image.open(picture).size == (32, 32)
    cfg = compose_config("train", "+experiment=clap2diffusion_finetune_cpu", f"paths.output_dir={out}",
                         f"adapters_checkpoint={tmp_path / 'moved'}")
    with pytest.raises(CheckpointError, match="adapters_checkpoint: .*moved is a Stable Diffusion folder; this stage "
                                              "needs a clap2diffusion_adapters checkpoint"):
        resolve_stages(cfg)
