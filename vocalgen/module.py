"""VocalGenModule: the one LightningModule that trains every encoder → adapter → generator chain."""

import math
from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
import torch
from torch.optim import Optimizer

from vocalgen.interfaces import Adapter, Batch, Encoder, Generator, Loss, Outputs
from vocalgen.metrics.retrieval_evaluator import RetrievalEvaluator
from vocalgen.param_groups import build_param_groups, frozen_module_names, parse_rules


class VocalGenModule(L.LightningModule):
    """Runs batch → encoder → adapter → generator.training_forward → loss (DESIGN.md).

    `optimizer` and `scheduler` are partials: optimizer(param_groups) and
    scheduler(optimizer, total_steps=…, steps_per_epoch=…). `param_groups` holds rules (see
    vocalgen.param_groups). `metrics` are epoch-level evaluators (update(outputs, batch) per
    validation/test batch, compute() logged as "val/<name>" / "test/<name>" at the epoch's end).
    """

    def __init__(
        self,
        encoder: Encoder,
        adapter: Adapter,
        generator: Generator,
        loss: Loss,
        optimizer: Callable[..., Optimizer],
        scheduler: Callable[..., Any] | None = None,
        param_groups: Sequence[dict] = (),
        metrics: Sequence[RetrievalEvaluator] = (),
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.adapter = adapter
        self.generator = generator
        self.loss = loss
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.rules = parse_rules(param_groups)
        self.frozen = frozen_module_names(self.rules)
        self.metrics = list(metrics)

    def setup(self, stage: str) -> None:
        """Before fitting, parts that learn from the data itself (e.g. a caption tokenizer, via
        `fit_to_data(captions)`) see the training captions; parts already fitted ignore it."""
        datamodule = getattr(self.trainer, "datamodule", None)
        if stage != "fit" or datamodule is None:
            return
        captions = [pair.caption for pair in datamodule.datasets["train"].pairs]
        for part in self.modules():
            if part is not self and callable(getattr(part, "fit_to_data", None)):
                part.fit_to_data(captions)

    def condition(self, batch: Batch) -> Outputs:
        """batch → adapter outputs; "condition" is what the generator receives."""
        return self.adapter(self.encoder(batch))

    def forward(self, batch: Batch) -> Outputs:
        adapted = self.condition(batch)
        return {**adapted, **self.generator.training_forward(batch, adapted["condition"])}

    @torch.no_grad()
    def generate(self, batch: Batch, **sampling: Any) -> torch.Tensor:
        """batch → generated output (e.g. audio [B, 1, N] at generator.sample_rate)."""
        return self.generator.generate(self.condition(batch)["condition"], **sampling)

    def step(self, batch: Batch, stage: str) -> tuple[torch.Tensor, Outputs]:
        """Loss of one batch, logged under `stage`; returns (total loss, the model outputs)."""
        outputs = self(batch)
        terms = self.loss(outputs, step=self.global_step)
        batch_size = next(v for v in batch.values() if isinstance(v, torch.Tensor)).shape[0]
        self.log_dict(
            {f"{stage}/{name}": value.detach() for name, value in terms.items() if name != "loss"},
            on_step=stage == "train", on_epoch=True, sync_dist=True, batch_size=batch_size,
        )
        self.log(f"{stage}/loss", terms["loss"].detach(), on_step=stage == "train", on_epoch=True,
                 prog_bar=True, sync_dist=True, batch_size=batch_size)
        return terms["loss"], outputs

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        return self.step(batch, "train")[0]

    def evaluation_step(self, batch: Batch, stage: str) -> None:
        outputs = self.step(batch, stage)[1]
        for evaluator in self.metrics:
            evaluator.update(outputs, batch)

    def log_metrics(self, stage: str) -> None:
        """Compute every evaluator over the epoch (gathered across processes) and log it."""
        gather = self.all_gather if self.trainer.world_size > 1 else None
        for evaluator in self.metrics:
            values = evaluator.compute(gather)
            self.log_dict({f"{stage}/{name}": value for name, value in values.items()}, prog_bar=True)
            evaluator.reset()

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self.evaluation_step(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self.evaluation_step(batch, "test")

    def on_validation_epoch_start(self) -> None:
        for evaluator in self.metrics:
            evaluator.reset()

    on_test_epoch_start = on_validation_epoch_start

    def on_validation_epoch_end(self) -> None:
        self.log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self.log_metrics("test")

    def train(self, mode: bool = True) -> "VocalGenModule":
        """Frozen sub-modules stay in eval mode (BatchNorm statistics stay fixed)."""
        super().train(mode)
        for name in self.frozen:
            self.get_submodule(name).eval()
        return self

    def on_train_epoch_start(self) -> None:
        """Lightning restores the modes it captured around the sanity check (all "train" for a
        fresh model) without calling train(): put frozen sub-modules back in eval mode."""
        for name in self.frozen:
            self.get_submodule(name).eval()

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(build_param_groups(self, self.rules))
        if self.scheduler_factory is None:
            return optimizer
        total_steps = int(self.trainer.estimated_stepping_batches)  # also sets num_training_batches
        batches = self.trainer.num_training_batches
        steps_per_epoch = (math.ceil(batches / self.trainer.accumulate_grad_batches) if math.isfinite(batches)
                           else total_steps)
        scheduler = self.scheduler_factory(optimizer, total_steps=total_steps, steps_per_epoch=steps_per_epoch)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def build_module(cfg: Any) -> VocalGenModule:
    """Instantiate every part of `cfg` (a DictConfig or plain dict) and inject them into the module."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(cfg) if isinstance(cfg, dict) else cfg
    scheduler = cfg.get("scheduler")
    return VocalGenModule(
        encoder=instantiate(cfg.encoder),
        adapter=instantiate(cfg.adapter),
        generator=instantiate(cfg.generator),
        loss=instantiate(cfg.loss),
        optimizer=instantiate(cfg.optimizer),
        scheduler=instantiate(scheduler) if scheduler else None,
        param_groups=OmegaConf.to_container(cfg.param_groups, resolve=True) if cfg.get("param_groups") else [],
        metrics=[instantiate(evaluator) for evaluator in (cfg.get("metrics") or {}).values() if evaluator],
    )
