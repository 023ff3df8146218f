"""Tiny CLAP and QVIM→CLAP alignment runs end to end, the stage links by run id, wrong stages named."""

from pathlib import Path

import pytest
import torch

from tests.conftest import all_runs, compose_tiny
from vocalgen.checkpoints import load_module
from vocalgen.errors import CheckpointError
from vocalgen.evaluate import evaluate
from vocalgen.train import train


def run_id_of(tmp_path: Path, experiment: str) -> str:
    (run,) = [r for r in all_runs(tmp_path) if r.data.tags.get("experiment") == experiment]
    return run.info.run_id


@pytest.fixture
def stages(tmp_path: Path, data_root: Path) -> dict[str, str]:
    """Tiny QVIM and CLAP runs (2 epochs each); their MLflow run ids."""
    train(compose_tiny("qvim_cpu", tmp_path, data_root, "qvim", "epochs=2"))
    train(compose_tiny("clap_cpu", tmp_path, data_root, "clap", "epochs=2", "data.batch_size=8"))
    return {"qvim": run_id_of(tmp_path, "qvim"), "clap": run_id_of(tmp_path, "clap")}


def test_clap_logs_recall_both_ways_and_keeps_its_tokenizer(stages, tmp_path: Path) -> None:
    (clap,) = [r for r in all_runs(tmp_path) if r.info.run_id == stages["clap"]]
    assert {"val/a2t_recall1", "val/a2t_recall5", "val/t2a_recall1", "val/t2a_recall5",
            "val/tau_query_key"} <= set(clap.data.metrics)
    module, _ = load_module(tmp_path / "clap" / "checkpoints" / "last.ckpt")
    text = module.generator.tower
    assert text.is_fitted
    embedding = text({"caption": ["a dog barking twice", "a siren rising slowly"]})
    assert embedding.shape == (2, 32) and torch.isfinite(embedding).all()


def test_alignment_trains_on_the_named_stages_and_reloads_without_them(stages, tmp_path: Path,
                                                                       data_root: Path) -> None:
    cfg = compose_tiny("qvim_clap_align", tmp_path, data_root, "align", f"qvim_checkpoint={stages['qvim']}",
                       f"clap_checkpoint={stages['clap']}", "epochs=2")
    train(cfg)
    align = run_id_of(tmp_path, "qvim_clap_align")
    (run,) = [r for r in all_runs(tmp_path) if r.info.run_id == align]
    assert {"val/mrr", "val/query_key", "val/query_adapted_reference", "val/adapted_reference_key",
            "val/tau_query_key"} <= set(run.data.metrics)
    checkpoint = tmp_path / "align" / "checkpoints" / "last.ckpt"
    module, config = load_module(checkpoint)
    assert config["encoder"]["query"]["pretrained"].endswith(".ckpt")  # the resolved stage link is recorded
    (best,) = (tmp_path / "qvim" / "checkpoints").glob("epoch*.ckpt")  # a run id links to its best
    qvim, _ = load_module(best)
    for name, value in qvim.encoder.state_dict().items():  # the frozen stage was not changed by training
        assert torch.equal(module.encoder.query.state_dict()[name], value), name
    # The earlier stages' weights are inside: reloading needs none of their files.
    for folder in ("qvim", "clap"):
        for file in (tmp_path / folder / "checkpoints").iterdir():
            file.unlink()
    module, _ = load_module(checkpoint)
    assert evaluate(str(checkpoint), tmp_path / "mlflow", log_to_mlflow=False)["mrr"] > 0


def test_a_stage_checkpoint_of_the_wrong_experiment_is_named(stages, tmp_path: Path, data_root: Path) -> None:
    cfg = compose_tiny("qvim_clap_align", tmp_path, data_root, "align", f"qvim_checkpoint={stages['clap']}",
                       f"clap_checkpoint={stages['clap']}")
    with pytest.raises(CheckpointError, match="qvim_checkpoint: .* is a 'clap_gpt2' stage .*needs a qvim checkpoint"):
        train(cfg)
