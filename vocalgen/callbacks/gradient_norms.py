"""Logs the gradient norm of chosen sub-modules (where fine-tuning signals vanish, e.g. QVIM-LDM's
adapter and FiLM layers)."""

from collections.abc import Sequence

import lightning as L
import torch
from torch.optim import Optimizer


class GradientNormLogger(L.Callback):
    """Before each optimizer step (every `every_n_steps`), logs `grad_norm/<name>`: the L2 norm of
    the gradients of sub-module `name` (e.g. "adapter", "generator.unet.class_embedding")."""

    def __init__(self, modules: Sequence[str], every_n_steps: int = 1) -> None:
        self.modules = list(modules)
        self.every_n_steps = every_n_steps

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Optimizer) -> None:
        if trainer.global_step % self.every_n_steps:
            return
        norms = {}
        for name in self.modules:
            grads = [p.grad.detach().float().norm() for p in pl_module.get_submodule(name).parameters()
                     if p.grad is not None]
            if grads:
                norms[f"grad_norm/{name}"] = torch.stack(grads).norm()
        if norms:
            pl_module.log_dict(norms, on_step=True, on_epoch=False)
