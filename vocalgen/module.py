"""VocalGenModule: the one LightningModule that trains every encoder → adapter → generator chain."""

import math
from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
import torch
from torch.optim import Optimizer

from vocalgen.adversarial import AdversarialTraining
from vocalgen.data.pre_encoded import ENCODED_FIELD, LATENTS_FIELD
from vocalgen.errors import ConfigError
from vocalgen.fingerprint import weights_fingerprint
from vocalgen.interfaces import Adapter, Batch, Encoder, Generator, Loss, Outputs
from vocalgen.metrics.retrieval_evaluator import RetrievalEvaluator
from vocalgen.param_groups import build_param_groups, frozen_module_names, parse_rules, set_frozen_modes


def batch_size_of(batch: Batch) -> int:
    """The number of items in `batch` (its "index" field, else its first field)."""
    return len(batch["index"]) if "index" in batch else len(next(iter(batch.values())))


class VocalGenModule(L.LightningModule):
    """Runs batch → encoder → adapter → generator.training_forward → loss (docs/design.md).

    `optimizer` and `scheduler` are partials: optimizer(param_groups) and
    scheduler(optimizer, total_steps=…, steps_per_epoch=…). `param_groups` holds rules (see
    vocalgen.param_groups). `metrics` are epoch-level evaluators (update(outputs, batch) per
    validation/test batch, compute() logged as "val/<name>" / "test/<name>" at the epoch's end).
    `adversarial` (optional) trains a discriminator against the generator's output with a second
    optimizer (manual optimisation; see vocalgen.adversarial).
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
        adversarial: AdversarialTraining | None = None,
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
        self.adversarial = adversarial
        self.automatic_optimization = adversarial is None

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
        if getattr(datamodule, "cache", None):
            fingerprint = self.pre_encoding_fingerprint()
            self.to(self.trainer.strategy.root_device)  # the strategy would move it there next anyway
            datamodule.use_pre_encoded(self.pre_encode, fingerprint)

    def pre_encoding_fingerprint(self) -> dict[str, str]:
        """What pre-encoded training items depend on: the generator's pretransform (if any) and the
        encoder's weights. ConfigError when the generator reads batch fields that no pretransform would
        pre-encode, or the encoder still learns."""
        pretransform = getattr(self.generator, "pretransform", None)
        if pretransform is None and self.generator.reads_batch:
            raise ConfigError(f"data.cache is set, but the generator ({type(self.generator).__name__}) has no "
                              "pretransform to pre-encode its targets with; set data.cache=null.")
        if "encoder" not in self.frozen and any(parameter.requires_grad for parameter in self.encoder.parameters()):
            raise ConfigError("data.cache stores the encoder's outputs once, but the encoder is trained; freeze it "
                              "(param_groups=[{modules:[encoder],frozen:true}]) or set data.cache=null.")
        fingerprint = {"encoder": weights_fingerprint(self.encoder)}
        return {**fingerprint, "pretransform": pretransform.fingerprint} if pretransform is not None else fingerprint

    @torch.no_grad()
    def pre_encode(self, batch: Batch) -> Batch:
        """batch → {"encoded": the encoder's output, and "latents": the pretransform's latents of the
        generator's target field when it has a pretransform}; what data.cache stores so that training
        skips both."""
        batch = self.transfer_batch_to_device(batch, self.device, 0)
        self.encoder.eval()  # frozen: stays in eval mode while training too
        stored = {ENCODED_FIELD: self.encoder(batch)}
        pretransform = getattr(self.generator, "pretransform", None)
        if pretransform is not None:
            stored[LATENTS_FIELD] = pretransform.encode(batch[self.generator.target_field])
        return stored

    def condition(self, batch: Batch) -> Outputs:
        """batch → adapter outputs; "condition" is what the generator receives. A pre-encoded batch
        carries the encoder's output already."""
        encoded = batch[ENCODED_FIELD] if ENCODED_FIELD in batch else self.encoder(batch)
        return self.adapter(encoded)

    def forward(self, batch: Batch) -> Outputs:
        adapted = self.condition(batch)
        return {**adapted, **self.generator.training_forward(batch, adapted["condition"])}

    @torch.no_grad()
    def generate(self, batch: Batch, **sampling: Any) -> torch.Tensor:
        """batch → generated output (e.g. audio [B, 1, N] at generator.sample_rate). An unconditional
        chain (condition {}) generates one output per item of the batch too."""
        condition = self.condition(batch)["condition"]
        if isinstance(condition, dict) and not condition:
            sampling = {"batch_size": batch_size_of(batch), **sampling}
        return self.generator.generate(condition, **sampling)

    def log_terms(self, terms: Outputs, stage: str, batch: Batch) -> None:
        """Log named loss terms as "<stage>/<name>" ("loss" on the progress bar)."""
        batch_size = batch_size_of(batch)
        self.log_dict(
            {f"{stage}/{name}": value.detach() for name, value in terms.items() if name != "loss"},
            on_step=stage == "train", on_epoch=True, sync_dist=True, batch_size=batch_size,
        )
        if "loss" in terms:
            self.log(f"{stage}/loss", terms["loss"].detach(), on_step=stage == "train", on_epoch=True,
                     prog_bar=True, sync_dist=True, batch_size=batch_size)

    def step(self, batch: Batch, stage: str) -> tuple[torch.Tensor, Outputs]:
        """Loss of one batch, logged under `stage`; returns (total loss, the model outputs)."""
        outputs = self(batch)
        terms = self.loss(outputs, step=self.global_step)
        self.log_terms(terms, stage, batch)
        return terms["loss"], outputs

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        if self.adversarial is None:
            return self.step(batch, "train")[0]
        return self.adversarial_training_step(batch)

    def adversarial_training_step(self, batch: Batch) -> torch.Tensor:
        """Manual optimisation: a discriminator step on real vs generated audio (once active), then a
        generator step on the loss plus the adversarial terms. Only the generator's optimizer counts
        in global_step (the discriminator's steps through its raw optimizer)."""
        generator_optimizer, discriminator_optimizer = self.optimizers()
        adversarial = self.adversarial
        outputs = self(batch)
        terms = self.loss(outputs, step=self.global_step)
        total = terms["loss"]
        if adversarial.active(self.global_step):
            judged = adversarial.discriminator_terms(outputs)
            discriminator_optimizer.zero_grad(set_to_none=True)
            self.manual_backward(judged["disc_loss"])
            self.clip(discriminator_optimizer)
            discriminator_optimizer.optimizer.step()
            fooled = adversarial.generator_terms(outputs)
            total = total + fooled["generator_total"]
            terms = {**terms, **judged, **fooled, "loss": total}
        generator_optimizer.zero_grad(set_to_none=True)
        self.manual_backward(total)
        self.clip(generator_optimizer)
        generator_optimizer.step()
        schedulers = self.lr_schedulers()
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []:
            scheduler.step()
        self.log_terms(terms, "train", batch)
        return total.detach()

    def clip(self, optimizer: Optimizer) -> None:
        if self.adversarial.gradient_clip:
            self.clip_gradients(optimizer, gradient_clip_val=self.adversarial.gradient_clip,
                                gradient_clip_algorithm="norm")

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
        """Frozen sub-modules stay in eval mode (BatchNorm statistics stay fixed); trained parts inside
        them keep training mode (see param_groups.set_frozen_modes)."""
        super().train(mode)
        set_frozen_modes(self, self.rules, mode)
        return self

    def on_fit_start(self) -> None:
        """The discriminator steps through its raw optimizer, which float16 loss scaling would skip."""
        if self.adversarial is not None and str(self.trainer.precision).startswith("16"):
            raise ConfigError(f"trainer.precision={self.trainer.precision} with adversarial training: use "
                              "bf16-mixed or 32-true (float16 loss scaling is not applied to the discriminator).")

    def on_train_epoch_start(self) -> None:
        """Lightning restores the modes it captured around the sanity check (all "train" for a
        fresh model) without calling train(): put frozen sub-modules back in eval mode."""
        set_frozen_modes(self, self.rules, True)

    def configure_optimizers(self) -> Any:
        exclude = ["adversarial"] if self.adversarial is not None else []
        optimizer = self.optimizer_factory(build_param_groups(self, self.rules, exclude))
        configured: dict[str, Any] = {"optimizer": optimizer}
        if self.scheduler_factory is not None:
            total_steps = int(self.trainer.estimated_stepping_batches)  # also sets num_training_batches
            batches = self.trainer.num_training_batches
            steps_per_epoch = (math.ceil(batches / self.trainer.accumulate_grad_batches) if math.isfinite(batches)
                               else total_steps)
            scheduler = self.scheduler_factory(optimizer, total_steps=total_steps, steps_per_epoch=steps_per_epoch)
            configured["lr_scheduler"] = {"scheduler": scheduler, "interval": "step"}
        if self.adversarial is None:
            return configured
        discriminator = self.adversarial.optimizer_factory(self.adversarial.discriminator.parameters())
        return [configured, {"optimizer": discriminator}]


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
        adversarial=instantiate(cfg.adversarial) if cfg.get("adversarial") else None,
    )
