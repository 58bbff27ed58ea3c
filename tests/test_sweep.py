"""Sweeps: the Simple GAN notebook run over a grid with papermill in smoke mode, and the comparison notebook.

Each smoke run of the notebook takes 10-30 s (kernel start, TensorFlow import, one or two
epochs on the fake data, the final evaluation), so the grids here are as small as the checks allow.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import papermill as pm
import pytest

import gan_helpers as gh
from gan_helpers import sweep

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK = NOTEBOOKS / "simple_gan_mnist.ipynb"


def use_smoke_env(monkeypatch: pytest.MonkeyPatch, home: Path, data_dir: Path) -> None:
    """Smoke mode on the fake data, runs under ``home``; the papermill kernels inherit this."""
    monkeypatch.setenv("GAN_SMOKE", "1")
    monkeypatch.setenv("GAN_HOME", str(home))
    monkeypatch.setenv("GAN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def smoke_home(monkeypatch, tmp_path, tiny_mnist_dir) -> Path:
    use_smoke_env(monkeypatch, tmp_path / "home", tiny_mnist_dir)
    return tmp_path / "home"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def output_text(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))


# ---- a 2 x 2 grid, shared by the sweep test and the comparison notebook test

@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory, tiny_mnist_dir):
    tmp = tmp_path_factory.mktemp("grid")
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_smoke_env(monkeypatch, tmp / "home", tiny_mnist_dir)
        monkeypatch.setenv("GAN_DETERMINISTIC", "1")  # the same numbers in any process: the --jobs test compares
        runs = sweep.run_sweep(NOTEBOOK, tmp / "lr-batch", grid=["g_learning_rate=1e-4,2e-4", "batch_size=16,32"],
                               fixed={"epochs": "1"}, progress=False)
        yield tmp, runs


def test_a_2x2_sweep_leaves_4_runs_4_notebooks_and_a_4_row_summary(grid_sweep):
    tmp, runs = grid_sweep
    out, experiment = tmp / "lr-batch", tmp / "home" / "runs" / "simple_gan_mnist"
    assert [run.status for run in runs] == ["done"] * 4 and all(run.ran for run in runs)
    assert sorted(p.name for p in experiment.iterdir()) == sorted(run.run_name for run in runs)
    assert "lr-batch-g_learning_rate=0.0001-batch_size=16" in {run.run_name for run in runs}
    for run in runs:
        folder = Path(run.folder)
        assert folder.parent == experiment and (folder / "summary.json").exists()
        params = json.loads((folder / "config.json").read_text())["params"]
        # Typed like the notebook's defaults: "1" from the command line is the int 1, 1e-4 a float.
        assert params["epochs"] == 1 and type(params["epochs"]) is int
        assert params["batch_size"] == run.swept["batch_size"] and type(params["batch_size"]) is int
        assert params["g_learning_rate"] == run.swept["g_learning_rate"] and type(params["g_learning_rate"]) is float
        assert params["run_name"] == run.run_name
    assert sorted(p.name for p in (out / "notebooks").glob("*.ipynb")) == sorted(f"{r.run_name}.ipynb" for r in runs)

    rows = read_csv(out / "summary.csv")
    assert len(rows) == 4 and {r["status"] for r in rows} == {"done"}
    assert {(r["g_learning_rate"], r["batch_size"]) for r in rows} == {("0.0001", "16"), ("0.0001", "32"),
                                                                        ("0.0002", "16"), ("0.0002", "32")}
    for row in rows:
        assert float(row["frechet_distance"]) > 0 and float(row["best_frechet_distance"]) > 0
        assert float(row["images_per_sec"]) > 0 and float(row["wall_seconds"]) > 0 and row["epochs_done"] == "1"
    table = (out / "summary.md").read_text()
    assert sum(line.startswith("| lr-batch-") for line in table.splitlines()) == 4
    assert {p.name for p in (out / "plots").iterdir()} == {"frechet_distance_vs_g_learning_rate.png",
                                                           "frechet_distance_vs_batch_size.png"}
    state = json.loads((out / "sweep.json").read_text())
    assert [r["status"] for r in state["runs"]] == ["done"] * 4


def test_comparison_notebook_runs_over_a_sweep_folder(grid_sweep, tmp_path):
    tmp, runs = grid_sweep
    executed = tmp_path / "compare.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / "compare_runs.ipynb"), str(executed), cwd=str(NOTEBOOKS), progress_bar=False,
                        parameters={"runs": str(tmp / "lr-batch"), "save_to": str(tmp_path / "cmp")})
    table = read_csv(tmp_path / "cmp" / "runs.csv")
    assert sorted(r["run"] for r in table) == sorted(run.run_name for run in runs)
    assert {"g_learning_rate", "batch_size"} <= set(table[0]) and {r["status"] for r in table} == {"complete"}
    assert {p.name for p in (tmp_path / "cmp").glob("*.png")} == {
        "metrics_over_time.png", "final_samples.png",
        "frechet_distance_vs_g_learning_rate.png", "frechet_distance_vs_batch_size.png"}
    markdown = "".join("".join(o.get("data", {}).get("text/markdown", ""))
                       for c in json.loads(executed.read_text())["cells"] for o in c.get("outputs", []))
    assert sum(line.startswith("| lr-batch-") for line in markdown.splitlines()) == 4


# ---- failures, interruptions, bad requests

def test_a_run_that_raises_is_recorded_as_failed_and_the_others_finish(smoke_home, tmp_path, capsys):
    out = tmp_path / "epochs"
    # The notebook's check cell raises ValueError for epochs=-1; the sweep goes on to epochs=1.
    code = sweep.main([str(NOTEBOOK), "--out", str(out), "--grid", "epochs=-1,1", "--no-progress"])
    assert code == 1  # some run failed
    failed, done = json.loads((out / "sweep.json").read_text())["runs"]
    assert failed["status"] == "failed" and done["status"] == "done"
    assert failed["error"].startswith("ValueError: Parameter epochs=-1 is out of range")
    assert failed["notebook"] in failed["error"] and Path(failed["notebook"]).exists()
    assert Path(done["folder"], "summary.json").exists()
    rows = read_csv(out / "summary.csv")
    assert [r["status"] for r in rows] == ["failed", "done"] and "epochs=-1" in rows[0]["error"]
    assert "FAILED: ValueError: Parameter epochs=-1" in capsys.readouterr().out


def _descendants(pid: int) -> list[int]:
    """Child processes (recursively) on Linux, e.g. the Jupyter kernel a sweep started in its own session."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return children + [d for c in children for d in _descendants(c)]


def kill_once(command: list[str], log: Path, ready, waiting_for: str, timeout: float = 300) -> None:
    """Start ``command`` in a session of its own, wait until ``ready()``, then SIGKILL it and every process it
    started (the Jupyter kernel runs in a session of its own). Fails if it ends or times out before."""
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"{waiting_for} did not happen in {timeout} s"
            time.sleep(0.1)
        kernels = _descendants(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for pid in kernels:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_sweep_killed_mid_way_runs_only_what_is_missing_when_started_again(smoke_home, tmp_path):
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "gan_helpers.sweep", str(NOTEBOOK), "--out", str(out),
               "--grid", "g_learning_rate=1e-4,2e-4", "-p", "epochs", "2", "--no-progress"]
    first, second = sweep.plan_sweep(NOTEBOOK, out, grid=["g_learning_rate=1e-4,2e-4"], fixed={"epochs": 2})
    # Kill everything once the first run is finished and the second has written its first checkpoint.
    kill_once(command, tmp_path / "first.log", (Path(second.folder) / "checkpoints" / "epoch_0001.npz").exists,
              "the sweep reaching its second run")
    first_summary = Path(first.folder) / "summary.json"
    assert first_summary.exists() and not (Path(second.folder) / "summary.json").exists()
    finished_at = first_summary.stat().st_mtime_ns, Path(first.notebook).stat().st_mtime_ns
    states = {r["run_name"]: r["status"] for r in json.loads((out / "sweep.json").read_text())["runs"]}
    assert states == {first.run_name: "done", second.run_name: "running"}

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 runs, 1 already finished, 1 to run" in again.stdout
    # The finished run was not executed again.
    assert (first_summary.stat().st_mtime_ns, Path(first.notebook).stat().st_mtime_ns) == finished_at
    assert (Path(second.folder) / "summary.json").exists()
    log = output_text(Path(second.notebook))
    assert "New run:" not in log and ("Resuming after epoch 1 of 2" in log or "Run is complete (2/2" in log)
    assert [r["status"] for r in read_csv(out / "summary.csv")] == ["done", "done"]


@pytest.mark.parametrize("grid, fixed, message", [
    (["lr=1e-4,2e-4"], {}, "Unknown grid parameter 'lr': the parameters cell of"),
    (["g_learning_rate=1e-4"], {"learning_rate": 1}, "Unknown parameter 'learning_rate'"),
    (["g_learning_rate="], {}, "Malformed grid 'g_learning_rate=': expected NAME=VALUE1,VALUE2"),
    (["g_learning_rate"], {}, "Malformed grid 'g_learning_rate': expected NAME=VALUE1,VALUE2"),
    (["=1e-4"], {}, "Malformed grid '=1e-4': expected NAME=VALUE1,VALUE2"),
    (["batch_size=32,,64"], {}, "Malformed grid"),
    (["batch_size=32.5"], {}, "batch_size='32.5' must be a whole number"),
    (["g_learning_rate=fast"], {}, "g_learning_rate='fast' must be a number"),
    (["batch_size=32,32"], {}, "lists a value twice"),
    (["precision=float32,float64"], {}, "precision='float64' is not allowed. Choose one of: 'auto', 'float32'"),
    ([], {"dataset": "cifar10"}, "dataset='cifar10' is not allowed. Choose one of: 'mnist', 'fashion_mnist'"),
    (["epochs=1"], {"epochs": 2}, "given both as a fixed parameter"),
    ([], {"run_name": "mine"}, "run_name is set by the sweep"),
])
def test_bad_requests_are_refused_before_anything_runs(smoke_home, tmp_path, grid, fixed, message):
    with pytest.raises(ValueError) as error:
        sweep.run_sweep(NOTEBOOK, tmp_path / "bad", grid=grid, fixed=fixed, progress=False)
    assert message in str(error.value)
    if "Unknown grid" in message:
        assert "g_learning_rate" in str(error.value)  # the valid names are listed
    assert not (tmp_path / "bad").exists() and not (smoke_home / "runs").exists()


def test_the_command_line_reports_a_bad_grid_and_exits_2(smoke_home, tmp_path, capsys):
    assert sweep.main([str(NOTEBOOK), "--out", str(tmp_path / "bad"), "--grid", "lr"]) == 2
    assert "Malformed grid 'lr'" in capsys.readouterr().err and not (tmp_path / "bad").exists()


@pytest.mark.parametrize("text, default, expected", [
    ("3", 30, 3), ("3.0", 30, 3), ("1e-4", 2e-4, 1e-4), ("2", 0.5, 2.0), ("false", True, False),
    ("yes", False, True), ("fashion_mnist", "mnist", "fashion_mnist"), (64, 0.5, 64.0),
])
def test_values_take_the_type_of_the_notebook_default(text, default, expected):
    value = sweep.cast_value("p", text, default)
    assert value == expected and type(value) is type(expected)


def test_seeds_repeat_every_combination_and_name_the_runs(smoke_home, tmp_path):
    runs = sweep.plan_sweep(NOTEBOOK, tmp_path / "s", grid={"batch_size": ["16", 32]}, fixed={"seed": 5}, seeds=2)
    assert [r.swept for r in runs] == [{"batch_size": 16, "seed": 5}, {"batch_size": 16, "seed": 6},
                                       {"batch_size": 32, "seed": 5}, {"batch_size": 32, "seed": 6}]
    assert runs[0].run_name == "s-batch_size=16-seed=5" and runs[0].params["run_name"] == runs[0].run_name
    assert Path(runs[0].folder) == smoke_home.resolve() / "runs" / "simple_gan_mnist" / "s-batch_size=16-seed=5"


def test_a_parameter_and_a_result_of_one_name_both_reach_the_table():
    """Sweeping the DCGAN's ``precision`` (a parameter) must not lose its ``precision`` metric, nor the reverse."""
    from gan_helpers import compare

    records = [{"run": f"r{i}", "params": {"precision": policy, "seed": 0}, "precision": value, "status": "done"}
               for i, (policy, value) in enumerate([("float32", 0.72), ("mixed_bfloat16", 0.71)])]
    rows = compare.table_rows(records, ["precision"])
    assert [row["precision"] for row in rows] == ["float32", "mixed_bfloat16"]
    assert [row["precision_result"] for row in rows] == [0.72, 0.71]
    table = compare.markdown_table(rows, ["precision"])
    assert "mixed_bfloat16" in table and "0.71" in table


def test_a_run_stopped_by_its_time_budget_is_paused_and_the_next_sweep_continues_it(smoke_home, tmp_path, capsys):
    """The notebook's time_budget through papermill: its first step already exceeds 0.0001 minutes,
    so the run stops there after a checkpoint (TrainingPaused); the same sweep without a budget
    continues that run from that step (not from scratch) and finishes it."""
    out = tmp_path / "budget"
    seen = []  # what after_run sees of each run it is called with

    def after_run(run: sweep.SweepRun) -> None:
        seen.append((run.status, (Path(run.folder) / "summary.json").exists()))

    (run,) = sweep.run_sweep(NOTEBOOK, out, grid=["seed=5"], fixed={"time_budget": "0.0001"}, progress=False,
                             after_run=after_run)
    assert run.status == "paused" and "TrainingPaused: Stopped (time budget of 0.0001 minutes reached)" in run.error
    assert "0/1 runs done, 1 paused" in capsys.readouterr().out
    positions = gh.CheckpointFolder(Path(run.folder) / "checkpoints").positions()
    assert positions == [(0, 1)] and not (Path(run.folder) / "summary.json").exists()
    config = json.loads((Path(run.folder) / "config.json").read_text())
    assert config["sessions"][-1]["at"] == "step 1 of epoch 1"

    (again,) = sweep.run_sweep(NOTEBOOK, out, grid=["seed=5"], fixed={"time_budget": "0"}, progress=False,
                               after_run=after_run)
    assert again.status == "done"
    assert seen == [("paused", False), ("done", True)]  # once per executed run, after its outcome is known
    assert "Resuming at step 1 of epoch 1" in output_text(Path(again.notebook))


# ---- several runs at once (--jobs, --devices)

def _started_and_finished(run: sweep.SweepRun) -> tuple[str, str]:
    config = json.loads((Path(run.folder) / "config.json").read_text())
    summary = json.loads((Path(run.folder) / "summary.json").read_text())
    return config["sessions"][0]["started_at"], summary["finished_at"]


def test_two_jobs_at_once_give_the_same_runs_as_one_at_a_time(grid_sweep, smoke_home, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_DETERMINISTIC", "1")  # as in the grid sweep, which ran one run at a time
    grid, fixed = ["g_learning_rate=1e-4,2e-4"], {"epochs": 1, "batch_size": 16}
    two = sweep.run_sweep(NOTEBOOK, tmp_path / "two", grid=grid, fixed=fixed, progress=False, jobs=2)
    assert [run.status for run in two] == ["done"] * 2
    (start_a, end_a), (start_b, end_b) = (_started_and_finished(run) for run in two)
    assert start_b < end_a and start_a < end_b  # the two runs overlapped in time
    rows_one = [row for row in read_csv(grid_sweep[0] / "lr-batch" / "summary.csv") if row["batch_size"] == "16"]
    rows_two = read_csv(tmp_path / "two" / "summary.csv")
    for a, b in zip(rows_one, rows_two, strict=True):
        assert a["g_learning_rate"] == b["g_learning_rate"] and a["status"] == b["status"] == "done"
        for metric in ("frechet_distance", "kid", "precision", "recall", "classifier_score"):
            assert float(a[metric]) == pytest.approx(float(b[metric]), rel=1e-4), metric
    again = sweep.run_sweep(NOTEBOOK, tmp_path / "two", grid=grid, fixed=fixed, progress=False, jobs=2)
    assert not any(run.ran for run in again)  # finished runs are not redone


PROBE = [
    ("parameters", 'seed = 0  #@param {type:"integer"}\nrun_name = ""  #@param {type:"string"}'),
    ("", "import json, os\nfrom pathlib import Path\n"
         "# the sweep finds the experiment folder from a call like gh.Run(env, \"device_probe\", ...)\n"
         "folder = Path(os.environ['GAN_HOME']) / 'runs' / 'device_probe' / run_name\n"
         "folder.mkdir(parents=True, exist_ok=True)\n"
         "(folder / 'summary.json').write_text(json.dumps({'cuda_visible_devices': os.environ.get('CUDA_VISIBLE_DEVICES'),"
         " 'pid': os.getpid(), 'seed': seed}))\n"
         "assert seed != 3, 'seed 3 fails on purpose'"),
]


def probe_notebook(path: Path) -> Path:
    import nbformat

    cells = []
    for tag, source in PROBE:
        cell = nbformat.v4.new_code_cell(source)
        if tag:
            cell.metadata["tags"] = [tag]
        cells.append(cell)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


def test_devices_give_each_run_its_own_gpu_and_a_failure_is_still_recorded(smoke_home, tmp_path):
    notebook = probe_notebook(tmp_path / "probe.ipynb")
    runs = sweep.run_sweep(notebook, tmp_path / "probe", seeds=4, devices=["5", "6"], progress=False)
    assert [run.status for run in runs] == ["done", "done", "done", "failed"]
    assert "seed 3 fails on purpose" in runs[3].error and "AssertionError" in runs[3].error
    seen = [json.loads((Path(run.folder) / "summary.json").read_text()) for run in runs[:3]]
    assert {s["cuda_visible_devices"] for s in seen} <= {"5", "6"} and len({s["pid"] for s in seen}) == 3
    with pytest.raises(ValueError, match="jobs=3 but only 2 devices"):
        sweep.run_sweep(notebook, tmp_path / "probe", seeds=4, devices=["5", "6"], jobs=3, progress=False)
    with pytest.raises(ValueError, match="jobs=0"):
        sweep.run_sweep(notebook, tmp_path / "probe", seeds=1, jobs=0, progress=False)
