"""`python -m vocalgen.ui_links [MLFLOW_DIR] [BASE_URL]`: the address of each experiment's runs table in the MLflow
UI. MLflow 3 opens an experiment on its GenAI (traces) view unless the address asks for the model-training view
(`workflowType=machine_learning`), so `make ui` prints these links."""

import sys
from pathlib import Path

RUNS_VIEW = "runs?workflowType=machine_learning"


def runs_table_links(mlflow_dir: str | Path, base_url: str = "http://127.0.0.1:5000") -> list[str]:
    """One line per experiment of the store in `mlflow_dir` (none when it has no store yet): its name and
    the URL of its runs table."""
    from mlflow.tracking import MlflowClient

    database = Path(mlflow_dir).resolve() / "mlflow.db"
    if not database.is_file():
        return []
    client = MlflowClient(f"sqlite:///{database}")
    experiments = sorted(client.search_experiments(), key=lambda experiment: experiment.name)
    width = max((len(experiment.name) for experiment in experiments), default=0)
    return [f"{experiment.name:<{width}}  {base_url}/#/experiments/{experiment.experiment_id}/{RUNS_VIEW}"
            for experiment in experiments if experiment.name != "Default"]


def main() -> None:
    mlflow_dir = sys.argv[1] if len(sys.argv) > 1 else "outputs/mlflow"
    links = runs_table_links(mlflow_dir, *sys.argv[2:3])
    print("Runs tables (MLflow's model-training view):" if links else f"No MLflow store in {mlflow_dir} yet.")
    print("\n".join(links))


if __name__ == "__main__":
    main()
