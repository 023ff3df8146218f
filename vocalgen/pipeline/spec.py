"""A pipeline's stages as conf/pipeline/NAME.yaml declares them, in dependency order."""

import re
from dataclasses import dataclass, field

from omegaconf import DictConfig, OmegaConf

from vocalgen.errors import ConfigError

# `+stage.NAME.KEY=VALUE` on the pipeline's command line: KEY=VALUE for stage NAME only
STAGE_OVERRIDE = re.compile(r"^\+{0,2}stage\.(?P<stage>[A-Za-z0-9_]+)\.(?P<override>.+)$")
PIPELINE_KEYS = re.compile(r"^[+~]{0,2}(pipeline|force)(\.|=|$)")


@dataclass(frozen=True)
class StageSpec:
    """One stage: `experiment` (a conf/experiment name), `inputs` (root key → the stage whose run id
    it gets, e.g. {clap_checkpoint: clap}) and `overrides` for this stage only."""

    name: str
    experiment: str
    inputs: dict[str, str] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline: its stages in an order where every stage comes after those it needs, and the
    commands (with {stage} placeholders for run ids) printed at the end."""

    name: str
    stages: tuple[StageSpec, ...]
    commands: tuple[str, ...] = ()


def parse_pipeline(cfg: DictConfig) -> PipelineSpec:
    """The PipelineSpec of `cfg.pipeline`; ConfigError naming the stage or key at fault."""
    if cfg.get("pipeline") is None:
        raise ConfigError("no pipeline chosen: give +pipeline=NAME (one of conf/pipeline/*.yaml).")
    pipeline = cfg.pipeline
    missing = sorted(str(key) for key in pipeline if OmegaConf.is_missing(pipeline, key))
    if missing:
        raise ConfigError(f"pipeline {pipeline.name} needs {', '.join(f'pipeline.{key}=…' for key in missing)} on the "
                          f"command line (conf/pipeline/{pipeline.name}.yaml says what each is).")
    stages = {}
    for name, stage in (pipeline.get("stages") or {}).items():
        if not stage or not stage.get("experiment"):
            raise ConfigError(f"pipeline {pipeline.name}: stage '{name}' names no experiment (pipeline.stages.{name}"
                              ".experiment).")
        inputs = stage.get("inputs")
        stages[name] = StageSpec(name, str(stage.experiment), dict(OmegaConf.to_container(inputs)) if inputs else {},
                                 tuple(stage.get("overrides") or ()))
    if not stages:
        raise ConfigError(f"pipeline {pipeline.name} has no stages (pipeline.stages).")
    for stage in stages.values():
        unknown = sorted(set(stage.inputs.values()) - set(stages))
        if unknown:
            raise ConfigError(f"pipeline {pipeline.name}: stage '{stage.name}' takes inputs from {unknown}, which are "
                              f"not stages of it ({sorted(stages)}).")
    commands = tuple(pipeline.get("commands") or ())
    return PipelineSpec(str(pipeline.name), dependency_order(str(pipeline.name), list(stages.values())), commands)


def dependency_order(pipeline: str, stages: list[StageSpec]) -> tuple[StageSpec, ...]:
    """`stages` in their declared order, except that each comes after the stages it takes inputs from."""
    ordered: list[StageSpec] = []
    placed: set[str] = set()
    while len(ordered) < len(stages):
        ready = next((stage for stage in stages if stage.name not in placed and set(stage.inputs.values()) <= placed),
                     None)
        if ready is None:
            waiting = sorted(stage.name for stage in stages if stage.name not in placed)
            raise ConfigError(f"pipeline {pipeline}: stages {waiting} take inputs from each other in a cycle.")
        ordered.append(ready)
        placed.add(ready.name)
    return tuple(ordered)


def split_overrides(task_overrides: list[str], spec: PipelineSpec) -> tuple[list[str], dict[str, list[str]]]:
    """The pipeline command's overrides → (those for every stage, {stage: those for it only}).
    `pipeline…` and `force=…` are the pipeline's own; `+stage.NAME.KEY=VALUE` goes to stage NAME as KEY=VALUE."""
    names = {stage.name for stage in spec.stages}
    common, per_stage = [], {name: [] for name in names}
    for override in task_overrides:
        if PIPELINE_KEYS.match(override):
            continue
        match = STAGE_OVERRIDE.match(override)
        if match is None:
            common.append(override)
        elif match["stage"] not in names:
            raise ConfigError(f"{override}: pipeline {spec.name} has no stage '{match['stage']}' "
                              f"(its stages: {', '.join(sorted(names))}).")
        else:
            per_stage[match["stage"]].append(match["override"])
    return common, per_stage


def forced_stages(force: object, spec: PipelineSpec) -> set[str]:
    """The stages `force` (a stage name, a list of them, or "all") retrains even when a run matches."""
    names = {stage.name for stage in spec.stages}
    if force in (None, "", []):
        return set()
    if force == "all":
        return names
    wanted = {force} if isinstance(force, str) else set(force)
    unknown = sorted(wanted - names)
    if unknown:
        raise ConfigError(f"force={unknown}: pipeline {spec.name} has no such stage (its stages: "
                          f"{', '.join(sorted(names))}; or force=all).")
    return wanted
