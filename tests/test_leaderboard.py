"""The leaderboard: a smoke leaderboard of the Simple GAN notebook as two "models" (two learning rates)
and a third that fails, two seeds each, killed once mid-way and then run to the end.

Its rows are checked against the run folders' own summary.json files, computed here independently.
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
from pathlib import Path

import pytest

from gan_helpers import leaderboard
from gan_helpers.leaderboard import Model
from gan_helpers.performance import machine, machine_name
from test_sweep import kill_once, use_smoke_env

NOTEBOOK = str(Path(__file__).resolve().parent.parent / "notebooks" / "simple_gan_mnist.ipynb")
MODELS = [Model("slow-g", NOTEBOOK, {"g_learning_rate": 1e-4}), Model("fast-g", NOTEBOOK, {"g_learning_rate": 4e-4}),
          Model("broken", NOTEBOOK, {"beta_1": 2.0})]  # beta_1 > 1: the notebook's check cell refuses it
BUDGET = 5.0  # minutes: more than a smoke run needs, so the smoke epochs end each run (the session tests test ends)
SCRIPT = f"""
from gan_helpers import leaderboard
from gan_helpers.leaderboard import Model
models = [Model(*m) for m in {[(m.name, m.notebook, m.params) for m in MODELS]!r}]
leaderboard.run_leaderboard("mnist", seeds=2, budget={BUDGET}, out=OUT, models=models, progress=False)
"""


def summaries(home: Path, model: str) -> list[dict]:
    folders = sorted((home / "runs" / "simple_gan_mnist").glob(f"mnist-{BUDGET:g}min-{model}-seed=*"))
    return [json.loads((folder / "summary.json").read_text()) for folder in folders]


@pytest.fixture(scope="module")
def killed_then_finished(tmp_path_factory, tiny_mnist_dir):
    """Start the leaderboard in a process, SIGKILL it (and its kernel) once its first run is finished, then
    run it again here to the end. Returns (home, out, the finished leaderboard, what was done before the kill)."""
    tmp = tmp_path_factory.mktemp("board")
    home, out = tmp / "home", tmp / "board"
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_smoke_env(monkeypatch, home, tiny_mnist_dir)
        first_summary = home / "runs" / "simple_gan_mnist" / f"mnist-{BUDGET:g}min-slow-g-seed=0" / "summary.json"
        kill_once([sys.executable, "-c", SCRIPT.replace("OUT", repr(str(out)))], tmp / "killed.log",
                  first_summary.exists, "the leaderboard finishing its first run")
        done_before = {p.parent.name: p.stat().st_mtime_ns for p in home.glob("runs/*/*/summary.json")}
        board = leaderboard.run_leaderboard("mnist", seeds=2, budget=BUDGET, out=out, models=MODELS, progress=False)
        yield home, out, board, done_before


def test_rows_are_the_mean_and_std_of_the_run_folders_and_ranked_by_frechet_distance(killed_then_finished):
    home, out, board, _ = killed_then_finished
    (table,) = board.tables
    assert [row["model"] for row in table.rows][-1] == "broken"  # no finished run: last
    ranked = [row for row in table.rows if row["seeds_done"]]
    assert {row["model"] for row in ranked} == {"slow-g", "fast-g"}
    assert ranked[0]["frechet_distance_mean"] <= ranked[1]["frechet_distance_mean"]
    for row in ranked:
        runs = summaries(home, row["model"])
        assert len(runs) == 2 and row["seeds_done"] == 2
        for metric in ("frechet_distance", "kid", "precision", "recall", "classifier_score", "classes_covered"):
            values = [run["evaluation"][metric] for run in runs]
            assert row[f"{metric}_mean"] == pytest.approx(statistics.fmean(values), rel=1e-12)
            assert row[f"{metric}_std"] == pytest.approx(statistics.stdev(values), rel=1e-12, abs=1e-15)
        assert row["images_trained_mean"] == statistics.fmean(run["images_trained"] for run in runs)
    with open(out / "leaderboard.csv", newline="") as f:
        assert [r["model"] for r in csv.DictReader(f)] == [row["model"] for row in table.rows]
    with open(out / "runs.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 6


def test_the_markdown_puts_the_floor_first_and_lists_the_failed_model_with_its_error(killed_then_finished):
    home, out, board, _ = killed_then_finished
    text = (out / "leaderboard.md").read_text()
    assert text == board.markdown
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert "floor: real train vs test" in lines[1]
    assert lines[2].startswith(f"| 1 | {board.tables[0].rows[0]['model']} | 2/2 |")
    assert "| – | broken | 0/2 (failed: see below) |" in text
    assert "- broken, seed 0: ValueError: Parameter beta_1=2.0 is out of range" in text
    assert "--seeds 2 --budget 5 --models slow-g,fast-g,broken`" in text and "weights sha256" in text
    assert f"**Machine**: {machine_name(machine())};" in text  # every run trained here
    for plot in ("plots/frechet_distance_vs_minutes.png", "plots/final_grids.png"):
        assert (out / plot).stat().st_size > 1000 and f"]({plot})" in text


def test_every_run_trained_under_the_budget_and_a_killed_leaderboard_redid_no_finished_run(killed_then_finished):
    home, out, board, done_before = killed_then_finished
    assert f"mnist-{BUDGET:g}min-slow-g-seed=0" in done_before
    runs = {run.run_name: run for table_runs in board.tables[0].runs.values() for run in table_runs}
    for name, mtime in done_before.items():
        assert not runs[name].ran and runs[name].status == "done"  # finished before the kill: not run again
        assert (Path(runs[name].folder) / "summary.json").stat().st_mtime_ns == mtime
    finished = [run for run in runs.values() if run.status == "done"]
    assert len(finished) == 4
    for run in finished:
        config = json.loads((Path(run.folder) / "config.json").read_text())
        summary = json.loads((Path(run.folder) / "summary.json").read_text())
        assert config["params"]["train_minutes"] == BUDGET and summary["train_minutes"] == BUDGET
        assert config["params"]["eval_every"] == 1 and run.params["epochs"] == leaderboard.MAX_EPOCHS  # smoke caps it
    assert [run.status for name, run in runs.items() if "broken" in name] == ["failed", "failed"]


# ---- without running notebooks

def test_the_protocol_names_the_machines_the_runs_trained_on_and_warns_when_they_differ():
    one, two = "CPU A (family 1 model 1), 2 cores, AVX2", "CPU B (family 2 model 2), 2 cores, AVX2"
    same = [{"machines": [one]}, {"machines": [one]}]
    unrecorded, failed = {"status": "complete"}, {"status": "failed"}  # a failed run may never have started
    text = leaderboard.protocol([*same, failed], "mnist", seeds=2, budget=10, epochs=None)
    assert f"**Machine**: {one};" in text and "Mixed" not in text
    mixed = [{"machines": [one]}, {"machines": [one, two]}, unrecorded, failed]  # the second resumed on B
    text = leaderboard.protocol(mixed, "mnist", seeds=3, budget=10, epochs=None)
    assert f"{one} (2 runs); {two} (1 run); not recorded (1 run). **Mixed machines**" in text
    assert "each seed's runs all trained on one machine" not in text  # they did not (and seeds are not known)
    by_seed = [{"seed": 0, "machines": [one]}, {"seed": 0, "machines": [one]}, {"seed": 1, "machines": [two]}]
    text = leaderboard.protocol(by_seed, "mnist", seeds=2, budget=10, epochs=None)
    assert "**Mixed machines**" in text and "each seed's runs all trained on one machine" in text
    text = leaderboard.protocol([*by_seed, {"seed": 1, "machines": [one]}], "mnist", seeds=2, budget=10, epochs=None)
    assert "**Mixed machines**" in text and "each seed's runs" not in text  # seed 1 on both
    text = leaderboard.protocol([*same, unrecorded, failed], "mnist", seeds=3, budget=10, epochs=None)
    assert f"**Machine**: {one} (2 runs); not recorded (1 run);" in text and "Mixed" not in text


def test_mean_and_std_take_the_numbers_only():
    assert leaderboard.mean_and_std([1.0, 3.0, None, float("nan")]) == (2.0, statistics.stdev([1.0, 3.0]))
    assert leaderboard.mean_and_std([2.0]) == (2.0, None)
    assert leaderboard.mean_and_std([None]) == (None, None)


def test_every_issue_model_is_in_the_default_list_once():
    names = [model.name for model in leaderboard.MODELS]
    assert len(names) == len(set(names)) == 12
    assert {"simple-gan", "wgan-gp", "cgan", "acgan"} <= set(names)
    assert {(m.params["loss"], m.params["d_norm"]) for m in leaderboard.MODELS if "loss" in m.params} == {
        (loss, norm) for loss in ("ns", "mm", "lsgan", "hinge") for norm in ("batch", "spectral")}
    for model in leaderboard.MODELS:  # each notebook takes the parameters the leaderboard sets
        location = leaderboard.notebook_location(model.notebook)
        assert Path(location).exists()
        leaderboard._fixed_params(model, location, "mnist", train_minutes=1.0, epochs=2)


@pytest.mark.parametrize("arguments, message", [
    (dict(dataset="cifar10"), "dataset='cifar10'"),
    (dict(seeds=0), "seeds=0 must be a whole number, at least 1"),
    (dict(budget=0), "budget=0 must be a positive number of minutes"),
    (dict(epochs=0), "epochs=0 must be a whole number of epochs"),
    (dict(models="dcgan-ns"), "Unknown model 'dcgan-ns': choose from simple-gan, dcgan-ns-batch"),
])
def test_bad_requests_are_refused_before_anything_runs(tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        leaderboard.run_leaderboard(**{"out": tmp_path / "x", **arguments})
    assert not (tmp_path / "x").exists()


def test_without_training_the_same_tables_come_from_the_run_folders(killed_then_finished, monkeypatch):
    home, out, board, _ = killed_then_finished
    monkeypatch.setenv("GAN_HOME", str(home))
    read = leaderboard.run_leaderboard("mnist", seeds=2, budget=BUDGET, out=out, models=MODELS, train=False,
                                       progress=False)
    assert not any(run.ran for runs in read.tables[0].runs.values() for run in runs)
    assert read.tables[0].rows == board.tables[0].rows


# ---- benchmarks/leaderboard.py: finished runs kept in the repository, restored on a new machine

def test_the_benchmark_keeps_what_a_finished_run_needs_and_a_new_machine_does_not_redo_it(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import leaderboard as benchmark  # benchmarks/leaderboard.py
    from gan_helpers import sweep

    def plan(home: Path) -> list:
        sweep_folder = home / "leaderboards" / "fashion_mnist-10min" / "sweeps" / "fashion_mnist-10min-simple-gan"
        return sweep.plan_sweep(NOTEBOOK, sweep_folder, seeds=2, root=home)

    old_home, new_home, kept = tmp_path / "old", tmp_path / "new", tmp_path / "kept"
    finished, interrupted = plan(old_home)
    for run, done in ((finished, True), (interrupted, False)):
        folder = Path(run.folder)
        (folder / "samples").mkdir(parents=True)
        (folder / "checkpoints").mkdir()
        (folder / "checkpoints" / "ckpt-1.data").write_bytes(b"x" * 1000)
        for epoch in (1, 2, 10):
            (folder / "samples" / f"epoch_{epoch:03d}.png").write_bytes(b"png %d" % epoch)
        (folder / "config.json").write_text('{"params": {"seed": %d}}' % run.swept["seed"])
        (folder / "metrics.csv").write_text("epoch,seconds\n1,60.0\n")
        if done:
            (folder / "summary.json").write_text('{"evaluation": {"frechet_distance": 12.5}}')
    sweep_folder = Path(finished.notebook).parent.parent
    sweep_folder.mkdir(parents=True)
    (sweep_folder / "sweep.json").write_text('{"runs": [{"run_name": "r", "wall_seconds": 630.0}]}')

    assert benchmark.keep_run(Path(interrupted.folder), old_home, kept) is None  # an unfinished run is not kept
    copy = benchmark.keep_run(Path(finished.folder), old_home, kept)
    benchmark.keep_sweep_record(sweep_folder, old_home, kept)
    assert sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file()) == [
        "config.json", "metrics.csv", "samples/epoch_010.png", "summary.json"]  # the last grid; no checkpoints

    # the new machine had started the finished run itself and was interrupted: the kept copy replaces it
    new_finished, new_interrupted = plan(new_home)
    (Path(new_finished.folder) / "checkpoints").mkdir(parents=True)
    assert benchmark.restore_kept(new_home, kept) == [Path(new_finished.folder)]
    assert new_finished.finished() and not new_interrupted.finished()
    assert not (Path(new_finished.folder) / "checkpoints").exists()
    assert (Path(new_finished.folder) / "summary.json").read_text() == (Path(finished.folder) / "summary.json").read_text()
    assert json.loads((Path(new_finished.notebook).parent.parent / "sweep.json").read_text())["runs"][0][
        "wall_seconds"] == 630.0
    assert benchmark.restore_kept(new_home, kept) == []  # finished there now: nothing to restore again
