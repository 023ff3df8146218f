"""Multi-stage systems: a later stage loads parts and settings of earlier stages' checkpoints.

An experiment declares the earlier stages it needs under `stage_inputs` (root key → the kinds of
stage it must name), and sets those root keys to a checkpoint path or an MLflow run id:

    stage_inputs:
      qvim_checkpoint: {kind: [qvim], made_by: +experiment=qvim, pipeline: vocaldm}
    qvim_checkpoint: ???

Anywhere in the config, a *stage reference* node names such a root key:

    {_stage_: qvim_checkpoint}                                → the checkpoint's path
    {_stage_: qvim_checkpoint, key: data.fields.imitation}   → that stage's config value at `key`
    {_stage_: qvim_checkpoint, key: encoder, prefix: encoder.} → a `load_part` config: the part
                                                                  built from its config, weights under `prefix`

A stage whose declared kinds include "stable_diffusion" also takes a local Stable Diffusion folder in
place of a checkpoint (vocalgen.stable_diffusion_stage): its parts then load from the folder.

Composing never opens a checkpoint (so `--cfg job` prints every experiment without any);
`resolve_stages` replaces the references just before the run is built. The resolved config (what a
later stage's checkpoint records) then holds the earlier parts' architecture, so it reloads without
the earlier files. A checkpoint records its stage kind as data (the root key `stage_kind`), so a
renamed or moved class does not make old checkpoints unreadable.
"""

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from torch import nn

from vocalgen.callbacks.config_in_checkpoint import CHECKPOINT_KEY
from vocalgen.checkpoints import read_checkpoint, resolve_checkpoint, without_pretrained
from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.stable_diffusion_stage import (
    STABLE_DIFFUSION_KIND,
    is_stable_diffusion_folder,
    stable_diffusion_stage_config,
)

STAGE_KEY = "_stage_"
CLAP_KINDS = ["clap_gpt2", "clap_transformer"]  # what +experiment=clap records, after its text tower

# Checkpoints written before `stage_kind` was recorded: their kind from the experiment that made them.
LEGACY_KINDS = {"qvim": "qvim", "qvim_clap_align": "qvim_clap_align", "mel_vae": "mel_vae", "vocoder": "vocoder",
                "encodec": "encodec", "audioldm_refined": "latent_diffusion", "audioldm": "latent_diffusion"}


def recorded_kind(config: dict[str, Any]) -> str | None:
    """The stage kind a checkpoint's config records (`stage_kind`); for older checkpoints, inferred
    from the experiment that wrote them (a CLAP's kind names its text tower: clap_gpt2 or clap_transformer)."""
    if config.get("stage_kind"):
        return str(config["stage_kind"])
    name = config.get("experiment_name")
    if name == "clap":
        return f"clap_{OmegaConf.select(OmegaConf.create(config), 'generator.tower.tower.backbone')}"
    return LEGACY_KINDS.get(name)


def stage_checkpoint(reference: str, mlflow_dir: str | Path) -> Path:
    """The best checkpoint of run id `reference`, or the path `reference`; CheckpointError if absent."""
    path = resolve_checkpoint(str(reference), mlflow_dir, "best")
    if not path.is_file():
        raise CheckpointError(f"stage checkpoint {reference} is neither a file nor an MLflow run id with checkpoints.")
    return path.resolve()


def read_stage_config(path: Path, kinds: list[str], input_key: str, made_by: str) -> dict[str, Any]:
    """The resolved config recorded in checkpoint `path`, checked to be one of `kinds`."""
    config = read_checkpoint(path)[CHECKPOINT_KEY]["config"]
    kind = recorded_kind(config)
    if kind not in kinds:
        raise CheckpointError(f"{input_key}: checkpoint {path} is a '{kind}' stage (experiment "
                              f"'{config.get('experiment_name')}'); this stage needs a {' or '.join(kinds)} "
                              f"checkpoint ({made_by}).")
    return config


def missing_inputs_message(cfg: DictConfig) -> str | None:
    """One line naming the first declared stage input that is not set, what makes it and the
    pipeline that makes it for you; None when every input is set."""
    for key, spec in (cfg.get("stage_inputs") or {}).items():
        if OmegaConf.is_missing(cfg, key):
            pipeline = spec.get("pipeline")
            hint = (f"; `python -m vocalgen.pipeline +pipeline={pipeline}` (or {pipeline}_cpu) trains the earlier "
                    f"stages and hands them on" if pipeline else "")
            return f"{cfg.experiment_name} needs {key}=RUN_ID_OR_CHECKPOINT, a run of {spec.made_by}{hint}."
    return None


class StageResolver:
    """Replaces the stage references of one config, reading each earlier checkpoint once."""

    def __init__(self, cfg: DictConfig) -> None:
        self.cfg = cfg
        self.inputs = cfg.get("stage_inputs") or {}
        self.mlflow_dir = cfg.paths.mlflow_dir
        self.paths: dict[str, Path | None] = {}
        self.configs: dict[str, DictConfig] = {}

    def path(self, input_key: str) -> Path | None:
        """The checkpoint root key `input_key` names; None when it is null (an optional stage)."""
        if input_key not in self.paths:
            if input_key not in self.inputs:
                raise ConfigError(f"a stage reference names '{input_key}', which stage_inputs does not declare; "
                                  f"add stage_inputs.{input_key} (kind, made_by, pipeline) to the experiment.")
            reference = self.cfg[input_key]
            if reference is None and not self.inputs[input_key].get("optional"):
                raise ConfigError(f"{input_key} is null, but {self.cfg.experiment_name} cannot do without it; "
                                  f"set it to a run of {self.inputs[input_key].made_by}.")
            if reference is None:
                self.paths[input_key] = None
            elif is_stable_diffusion_folder(str(reference)):
                self.paths[input_key] = Path(str(reference)).expanduser().resolve()
            else:
                self.paths[input_key] = stage_checkpoint(str(reference), self.mlflow_dir)
        return self.paths[input_key]

    def config(self, input_key: str) -> DictConfig:
        """The resolved config recorded in the checkpoint of `input_key` (read once), checked to be a declared kind."""
        if input_key not in self.configs:
            spec = self.inputs[input_key]
            kinds = [spec.kind] if isinstance(spec.kind, str) else list(spec.kind)
            path = self.path(input_key)
            if path.is_dir() and STABLE_DIFFUSION_KIND not in kinds:
                raise CheckpointError(f"{input_key}: {path} is a Stable Diffusion folder; this stage needs a "
                                      f"{' or '.join(kinds)} checkpoint ({spec.made_by}).")
            config = stable_diffusion_stage_config(path) if path.is_dir() else read_stage_config(path, kinds, input_key,
                                                                                                 spec.made_by)
            self.configs[input_key] = OmegaConf.create(config)
        return self.configs[input_key]

    def replacement(self, node: dict[str, Any]) -> Any:
        """What the stage reference `node` stands for (see the module docstring)."""
        input_key, key, prefix = node[STAGE_KEY], node.get("key"), node.get("prefix")
        path = self.path(input_key)
        if path is None or key is None:
            return None if path is None else str(path)
        value = OmegaConf.select(self.config(input_key), key)
        if value is None:
            raise CheckpointError(f"{input_key}: checkpoint {path} has no '{key}' in its config.")
        if OmegaConf.is_config(value):
            value = OmegaConf.to_container(value)
        if path.is_dir():  # a Stable Diffusion folder: its parts load from there (`pretrained`)
            return value
        value = without_pretrained(value)
        if prefix is None:
            return value
        return {"_target_": "vocalgen.stages.load_part", "part": value, "pretrained": str(path), "prefix": prefix}

    def resolve(self, node: Any) -> Any:
        """`node` (a plain container, interpolations unresolved) with every stage reference replaced."""
        if isinstance(node, dict):
            if STAGE_KEY in node:
                return self.replacement(node)
            return {name: self.resolve(child) for name, child in node.items()}
        if isinstance(node, list):
            return [self.resolve(child) for child in node]
        return node


def resolve_stages(cfg: DictConfig) -> DictConfig:
    """A copy of `cfg` with every stage reference replaced (earlier checkpoints are opened here).

    ConfigError naming the key when a declared stage input is not set; CheckpointError when a
    checkpoint is missing, unreadable or of the wrong kind.
    """
    message = missing_inputs_message(cfg)
    if message:
        raise ConfigError(message)
    resolved = OmegaConf.create(StageResolver(cfg).resolve(OmegaConf.to_container(cfg, resolve=False)))
    OmegaConf.set_struct(resolved, OmegaConf.is_struct(cfg))
    return resolved


def load_stage_weights(module: nn.Module, checkpoint: str | Path, prefix: str) -> None:
    """Load the tensors under `prefix` (e.g. "encoder.") of a vocalgen checkpoint into `module`, strictly."""
    state = read_checkpoint(checkpoint)["state_dict"]
    part = {name[len(prefix):]: value for name, value in state.items() if name.startswith(prefix)}
    if not part:
        raise CheckpointError(f"checkpoint {checkpoint} holds no weights under '{prefix}'.")
    try:
        module.load_state_dict(part)
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint {checkpoint}: the weights under '{prefix}' do not fit "
                              f"{type(module).__name__} ({str(error).splitlines()[0]}).") from error


def load_part(part: nn.Module, pretrained: str | None, prefix: str) -> nn.Module:
    """`part` (built from an earlier stage's config) with its weights from checkpoint `pretrained`
    under `prefix`; with `pretrained` None (a reloaded later stage) the weights come from that stage."""
    if pretrained:
        load_stage_weights(part, pretrained, prefix)
    return part
