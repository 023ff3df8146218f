"""Tiny CLAP and QVIM→CLAP alignment runs end to end, the stage links by run id (a stage of the wrong
kind is refused in tests/test_every_experiment.py)."""

from pathlib import Path

import pytest
import torch

from tests.conftest import all_runs, compose_tiny
from vocalgen.checkpoints import load_module
from vocalgen.evaluate import evaluate
from vocalgen.train import train


def run_id_of(tmp_path: Path, experiment: str) -> str:
    (run,) = [r for r in all_runs(tmp_path) if r.data.tags.get("experiment") == experiment]
    return run.info.run_id


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> dict:
    """Tiny QVIM and CLAP runs (2 epochs each) in one output dir ("out"); their MLflow run ids."""
    out = tmp_path_factory.mktemp("align")
    train(compose_tiny("qvim_cpu", out, data_root, "qvim", "epochs=2"))
    train(compose_tiny("clap_cpu", out, data_root, "clap", "epochs=2", "data.batch_size=8"))
    return {"out": out, "qvim": run_id_of(out, "qvim"), "clap": run_id_of(out, "clap")}


def test_clap_logs_recall_both_ways_and_keeps_its_tokenizer(stages: dict) -> None:
    (clap,) = [r for r in all_runs(stages["out"]) if r.info.run_id == stages["clap"]]
    assert {"val/a2t_recall1", "val/a2t_recall5", "val/t2a_recall1", "val/t2a_recall5",
            "val/tau_query_key"} <= set(clap.data.metrics)
    module, _ = load_module(stages["out"] / "clap" / "checkpoints" / "last.ckpt")
    text = module.generator.tower
    assert text.is_fitted
    embedding = text({"caption": ["a dog barking twice", "a siren rising slowly"]})
    assert embedding.shape == (2, 32) and torch.isfinite(embedding).all()


def test_alignment_trains_on_the_named_stages_and_reloads_without_them(stages: dict, data_root: Path) -> None:
    """The last test of this module: it deletes the earlier stages' checkpoints."""
    out = stages["out"]
    cfg = compose_tiny("qvim_clap_align", out, data_root, "align", f"qvim_checkpoint={stages['qvim']}",
                       f"clap_checkpoint={stages['clap']}", "epochs=2")
    train(cfg)
    align = run_id_of(out, "qvim_clap_align")
    (run,) = [r for r in all_runs(out) if r.info.run_id == align]
    assert {"val/mrr", "val/query_key", "val/query_adapted_reference", "val/adapted_reference_key",
            "val/tau_query_key"} <= set(run.data.metrics)
    checkpoint = out / "align" / "checkpoints" / "last.ckpt"
    module, config = load_module(checkpoint)
    assert config["encoder"]["query"]["pretrained"].endswith(".ckpt")  # the resolved stage link is recorded
    (best,) = (out / "qvim" / "checkpoints").glob("epoch*.ckpt")  # a run id links to its best
    qvim, _ = load_module(best)
    for name, value in qvim.encoder.state_dict().items():  # the frozen stage was not changed by training
        assert torch.equal(module.encoder.query.state_dict()[name], value), name
    # The earlier stages' weights are inside: reloading needs none of their files.
    for folder in ("qvim", "clap"):
        for file in (out / folder / "checkpoints").iterdir():
            file.unlink()
    module, _ = load_module(checkpoint)
    assert evaluate(str(checkpoint), out / "mlflow", log_to_mlflow=False)["mrr"] > 0

