"""Runs a pipeline: composes every stage first (errors before any training), then for each stage in
dependency order reuses a finished run of the same config, resumes a broken one, or trains it as a
`python -m vocalgen.train` child process nested under the pipeline's MLflow run."""

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra import compose
from omegaconf import DictConfig, OmegaConf

from vocalgen.config_digest import config_digest
from vocalgen.errors import ConfigError, VocalGenError
from vocalgen.pipeline.runs import StageRun, last_checkpoint, resumable_run, reusable_run, runs_with_digest, stage_run
from vocalgen.pipeline.spec import PipelineSpec, StageSpec
from vocalgen.pipeline.termination import Terminated, interrupted_from_the_terminal
from vocalgen.tracking import CHECKPOINT_DIR_TAG, ensure_experiment, store_uri

MLFLOW_LOGGER = "vocalgen.tracking.make_mlflow_logger"


class StageFailed(VocalGenError):
    """A stage's training process ended with an error (its own output says which)."""


@dataclass(frozen=True)
class StagePlan:
    """A stage composed for this invocation: the overrides its training gets, its config and its digest."""

    stage: StageSpec
    overrides: list[str]
    cfg: DictConfig
    digest: str


@dataclass(frozen=True)
class StageOutcome:
    """One row of the final table: how the stage was obtained (trained, resumed or reused) and its run."""

    stage: StageSpec
    how: str
    run: StageRun


def compose_stage(spec: PipelineSpec, stage: StageSpec, common: list[str], own: list[str],
                  run_ids: dict[str, str]) -> StagePlan:
    """The stage's training config: its experiment, the pipeline's overrides for every stage, the run
    ids of its inputs, then the pipeline file's and the command line's overrides for this stage (so
    that e.g. +stage.ldm.vocoder_checkpoint=null can replace an input)."""
    inputs = [f"{key}={run_ids.get(source, '???')}" for key, source in stage.inputs.items()]
    overrides = [f"+experiment={stage.experiment}", *common, *inputs, *stage.overrides, *own]
    try:
        cfg = compose(config_name="train", overrides=overrides)
    except Exception as error:  # Hydra's composition errors say which override is at fault
        raise ConfigError(f"pipeline {spec.name}, stage '{stage.name}' ({stage.experiment}): {error}") from error
    where = f"pipeline {spec.name}, stage '{stage.name}' ({stage.experiment})"
    if cfg.trainer.get("fast_dev_run"):
        raise ConfigError(f"{where}: debug=fdr / trainer.fast_dev_run saves no checkpoint for the next stage; use "
                          "debug=limit for a quick pipeline, or fast-dev-run one experiment with vocalgen.train.")
    if cfg.logger.get("_target_") != MLFLOW_LOGGER:
        raise ConfigError(f"{where}: logger={cfg.logger.get('_target_')} cannot hand a run on; a pipeline needs "
                          "logger=mlflow (its runs are found and reused through MLflow).")
    for key in (cfg.get("stage_inputs") or {}):
        if OmegaConf.is_missing(cfg, key) and key not in stage.inputs:
            raise ConfigError(f"{where} needs {key}, and the pipeline feeds it no stage: add `inputs: {{{key}: "
                              f"STAGE}}` to pipeline.stages.{stage.name}, or +stage.{stage.name}.{key}=RUN_ID.")
    return StagePlan(stage, overrides, cfg, config_digest(cfg))


class PipelineRunner:
    """Runs `spec` once (one Hydra job), recording it as one parent MLflow run (`parent`, made by `run`)."""

    def __init__(self, spec: PipelineSpec, cfg: DictConfig, common: list[str], per_stage: dict[str, list[str]],
                 forced: set[str], run_dir: Path, tags: dict[str, str]) -> None:
        from mlflow.tracking import MlflowClient

        self.spec, self.cfg, self.common, self.per_stage, self.forced = spec, cfg, common, per_stage, forced
        self.run_dir = run_dir
        self.mlflow_dir = cfg.paths.mlflow_dir
        self.client = MlflowClient(store_uri(self.mlflow_dir))
        self.experiment = f"pipeline/{spec.name}"
        self.tags = {"pipeline": spec.name, **tags}
        self.parent = ""

    def check_all(self) -> None:
        """Compose every stage before training any (stages fed by earlier ones with placeholder ids),
        so that a typo in an override or a stage without its inputs fails in seconds."""
        placeholders = {stage.name: "0" * 32 for stage in self.spec.stages}
        for stage in self.spec.stages:
            compose_stage(self.spec, stage, self.common, self.per_stage[stage.name], placeholders)

    def run(self) -> list[StageOutcome]:
        """Every stage in order, after all were composed; the parent run ends FINISHED, FAILED or KILLED."""
        self.check_all()  # before the parent run exists: a config error leaves nothing in MLflow
        experiment_id = ensure_experiment(self.client, self.experiment, self.cfg.paths.mlflow_artifacts_dir)
        self.parent = self.client.create_run(experiment_id, run_name=self.spec.name, tags=self.tags).info.run_id
        outcomes: list[StageOutcome] = []
        run_ids: dict[str, str] = {}
        try:
            for stage in self.spec.stages:
                plan = compose_stage(self.spec, stage, self.common, self.per_stage[stage.name], run_ids)
                outcome = self.obtain(plan)
                run_ids[stage.name] = outcome.run.run_id
                outcomes.append(outcome)
                self.client.set_tag(self.parent, f"stage.{stage.name}", f"{outcome.run.run_id} ({outcome.how})")
        except KeyboardInterrupt:
            self.client.set_terminated(self.parent, "KILLED")
            raise
        except BaseException:
            self.client.set_terminated(self.parent, "FAILED")
            raise
        self.client.set_terminated(self.parent, "FINISHED")
        return outcomes

    def obtain(self, plan: StagePlan) -> StageOutcome:
        """Reuse, resume or train the stage of `plan`."""
        stage = plan.stage
        runs = runs_with_digest(self.client, plan.digest)
        if stage.name not in self.forced:
            reusable = reusable_run(runs)
            if reusable is not None:
                self.say(f"stage {stage.name} ({stage.experiment}): reusing finished run {reusable.info.run_id}")
                return StageOutcome(stage, "reused", stage_run(reusable))
            broken = resumable_run(runs)
            if broken is not None:
                last = last_checkpoint(broken)
                folder = Path(broken.data.tags[CHECKPOINT_DIR_TAG]).parent
                self.say(f"stage {stage.name} ({stage.experiment}): resuming run {broken.info.run_id} from {last}")
                self.train(plan, folder, [f"ckpt_path={last}"])
                return StageOutcome(stage, "resumed", self.finished_run(plan))
        folder = self.run_dir / stage.name
        self.say(f"stage {stage.name} ({stage.experiment}): training in {folder}")
        self.train(plan, folder, [])
        return StageOutcome(stage, "trained", self.finished_run(plan))

    def train(self, plan: StagePlan, folder: Path, extra: list[str]) -> None:
        """`python -m vocalgen.train` for the stage, nested under the pipeline's run; StageFailed if it fails."""
        command = [sys.executable, "-m", "vocalgen.train", *plan.overrides, *extra, f"hydra.run.dir={folder}",
                   f"logger.experiment_name={self.experiment}", f"logger.parent_run_id={self.parent}",
                   f"++tags.pipeline={self.spec.name}", f"++tags.stage={plan.stage.name}"]
        code = run_child(command)
        if code != 0:
            raise StageFailed(f"pipeline {self.spec.name}: stage '{plan.stage.name}' ({plan.stage.experiment}) "
                              f"failed (exit status {code}; its log: {folder}/train.log). The same command again "
                              "reuses the finished stages and resumes this one from its last.ckpt.")

    def finished_run(self, plan: StagePlan) -> StageRun:
        run = reusable_run(runs_with_digest(self.client, plan.digest))
        if run is None:
            raise StageFailed(f"stage '{plan.stage.name}' ended, but no finished MLflow run in {self.mlflow_dir} "
                              f"carries its config digest {plan.digest} and a best checkpoint.")
        return stage_run(run)

    def say(self, line: str) -> None:
        print(f"[pipeline {self.spec.name}] {line}", flush=True)


def run_child(command: list[str]) -> int:
    """Run `command` as a child process and return its exit status. On Ctrl-C (which the child gets
    too), a SIGINT sent to the pipeline alone or SIGTERM (both passed on to it) the child is waited for,
    so that it saves its last.ckpt and marks its run KILLED."""
    process = subprocess.Popen(command)
    try:
        return process.wait()
    except KeyboardInterrupt as interrupt:
        if isinstance(interrupt, Terminated):
            process.terminate()
        elif not interrupted_from_the_terminal():
            process.send_signal(signal.SIGINT)
        process.wait()
        raise


def parent_run_tags(overrides: list[str], sweep: dict[str, Any] | None) -> dict[str, str]:
    """Tags of the pipeline's parent run: the command's overrides and, in a multirun, the sweep dir."""
    tags = {"vocalgen.overrides": " ".join(overrides)}
    if sweep is not None:
        tags["vocalgen.sweep"] = sweep["dir"]
    return tags

