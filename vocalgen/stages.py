"""Multi-stage systems: a later stage names an earlier stage's checkpoint (path or MLflow run id).

`${stage_part:REF,KEY,KIND}` resolves to the config of part KEY (e.g. "encoder",
"generator.tower") of checkpoint REF, after checking that REF was trained by a KIND experiment;
`${stage_checkpoint:REF}` resolves to the checkpoint's path; `${optional_stage:REF,KEY,KIND,PREFIX}` to a
whole `load_part` config of that part (weights under PREFIX), or null when REF is null. The resolved config of the later
stage then holds the earlier parts' architecture, so its own checkpoints load without REF.
"""

from functools import lru_cache
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from torch import nn

from vocalgen.callbacks.config_in_checkpoint import CHECKPOINT_KEY
from vocalgen.checkpoints import read_checkpoint, resolve_checkpoint, without_pretrained
from vocalgen.errors import CheckpointError

# kind → ({config key: the class path a checkpoint of that kind has there}, the experiment to run)
STAGE_KINDS = {
    "qvim": ({"generator._target_": "vocalgen.generators.retrieval_head.RetrievalHead",
              "generator.tower._target_": "vocalgen.encoders.spectrogram.SpectrogramEncoder"}, "+experiment=qvim"),
    "clap": ({"encoder._target_": "vocalgen.encoders.clap.encoders.ClapAudioEncoder",
              "generator.tower._target_": "vocalgen.encoders.clap.encoders.ClapTextEncoder"}, "+experiment=clap"),
    "clap_gpt2": ({"encoder._target_": "vocalgen.encoders.clap.encoders.ClapAudioEncoder",
                   "generator.tower.tower.backbone": "gpt2"}, "+experiment=clap"),
    "clap_transformer": ({"encoder._target_": "vocalgen.encoders.clap.encoders.ClapAudioEncoder",
                          "generator.tower.tower.backbone": "transformer"},
                         "+experiment=clap generator.tower.tower.backbone=transformer"),
    "qvim_clap_align": ({"adapter._target_": "vocalgen.adapters.alignment_mlp.AlignmentMLP",
                         "generator.tower.part._target_": "vocalgen.encoders.clap.encoders.ClapAudioEncoder"},
                        "+experiment=qvim_clap_align"),
    "mel_vae": ({"generator._target_": "vocalgen.generators.mel_autoencoder.MelVAEAutoencoder"},
                "+experiment=mel_vae"),
    "vocoder": ({"generator._target_": "vocalgen.generators.hifigan_vocoder.HifiGanVocoder"}, "+experiment=vocoder"),
    "encodec": ({"generator._target_": "vocalgen.generators.encodec_autoencoder.EncodecAutoencoder"},
                "+experiment=encodec"),
    "latent_diffusion": ({"generator._target_": "vocalgen.generators.latent_diffusion.LatentDiffusion"},
                         "+experiment=audioldm_refined"),
}


@lru_cache(maxsize=8)
def _stage_config(path: str, modified: int) -> dict[str, Any]:
    return read_checkpoint(path)[CHECKPOINT_KEY]["config"]


def stage_checkpoint(reference: str, mlflow_dir: str | Path) -> Path:
    """The best checkpoint of run id `reference`, or the path `reference`; CheckpointError if absent."""
    path = resolve_checkpoint(str(reference), mlflow_dir, "best")
    if not path.is_file():
        raise CheckpointError(f"stage checkpoint {reference} is neither a file nor an MLflow run id with checkpoints.")
    return path.resolve()


def stage_part_config(reference: str, key: str, kind: str, mlflow_dir: str | Path) -> Any:
    """The config of part `key` (or a single value) in the checkpoint `reference`, checked to be a `kind` checkpoint."""
    path = stage_checkpoint(reference, mlflow_dir)
    config = _stage_config(str(path), path.stat().st_mtime_ns)
    checks, experiment = STAGE_KINDS[kind]
    tree = OmegaConf.create(config)
    for where, expected in checks.items():
        found = OmegaConf.select(tree, where)
        if found != expected:
            raise CheckpointError(f"stage checkpoint {path} comes from experiment '{config.get('experiment_name')}' "
                                  f"({where} = {found}); this stage needs a {kind} checkpoint ({experiment}).")
    part = OmegaConf.select(tree, key)
    if part is None:
        raise CheckpointError(f"stage checkpoint {path} has no part '{key}' in its config.")
    return without_pretrained(OmegaConf.to_container(part)) if OmegaConf.is_config(part) else part


def register_stage_resolvers() -> None:
    """Register `stage_part` and `stage_checkpoint` (they read paths.mlflow_dir from the root config)."""
    if OmegaConf.has_resolver("stage_part"):
        return

    def part(reference: str, key: str, kind: str, _root_: DictConfig) -> Any:
        found = stage_part_config(reference, key, kind, _root_.paths.mlflow_dir)
        return OmegaConf.create(found) if isinstance(found, dict | list) else found

    def checkpoint(reference: str, _root_: DictConfig) -> str:
        return str(stage_checkpoint(reference, _root_.paths.mlflow_dir))

    def optional(reference: str | None, key: str, kind: str, prefix: str, _root_: DictConfig) -> Any:
        if reference is None:
            return None
        return OmegaConf.create({"_target_": "vocalgen.stages.load_part",
                                 "part": part(reference, key, kind, _root_),
                                 "pretrained": checkpoint(reference, _root_), "prefix": prefix})

    OmegaConf.register_new_resolver("stage_part", part)
    OmegaConf.register_new_resolver("stage_checkpoint", checkpoint)
    OmegaConf.register_new_resolver("optional_stage", optional)


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
    """`part` (built from `${stage_part:…}`) with its weights from checkpoint `pretrained` under
    `prefix`; with `pretrained` None (a reloaded later stage) the weights come from that stage."""
    if pretrained:
        load_stage_weights(part, pretrained, prefix)
    return part
