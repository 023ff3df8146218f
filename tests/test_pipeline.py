"""`python -m vocalgen.pipeline`: the audioldm_refined_cpu pipeline end to end at tiny sizes, reuse,
resume, a late-stage sweep, SIGTERM, and the pipeline file's checks. The pipeline command runs in this
process (run_main); its stages' `python -m vocalgen.train` command lines are run by the same main in this
process too (a new interpreter spends ~13 s importing); the SIGTERM test launches a real child process."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hydra import initialize_config_dir
from omegaconf import OmegaConf

from tests.conftest import COMMON_TINY, EXPERIMENT_TINY, TINY_DATA, compose_config, mlflow_client, run_main
from vocalgen.config import CONFIG_DIR
from vocalgen.config_digest import config_digest
from vocalgen.errors import ConfigError
from vocalgen.pipeline import runner
from vocalgen.pipeline.runner import compose_stage
from vocalgen.pipeline.spec import StageSpec, forced_stages, parse_pipeline, split_overrides
from vocalgen.pipeline.termination import Terminated, sigterm_as_interrupt
from vocalgen.tracking import CHECKPOINT_DIR_TAG

STAGES = {"clap": [*EXPERIMENT_TINY["clap_cpu"], "data.batch_size=8"], "mel_vae": EXPERIMENT_TINY["mel_vae"],
          "vocoder": EXPERIMENT_TINY["vocos"], "ldm": EXPERIMENT_TINY["audioldm_refined"]}


def tiny_pipeline_args(out: Path, data_root: Path) -> list[str]:
    """audioldm_refined_cpu at tiny sizes: the data and trainer limits for every stage, sizes per stage."""
    synthetic = ",".join(f"{key}:{value}" for key, value in TINY_DATA.items())
    common = [f"paths.output_dir={out}", f"data.root={data_root}", f"data.synthetic={{{synthetic}}}", *COMMON_TINY,
              "callbacks.samples=null", "trainer.num_sanity_val_steps=0"]  # fewer seconds a stage
    own = [f"+stage.{stage}.{override}" for stage, overrides in STAGES.items() for override in overrides]
    return ["+pipeline=audioldm_refined_cpu", *common, *own]


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The end-of-pipeline table: stage → [experiment, run id, how, …]."""
    rows = {}
    for line in stdout.splitlines():
        cells = line.split()
        if cells and cells[0] in STAGES and len(cells) >= 4 and len(cells[2]) == 32:
            rows[cells[0]] = cells[1:]
    return rows


def run_pipeline(*args: str) -> tuple[dict[str, list[str]], str]:
    finished = run_main("vocalgen.pipeline", list(args))
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return table_rows(finished.stdout), finished.stdout


def child_in_this_process(command: list[str]) -> int:
    """Stands in for the runner's child process: the same `python -m vocalgen.train …` command line,
    parsed and run by the same Hydra main, in this interpreter (a new one spends ~13 s of a 2-core
    machine importing Lightning)."""
    assert command[1:3] == ["-m", "vocalgen.train"], command
    child = run_main("vocalgen.train", command[3:])
    sys.stderr.write(child.stderr)
    return child.returncode


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> dict:
    """The tiny pipeline run once, its four stages trained in this process."""
    out = tmp_path_factory.mktemp("pipeline")
    args = tiny_pipeline_args(out, data_root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "run_child", child_in_this_process)
        rows, stdout = run_pipeline(*args)
    return {"out": out, "args": args, "rows": rows, "stdout": stdout}


@pytest.mark.slow
def test_a_pipeline_trains_every_stage_in_order_and_nests_them_under_one_run(first_run: dict) -> None:
    rows = first_run["rows"]
    assert list(rows) == ["clap", "mel_vae", "vocoder", "ldm"]  # declared order, each after its inputs
    assert {row[2] for row in rows.values()} == {"trained"}
    assert f"checkpoint={rows['ldm'][1]}" in first_run["stdout"]  # the next commands name the last stage
    client = mlflow_client(first_run["out"])
    experiment = client.get_experiment_by_name("pipeline/audioldm_refined_cpu")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    children = {run.data.tags["stage"]: run for run in runs if run.data.tags.get("mlflow.parentRunId") ==
                parent.info.run_id}
    assert {name: run.info.run_id for name, run in children.items()} == {name: row[1] for name, row in rows.items()}
    assert parent.info.status == "FINISHED" and all(run.info.status == "FINISHED" for run in children.values())
    ldm = children["ldm"]  # the LDM was handed the earlier stages' run ids
    assert ldm.data.params["clap_checkpoint"] == rows["clap"][1]
    assert ldm.data.params["vocoder_checkpoint"] == rows["vocoder"][1]


@pytest.mark.slow
def test_the_same_command_again_reuses_every_stage_and_trains_nothing(first_run: dict) -> None:
    before = len(mlflow_client(first_run["out"]).search_runs(
        [e.experiment_id for e in mlflow_client(first_run["out"]).search_experiments()]))
    rows, _ = run_pipeline(*first_run["args"])
    assert {row[2] for row in rows.values()} == {"reused"}
    assert {name: row[1] for name, row in rows.items()} == {name: row[1] for name, row in first_run["rows"].items()}
    client = mlflow_client(first_run["out"])
    after = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(after) == before + 1  # only the new pipeline run itself


@pytest.mark.slow
def test_a_broken_stage_is_resumed_from_its_last_checkpoint_in_its_own_run(first_run: dict, monkeypatch) -> None:
    """Ctrl-C leaves the stage's run KILLED with a last.ckpt: the same command trains again only that
    stage, handing the child the checkpoint and the run's own folder (the child continuing the same
    MLflow run from ckpt_path is tests/test_training.py's resume test)."""
    client = mlflow_client(first_run["out"])
    ldm = client.get_run(first_run["rows"]["ldm"][1])
    client.set_terminated(ldm.info.run_id, "KILLED")
    launched = []

    def child_finishes(command: list[str]) -> int:
        launched.append(command)
        client.set_terminated(ldm.info.run_id, "FINISHED")
        return 0

    monkeypatch.setattr(runner, "run_child", child_finishes)
    rows, _ = run_pipeline(*first_run["args"])
    checkpoints = Path(ldm.data.tags[CHECKPOINT_DIR_TAG])
    (command,) = launched
    assert "+experiment=audioldm_refined_cpu" in command and f"hydra.run.dir={checkpoints.parent}" in command
    assert f"ckpt_path={checkpoints / 'last.ckpt'}" in command
    assert rows["ldm"][1:3] == [ldm.info.run_id, "resumed"]
    assert [rows[stage][2] for stage in ("clap", "mel_vae", "vocoder")] == ["reused"] * 3


@pytest.mark.slow
def test_a_late_stage_sweep_trains_the_early_stages_once_and_the_swept_one_per_value(first_run: dict,
                                                                                   monkeypatch) -> None:
    monkeypatch.setattr(runner, "run_child", child_in_this_process)  # run_child itself: the SIGTERM tests
    lr = OmegaConf.select(compose_config("train", "+experiment=audioldm_refined_cpu"), "optimizer.lr")
    finished = run_main("vocalgen.pipeline", ["-m", *first_run["args"], f"+stage.ldm.optimizer.lr={lr},{lr * 2}"])
    assert finished.returncode == 0, finished.stderr[-3000:]
    first, second = (table_rows(table) for table in finished.stdout.split("monitored metric")[1:])
    for rows in (first, second):  # the early stages: trained once, before the sweep
        assert [rows[stage][2] for stage in ("clap", "mel_vae", "vocoder")] == ["reused"] * 3
    assert first["ldm"][1:3] == [first_run["rows"]["ldm"][1], "reused"]  # the value it was trained with
    assert second["ldm"][2] == "trained" and second["ldm"][1] != first_run["rows"]["ldm"][1]


@pytest.mark.slow
def test_sigterm_to_the_pipeline_ends_it_like_ctrl_c_and_marks_its_run_killed(first_run: dict, monkeypatch) -> None:
    """`kill PID` (a scheduler's time limit) reaches the pipeline alone: it ends as Ctrl-C does, its
    own MLflow run marked KILLED rather than left RUNNING."""

    def child_meets_sigterm(command: list[str]) -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # the signal interrupts this
        raise AssertionError("SIGTERM did not interrupt the pipeline")

    monkeypatch.setattr(runner, "run_child", child_meets_sigterm)
    stopped = run_main("vocalgen.pipeline", [*first_run["args"], "force=[ldm]"])
    assert stopped.returncode == 143 and "Traceback" not in stopped.stderr  # one line that says how to resume
    assert "pipeline stopped (signal SIGTERM)" in stopped.stderr and "the same command resumes" in stopped.stderr
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler lives only as long as the command
    client = mlflow_client(first_run["out"])
    (latest, *_) = client.search_runs([e.experiment_id for e in client.search_experiments()],
                                      "tags.mlflow.runName = 'audioldm_refined_cpu'", order_by=["start_time DESC"])
    assert latest.info.status == "KILLED"


def test_a_terminated_pipeline_passes_sigterm_on_to_its_stage_and_waits_for_it(monkeypatch) -> None:
    """The stage's process gets the SIGTERM too (to save its last.ckpt and mark its run KILLED), and is
    waited for before the pipeline ends."""
    started, popen = [], subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda command: started.append(popen(command)) or started[-1])
    stage = ("import signal, sys, time\n"
             "signal.signal(signal.SIGTERM, lambda *_: (time.sleep(0.5), sys.exit(3)))\n"
             "time.sleep(60)")
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM)).start()
    with sigterm_as_interrupt(), pytest.raises(Terminated):
        runner.run_child([sys.executable, "-c", stage])
    assert started[0].returncode == 3  # ended by its own SIGTERM handler, after its half-second of saving


def test_a_sigint_sent_to_the_pipeline_alone_is_passed_on_to_its_stage(monkeypatch) -> None:
    """`kill -INT PID` (no terminal: the stage did not get it too) reaches the stage, which is waited for."""
    started, popen = [], subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda command: started.append(popen(command)) or started[-1])
    stage = ("import signal, sys, time\n"
             "signal.signal(signal.SIGINT, lambda *_: (time.sleep(0.5), sys.exit(4)))\n"
             "time.sleep(60)")
    # Python's own SIGINT handler, even where this test runs with SIGINT ignored (started in the background)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            runner.run_child([sys.executable, "-c", stage])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert started[0].returncode == 4  # ended by its own SIGINT handler, after its half-second of saving


def compose_pipeline(name: str, *overrides: str):
    return compose_config("run_pipeline", f"+pipeline={name}", *overrides)


@pytest.mark.parametrize("name", sorted(path.stem for path in (CONFIG_DIR / "pipeline").glob("*.yaml")))
def test_every_pipeline_orders_its_stages_after_their_inputs(name: str) -> None:
    given = ["pipeline.stable_diffusion=/models/sd"] if name == "clap2diffusion_stable_diffusion" else []
    spec = parse_pipeline(compose_pipeline(name, *given))
    seen: set[str] = set()
    for stage in spec.stages:
        assert set(stage.inputs.values()) <= seen, stage
        assert (CONFIG_DIR / "experiment" / f"{stage.experiment}.yaml").is_file()
        seen.add(stage.name)
    if name.endswith("_cpu"):
        assert all("_cpu" in stage.experiment or stage.experiment == "qvim_clap_align" for stage in spec.stages)


def test_overrides_split_into_every_stage_and_one_stage() -> None:
    spec = parse_pipeline(compose_pipeline("vocaldm_cpu"))
    common, own = split_overrides(["+pipeline=vocaldm_cpu", "debug=limit", "+stage.qvim.epochs=5",
                                   "force=[qvim]", "data.root=/data"], spec)
    assert common == ["debug=limit", "data.root=/data"] and own["qvim"] == ["epochs=5"] and own["clap"] == []
    with pytest.raises(ConfigError, match="no stage 'qvm'"):
        split_overrides(["+stage.qvm.epochs=5"], spec)
    assert forced_stages(["qvim"], spec) == {"qvim"} and len(forced_stages("all", spec)) == 7
    with pytest.raises(ConfigError, match="force=\\['nope'\\]"):
        forced_stages(["nope"], spec)


def test_a_pipeline_setting_left_unset_is_named() -> None:
    with pytest.raises(ConfigError, match=r"clap2diffusion_stable_diffusion needs pipeline.stable_diffusion=…"):
        parse_pipeline(compose_pipeline("clap2diffusion_stable_diffusion"))
    spec = parse_pipeline(compose_pipeline("clap2diffusion_stable_diffusion", "pipeline.stable_diffusion=/models/sd"))
    assert {stage.name: stage.overrides for stage in spec.stages}["adapters"] == ("image_ldm_checkpoint=/models/sd",)


def test_a_pipeline_whose_stages_need_each_other_in_a_cycle_is_refused() -> None:
    cfg = compose_pipeline("audioldm_refined_cpu", "+pipeline.stages.clap.inputs={x: ldm}")
    with pytest.raises(ConfigError, match="cycle"):
        parse_pipeline(cfg)


def test_a_fast_dev_run_or_an_unfed_stage_is_refused_before_anything_trains() -> None:
    spec = parse_pipeline(compose_pipeline("audioldm_refined_cpu"))
    clap, *_, ldm = spec.stages
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        with pytest.raises(ConfigError, match="debug=fdr.*saves no checkpoint.*debug=limit"):
            compose_stage(spec, clap, ["debug=fdr"], [], {})
        with pytest.raises(ConfigError, match="logger=mlflow"):
            compose_stage(spec, clap, ["logger=csv"], [], {})
        unfed = StageSpec("ldm", "audioldm_refined_cpu", {"clap_checkpoint": "clap"})
        with pytest.raises(ConfigError, match="needs vae_checkpoint, and the pipeline feeds it no stage"):
            compose_stage(spec, unfed, [], [], {"clap": "0" * 32})
        assert compose_stage(spec, ldm, [], [], {"clap": "a" * 32}).cfg.clap_checkpoint == "a" * 32


def test_the_config_digest_ignores_where_a_run_is_recorded_and_follows_what_it_learns() -> None:
    def digest(*overrides: str) -> str:
        return config_digest(compose_config("train", "+experiment=qvae_cpu", *overrides))

    base = digest()
    assert base == digest("paths.output_dir=/elsewhere", "+tags.stage=x", "ckpt_path=/a/last.ckpt",
                          "logger.parent_run_id=abc", "callbacks.samples.n_examples=1")
    assert base != digest("optimizer.lr=1e-3")
    assert base != digest("generator.sample_rate=16000")  # the source of an interpolation (data.fields.audio)


def test_an_interrupted_pipeline_says_which_signal_and_exits_as_a_shell_reports_it() -> None:
    from vocalgen.pipeline.__main__ import stopped

    ctrl_c, status = stopped(KeyboardInterrupt())
    assert ctrl_c.startswith("pipeline stopped (Ctrl-C):") and status == 130
    term, status = stopped(Terminated("signal SIGTERM"))
    assert term.startswith("pipeline stopped (signal SIGTERM):") and status == 143
