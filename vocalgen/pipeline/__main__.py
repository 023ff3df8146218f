"""`python -m vocalgen.pipeline +pipeline=NAME [override …]`: train a whole system, stage by stage.

Overrides reach every stage (`debug=limit`, `data.root=…`, `seed=1`); `+stage.NAME.KEY=VALUE` reaches
stage NAME only (`+stage.qvim.epochs=5`); `force=[NAME,…]` or `force=all` retrains stages that a
finished run of the same config would otherwise supply. With `-m`, each job of a sweep is one
pipeline run: stages untouched by the swept values are trained once and reused by the other jobs.
"""

import signal
import sys
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from vocalgen.cli import command
from vocalgen.config import register_resolvers
from vocalgen.pipeline.report import next_commands, outcome_table
from vocalgen.pipeline.runner import PipelineRunner, parent_run_tags
from vocalgen.pipeline.spec import forced_stages, parse_pipeline, split_overrides
from vocalgen.pipeline.termination import Terminated, sigterm_as_interrupt
from vocalgen.tracking import sweep_job

register_resolvers()


def run_pipeline(cfg: DictConfig, task_overrides: list[str], run_dir: Path) -> None:
    """Run the pipeline `cfg.pipeline` with the command's `task_overrides`; print its table."""
    spec = parse_pipeline(cfg)
    common, per_stage = split_overrides(task_overrides, spec)
    force = cfg.get("force")
    forced = forced_stages(OmegaConf.to_container(force) if OmegaConf.is_config(force) else force, spec)
    runner = PipelineRunner(spec, cfg, common, per_stage, forced, run_dir,
                            parent_run_tags(task_overrides, sweep_job()))
    outcomes = runner.run()
    print(f"\npipeline {spec.name}: MLflow run {runner.parent} (experiment {runner.experiment})\n")
    print(outcome_table(outcomes))
    commands = next_commands(spec, outcomes)
    if commands:
        print("\nnext:\n" + "\n".join(f"  {command}" for command in commands))


def stopped(interrupt: KeyboardInterrupt) -> tuple[str, int]:
    """The line an interrupted pipeline ends with, and its exit status as a shell reports the signal: 130 for
    Ctrl-C (SIGINT), 143 for SIGTERM (Terminated)."""
    status = 128 + (signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT)
    return (f"pipeline stopped ({str(interrupt) or 'Ctrl-C'}): a stage in training saved its last.ckpt and its run, "
            "like the pipeline's, is marked KILLED; the same command resumes where it stopped.", status)


@command("run_pipeline")
def main(cfg: DictConfig) -> None:
    """Ctrl-C or SIGTERM ends it with one line saying how to resume (`stopped`), once the running stage has saved
    its last.ckpt and the runs are marked KILLED."""
    hydra_cfg = HydraConfig.get()
    with sigterm_as_interrupt():
        try:
            run_pipeline(cfg, list(hydra_cfg.overrides.task), Path(hydra_cfg.runtime.output_dir))
        except KeyboardInterrupt as interrupt:
            line, status = stopped(interrupt)
            print(line, file=sys.stderr)
            sys.exit(status)


if __name__ == "__main__":
    main()
