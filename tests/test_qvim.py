"""A tiny QVIM end to end: towers start alike, the best checkpoint is the highest val/mrr,
evaluate and retrieve work on it, and wrong inputs are named."""

import re
from pathlib import Path

import pytest
import torch

from tests.conftest import all_runs, compose_tiny, mlflow_client, run_main
from vocalgen.checkpoints import read_checkpoint
from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.evaluate import evaluate
from vocalgen.generate import generate
from vocalgen.module import build_module
from vocalgen.retrieve import retrieve
from vocalgen.train import train


def test_towers_start_alike(tiny_cfg) -> None:
    module = build_module(tiny_cfg(experiment="qvim_cpu"))
    query, key = module.encoder.backbone.state_dict(), module.generator.tower.backbone.state_dict()
    assert all(torch.equal(query[name], key[name]) for name in query)


@pytest.fixture(scope="module")
def qvim_out(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    """The output dir (MLflow store included) of a tiny QVIM trained 3 epochs, shared by this module."""
    out = tmp_path_factory.mktemp("qvim")
    train(compose_tiny("qvim_cpu", out, data_root, "run", "epochs=3"))
    return out


@pytest.fixture
def qvim_run(qvim_out: Path) -> Path:
    """The tiny QVIM's checkpoint folder."""
    return qvim_out / "run" / "checkpoints"


def test_best_checkpoint_has_the_highest_val_mrr(qvim_run: Path, qvim_out: Path) -> None:
    (run,) = [r for r in all_runs(qvim_out) if r.data.tags.get("experiment") == "qvim"]
    history = {m.step: m.value for m in mlflow_client(qvim_out).get_metric_history(run.info.run_id, "val/mrr")}
    assert len(history) == 3 and {"val/ndcg", "val/top1", "val/top5", "val/top10"} <= set(run.data.metrics)
    (best,) = qvim_run.glob("epoch*.ckpt")
    best_epoch = int(best.stem.removeprefix("epoch"))
    mrr_by_epoch = [value for _, value in sorted(history.items())]
    assert mrr_by_epoch[best_epoch] == max(mrr_by_epoch)


def test_evaluate_prints_and_logs_retrieval_metrics(qvim_run: Path, qvim_out: Path) -> None:
    (best,) = qvim_run.glob("epoch*.ckpt")
    metrics = evaluate(str(best), qvim_out / "mlflow", split="test")
    assert set(metrics) == {"mrr", "ndcg", "top1", "top5", "top10"}
    assert 0 < metrics["mrr"] <= 1 and metrics["top1"] <= metrics["top5"] <= metrics["top10"]
    evaluation = next(r for r in all_runs(qvim_out) if r.info.run_name.startswith("evaluate"))
    assert evaluation.data.metrics["eval/mrr"] == pytest.approx(metrics["mrr"])
    trained_run = read_checkpoint(best)["vocalgen"]["mlflow_run_id"]
    assert evaluation.data.tags["mlflow.parentRunId"] == trained_run
    # The same by MLflow run id through the CLI.
    result = run_main("vocalgen.evaluate", [f"checkpoint={trained_run}", f"paths.output_dir={qvim_out}",
                                            "log_to_mlflow=false"])
    assert result.returncode == 0, result.stderr
    assert re.search(rf"^mrr\s+{metrics['mrr']:.4f}$", result.stdout, re.MULTILINE), result.stdout


def test_retrieve_ranks_a_folder_and_caches_its_embeddings(qvim_run: Path, tmp_path: Path, data_root: Path) -> None:
    (best,) = qvim_run.glob("epoch*.ckpt")
    folder = data_root / "Vim_Sketch_Dataset"
    query = sorted((folder / "vocal_imitations").iterdir())[0]
    cache = tmp_path / "retrieval_cache"
    queries, sounds, scores, embedded = retrieve(str(best), query, folder / "references", tmp_path / "mlflow", cache)
    assert queries == [query] and len(sounds) == 16 and scores.shape == (1, 16) and embedded == 16
    assert scores.abs().max() <= 1 + 1e-5
    again = retrieve(str(best), query, folder / "references", tmp_path / "mlflow", cache)
    assert again[3] == 0 and torch.allclose(again[2], scores)


def test_retrieval_tools_name_wrong_inputs(qvim_run: Path, tiny_cfg, tmp_path: Path, data_root: Path) -> None:
    (best,) = qvim_run.glob("epoch*.ckpt")
    empty = tmp_path / "empty"
    empty.mkdir()
    query = next((data_root / "Vim_Sketch_Dataset" / "vocal_imitations").iterdir())
    with pytest.raises(ConfigError, match=f"sounds={empty} holds no audio files"):
        retrieve(str(best), query, empty, tmp_path / "mlflow", tmp_path / "cache")
    with pytest.raises(ConfigError, match=f"query={empty} holds no audio files"):
        retrieve(str(best), empty, data_root, tmp_path / "mlflow", tmp_path / "cache")
    train(tiny_cfg("logger=csv", "~callbacks.samples", "evaluators.target_baselines=null",
                   f"paths.run_dir={tmp_path}/qvae"))
    qvae = tmp_path / "qvae" / "checkpoints" / "last.ckpt"
    with pytest.raises(CheckpointError, match=f"{qvae} comes from experiment 'qvae'.*RetrievalHead"):
        retrieve(str(qvae), query, data_root, tmp_path / "mlflow", tmp_path / "cache")
    with pytest.raises(CheckpointError, match="lists no evaluations"):  # none left by the override above
        evaluate(str(qvae), tmp_path / "mlflow")
    with pytest.raises(CheckpointError, match="produces embeddings, not audio"):
        generate(str(best), [query], tmp_path / "generated", tmp_path / "mlflow")
