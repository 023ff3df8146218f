"""A tiny QVAE end to end: the loss falls, MLflow holds the run, resume continues it, generate writes audio."""

import logging
from pathlib import Path

import pytest
import soundfile as sf
import torch
from lightning.pytorch import Callback
from omegaconf import DictConfig
from PIL import Image

from tests.conftest import all_runs, compose_tiny, mlflow_client, run_main
from vocalgen.checkpoints import load_module, read_checkpoint, resolve_checkpoint
from vocalgen.data.audio_io import audio_files
from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.evaluate import evaluate
from vocalgen.generate import generate
from vocalgen.train import train


def test_overfitting_a_batch_lowers_the_loss(tiny_cfg, tmp_path: Path) -> None:
    cfg = tiny_cfg("~callbacks.samples", "trainer.overfit_batches=1", "epochs=25", "optimizer.lr=3e-3",
                   "scheduler=none", "trainer.limit_val_batches=0")
    train(cfg)
    (run,) = all_runs(tmp_path)
    history = [m.value for m in mlflow_client(tmp_path).get_metric_history(run.info.run_id, "train/loss_epoch")]
    assert len(history) == 25
    assert history[-1] < 0.8 * history[0], history


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> DictConfig:
    """One tiny QVAE run (1 epoch, 3 batches) with MLflow, checkpoints and audio samples, that the tests
    using it only read; its config (paths.output_dir holds the MLflow store, and log.txt what it logged
    as a run writing to a file would: progress lines every 2 steps; system metrics sampled every 600 s, far
    longer than the fit, so that the one point logged is the unfinished interval the callback logs at the stop)."""
    out = tmp_path_factory.mktemp("qvae")
    cfg = compose_tiny("qvae_cpu", out, data_root, "run", "callbacks.text_progress.when=always",
                       "callbacks.text_progress.every_n_steps=2", "callbacks.system_metrics.every_seconds=600")
    handler = logging.FileHandler(out / "log.txt")
    handler.setLevel(logging.INFO)
    loggers = [logging.getLogger(name) for name in ("vocalgen.progress", "vocalgen.train")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        train(cfg)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        handler.close()
    return cfg


def test_mlflow_holds_params_metrics_config_and_samples(trained: DictConfig, tmp_path: Path) -> None:
    out = Path(trained.paths.output_dir)
    (run,) = all_runs(out)
    assert run.info.status == "FINISHED" and run.info.run_name == "qvae"
    assert run.data.tags["experiment"] == "qvae"
    assert run.data.params["optimizer/lr"] == str(trained.optimizer.lr)
    assert {"train/loss_step", "val/loss", "val/stft", "val/kl"} <= set(run.data.metrics)
    client = mlflow_client(out)
    top = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "samples"} <= top
    samples = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "samples/epoch_000")}
    assert {"0_imitation.wav", "0_target.wav", "0_generated.wav", "0.png", "1.png"} <= samples
    config_text = Path(client.download_artifacts(run.info.run_id, "config.yaml", str(tmp_path))).read_text()
    assert "experiment_name: qvae" in config_text
    summary = Path(client.download_artifacts(run.info.run_id, "model_summary.txt", str(tmp_path))).read_text()
    assert "encoder" in summary and "Trainable params" in summary
    assert client.get_experiment(run.info.experiment_id).tags["mlflow.experimentKind"] == "custom_model_development"
    assert any(name.startswith("system/cpu_utilization_percentage") for name in run.data.metrics)
    inputs = {item.dataset.name: item for item in run.inputs.dataset_inputs}
    assert set(inputs) == {"Vim_Sketch_Dataset/train", "Vim_Sketch_Dataset/val", "Vim_Sketch_Dataset/test"}
    validation = inputs["Vim_Sketch_Dataset/val"]
    assert validation.tags[0].value == "val" and len(validation.dataset.digest) == 16
    assert Path(run.data.tags["vocalgen.best_checkpoint"]).parent == Path(trained.paths.run_dir) / "checkpoints"
    assert run.data.tags["vocalgen.monitor"] == "val/loss" and " cores, " in run.data.tags["vocalgen.machine"]


def test_a_run_writing_to_a_file_logs_its_progress_and_ends_with_what_to_run_next(trained: DictConfig) -> None:
    out = Path(trained.paths.output_dir)
    (run,) = all_runs(out)
    text = (out / "log.txt").read_text()
    assert "epoch 1/1 · batch 2/3 · step 2 · train/kl " in text  # the latest step losses every 2 steps
    (epoch,) = [line for line in text.splitlines() if line.startswith("epoch 1/1 · step 3 ·")]
    assert " · train/loss " in epoch and " · val/loss " in epoch and epoch.endswith("steps/s)")
    assert "_step" not in epoch and "_epoch" not in epoch
    summary = text[text.index("training finished"):]
    assert f"MLflow run {run.info.run_id}" in summary and summary.startswith("training finished: experiment qvae,")
    assert f"checkpoint:    {run.data.tags['vocalgen.best_checkpoint']} (val/loss " in summary
    assert f"python -m vocalgen.generate checkpoint={run.info.run_id} input=" in summary


def test_resume_continues_the_step_count_and_the_mlflow_run(tiny_cfg, tmp_path: Path) -> None:
    trained = tiny_cfg()
    train(trained)
    (first,) = all_runs(tmp_path)
    steps_before = max(m.step for m in mlflow_client(tmp_path).get_metric_history(first.info.run_id,
                                                                                    "train/loss_step"))
    last = Path(trained.paths.run_dir) / "checkpoints" / "last.ckpt"
    train(tiny_cfg(f"ckpt_path={last}", "epochs=2", f"paths.run_dir={tmp_path}/run2"))
    (run,) = all_runs(tmp_path)
    assert run.info.run_id == first.info.run_id and run.info.status == "FINISHED"
    steps = [m.step for m in mlflow_client(tmp_path).get_metric_history(run.info.run_id, "train/loss_step")]
    assert max(steps) > steps_before and len(steps) == len(set(steps))
    assert "config_resumed.yaml" in {a.path for a in mlflow_client(tmp_path).list_artifacts(run.info.run_id)}


def test_generate_from_checkpoint_and_from_run_id(trained: DictConfig, data_root: Path, tmp_path: Path) -> None:
    imitations = audio_files(data_root / "Vim_Sketch_Dataset" / "vocal_imitations")[:3]
    checkpoint = Path(trained.paths.run_dir) / "checkpoints" / "last.ckpt"
    out = Path(trained.paths.output_dir)
    store = out / "mlflow"
    written = generate(str(checkpoint), imitations, tmp_path / "gen", store)
    assert [p.stem for p in written] == [*(p.stem for p in imitations), "grid"]  # grid: the spectrograms of all
    info = sf.info(written[0])
    assert info.samplerate == 22050 and info.frames == 2187
    (run,) = all_runs(out)
    assert resolve_checkpoint(run.info.run_id, store) == checkpoint
    by_run = generate(run.info.run_id, imitations, tmp_path / "gen2", store)  # the same batch: bit-identical audio
    assert sf.read(by_run[0])[0].tolist() == sf.read(written[0])[0].tolist()
    module, config = load_module(checkpoint)
    assert config["experiment_name"] == "qvae" and not module.training


def test_missing_checkpoint_and_unknown_run_are_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="nothing.ckpt does not exist"):
        load_module(tmp_path / "nothing.ckpt")
    with pytest.raises(CheckpointError, match="0123456789abcdef0123456789abcdef"):
        resolve_checkpoint("0123456789abcdef0123456789abcdef", tmp_path / "mlflow")
    not_ours = tmp_path / "plain.ckpt"
    not_ours.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="plain.ckpt cannot be read"):
        load_module(not_ours)


class InterruptAt(Callback):
    """Presses Ctrl-C (raises KeyboardInterrupt) at a given global step."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            raise KeyboardInterrupt


def test_ctrl_c_leaves_a_resumable_checkpoint_and_a_closed_run(tiny_cfg, tmp_path: Path) -> None:
    cfg = tiny_cfg("epochs=2", "+callbacks.interrupt._target_=tests.test_training.InterruptAt",
                   "+callbacks.interrupt.step=4")
    with pytest.raises(SystemExit):
        train(cfg)
    (run,) = all_runs(tmp_path)
    assert run.info.status == "KILLED"
    assert run.data.tags["vocalgen.best_checkpoint"].endswith("epoch000.ckpt")  # tagged by the checkpoint callback
    last = Path(cfg.paths.run_dir) / "checkpoints" / "last.ckpt"
    module, _ = load_module(last)
    train(tiny_cfg("epochs=2", f"ckpt_path={last}", f"paths.run_dir={tmp_path}/resumed"))
    (resumed,) = all_runs(tmp_path)
    assert resumed.info.run_id == run.info.run_id and resumed.info.status == "FINISHED"
    assert (tmp_path / "resumed" / "checkpoints" / "last.ckpt").is_file()


def test_a_cpu_run_is_repeatable_bit_for_bit(tiny_cfg, tmp_path: Path) -> None:
    weights = []
    for name in ("a", "b"):
        cfg = tiny_cfg("logger=csv", "~callbacks.samples", f"paths.run_dir={tmp_path}/{name}")
        train(cfg)
        weights.append(read_checkpoint(Path(cfg.paths.run_dir) / "checkpoints" / "last.ckpt")["state_dict"])
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_checkpoint_loads_without_the_pretrained_file_it_started_from(tiny_cfg, tmp_path: Path) -> None:
    from vocalgen.encoders.mobilenet_v3 import MobileNetV3

    weights = tmp_path / "mn_tiny.pt"
    torch.save(MobileNetV3(width_mult=0.1).state_dict(), weights)
    cfg = tiny_cfg("logger=csv", "~callbacks.samples", f"encoder.encoders.latent.pretrained={weights}")
    train(cfg)
    weights.unlink()
    module, config = load_module(Path(cfg.paths.run_dir) / "checkpoints" / "last.ckpt")
    assert config["encoder"]["encoders"]["latent"]["pretrained"] == str(weights)
    assert module.encoder.encoders["latent"].out_dim == 96


def test_a_bad_audio_file_given_to_generate_is_one_line_and_status_2(trained: DictConfig, tmp_path: Path) -> None:
    bad = tmp_path / "not audio.wav"
    bad.write_bytes(b"a text file with a .wav name")
    checkpoint = Path(trained.paths.run_dir) / "checkpoints" / "last.ckpt"
    failed = run_main("vocalgen.generate", [f"checkpoint={checkpoint}", f"input={bad}", f"output_dir={tmp_path}/out",
                                            f"paths.output_dir={trained.paths.output_dir}"])
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.startswith("error: ") and str(bad) in failed.stderr and failed.stderr.count("\n") == 1


def test_the_target_baselines_evaluation_sets_qvae_against_the_mean_and_another_target(
        trained: DictConfig, tmp_path: Path) -> None:
    from vocalgen.evaluation.job import EvaluationJob
    from vocalgen.evaluation.target_baselines import TargetBaselinesEvaluation, other_item

    checkpoint = Path(trained.paths.run_dir) / "checkpoints" / "last.ckpt"
    metrics = evaluate(str(checkpoint), tmp_path / "mlflow", examples=1)
    client = mlflow_client(tmp_path)
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert run.data.metrics["eval/margin_over_mean_target"] == pytest.approx(metrics["margin_over_mean_target"])
    figure = Path(client.download_artifacts(run.info.run_id, "pitched_examples.png", str(tmp_path)))
    assert Image.open(figure).size[1] == 2 * 176                   # one item: its target and generated panels
    for answer in ("generated", "mean_target", "other_target"):
        assert metrics[f"{answer}/log_mel_l1"] > 0
    for baseline in ("mean_target", "other_target"):
        assert metrics[f"margin_over_{baseline}"] == pytest.approx(
            1 - metrics["generated/log_mel_l1"] / metrics[f"{baseline}/log_mel_l1"])
    module, config = load_module(checkpoint)
    module.generate = lambda batch, **sampling: batch["audio"]          # an oracle that returns the target
    result = TargetBaselinesEvaluation(examples=2).run(EvaluationJob(module, config, "test", "cpu", {}, tmp_path,
                                                                     config["data"]))
    oracle = result.metrics
    assert list(result.files) == ["pitched_examples.png"] and result.files["pitched_examples.png"][:4] == b"\x89PNG"
    assert oracle["generated/log_mel_l1"] == 0 and oracle["margin_over_mean_target"] == 1
    assert oracle["pitched_items"] >= 1 and oracle["generated/pitch_recall"] == 1  # the target plays its own pitch
    assert 0 <= oracle["other_target/pitch_recall"] < 1
    assert oracle["other_target/log_mel_l1"] == pytest.approx(metrics["other_target/log_mel_l1"])
    partner = other_item(7, seed=3)
    assert sorted(partner.tolist()) == list(range(7)) and all(partner[i] != i for i in range(7))


def test_the_target_baselines_evaluation_refuses_a_run_without_a_mel_term(trained: DictConfig,
                                                                          tmp_path: Path) -> None:
    from vocalgen.evaluation.job import EvaluationJob
    from vocalgen.evaluation.target_baselines import TargetBaselinesEvaluation

    module, config = load_module(Path(trained.paths.run_dir) / "checkpoints" / "last.ckpt")
    terms = r"terms \['kl', 'l1', 'mel', 'pitch', 'pitch_octave', 'register', 'stft'\]"
    with pytest.raises(ConfigError, match=r"term named 'spectrum'.*" + terms):
        TargetBaselinesEvaluation(term="spectrum").run(EvaluationJob(module, config, "test", "cpu", {}, tmp_path,
                                                                     config["data"]))
