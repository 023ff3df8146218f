"""The table a pipeline prints at its end, and the commands to use its last stage."""

from collections.abc import Sequence

from vocalgen.pipeline.runner import StageOutcome
from vocalgen.pipeline.spec import PipelineSpec

COLUMNS = ("stage", "experiment", "run id", "how", "monitored metric (best)", "minutes", "checkpoint")


def outcome_table(outcomes: Sequence[StageOutcome]) -> str:
    """One row a stage: name, experiment, MLflow run id, trained / resumed / reused, its monitored
    metric at the best checkpoint, the run's wall time and the best checkpoint's path."""
    rows = [COLUMNS]
    for outcome in outcomes:
        run = outcome.run
        metric = f"{run.monitor} = {run.score}" if run.monitor != "-" else "-"
        minutes = f"{run.minutes:.1f}" if run.minutes is not None else "-"
        rows.append((outcome.stage.name, outcome.stage.experiment, run.run_id, outcome.how, metric, minutes,
                     run.checkpoint))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
             for row in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def next_commands(spec: PipelineSpec, outcomes: Sequence[StageOutcome]) -> list[str]:
    """The pipeline's `commands` with each {stage} replaced by that stage's run id."""
    run_ids = {outcome.stage.name: outcome.run.run_id for outcome in outcomes}
    return [command.format_map(run_ids) for command in spec.commands]
