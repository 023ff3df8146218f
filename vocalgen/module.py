"""VocalGenModule: the one LightningModule that trains every encoder → adapter → generator chain."""

from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
import torch
from torch.optim import Optimizer

from vocalgen.interfaces import Adapter, Batch, Encoder, Generator, Loss, Outputs
from vocalgen.param_groups import build_param_groups, frozen_module_names, parse_rules


class VocalGenModule(L.LightningModule):
    """Runs batch → encoder → adapter → generator.training_forward → loss (DESIGN.md).

    `optimizer` and `scheduler` are partials: optimizer(param_groups) and
    scheduler(optimizer, total_steps=…). `param_groups` holds rules (see vocalgen.param_groups).
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

    def step(self, batch: Batch, stage: str) -> torch.Tensor:
        terms = self.loss(self(batch), step=self.global_step)
        batch_size = next(v for v in batch.values() if isinstance(v, torch.Tensor)).shape[0]
        self.log_dict(
            {f"{stage}/{name}": value.detach() for name, value in terms.items() if name != "loss"},
            on_step=stage == "train", on_epoch=True, sync_dist=True, batch_size=batch_size,
        )
        self.log(f"{stage}/loss", terms["loss"].detach(), on_step=stage == "train", on_epoch=True,
                 prog_bar=True, sync_dist=True, batch_size=batch_size)
        return terms["loss"]

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        return self.step(batch, "train")

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self.step(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self.step(batch, "test")

    def train(self, mode: bool = True) -> "VocalGenModule":
        """Frozen sub-modules stay in eval mode (BatchNorm statistics stay fixed)."""
        super().train(mode)
        for name in self.frozen:
            self.get_submodule(name).eval()
        return self

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(build_param_groups(self, self.rules))
        if self.scheduler_factory is None:
            return optimizer
        total_steps = int(self.trainer.estimated_stepping_batches)
        scheduler = self.scheduler_factory(optimizer, total_steps=total_steps)
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
    )
