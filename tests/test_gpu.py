"""The GPU path: bf16 mixed precision on one CUDA device (skipped without one)."""

import pytest
import torch

from tests.conftest import all_runs
from vocalgen.train import train

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_bf16_training_on_gpu(tiny_cfg, tmp_path) -> None:
    cfg = tiny_cfg("trainer=gpu", "epochs=2")
    assert cfg.trainer.precision == "bf16-mixed"
    train(cfg)
    (run,) = all_runs(tmp_path)
    assert run.info.status == "FINISHED" and run.data.params["trainer/accelerator"] == "gpu"
