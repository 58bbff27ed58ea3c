"""The leaderboard: every MNIST-family GAN trained for the same time over several seeds, ranked.

From a shell::

    python -m gan_helpers.leaderboard --dataset mnist --seeds 3 --budget 10 [--epochs 20]

or from a notebook (Colab)::

    board = gh.leaderboard.run_leaderboard("mnist", seeds=3, budget=10)

- Every model of ``MODELS`` (the Simple GAN; the DCGAN with each ``loss`` and with batch and
  spectral normalization; WGAN-GP; cGAN; AC-GAN) is one sweep (`gan_helpers.sweep`) of its
  notebook over ``seed`` = 0..N-1, with ``train_minutes`` = the budget: each run trains until it
  has trained that long (its epochs are not the limit), then the notebook evaluates its final
  generator on 10,000 samples against the 10,000 test images with the shipped classifier, as
  every run does. ``eval_every = 1``: the Fréchet distance is measured after every epoch, for the
  curve against training time.
- With ``epochs``, the same models and seeds are also trained for exactly that many epochs (no
  time limit): the second table, at equal epochs.
- Resumable like a sweep: running it again skips finished runs, continues interrupted ones from
  their checkpoints and retries failed ones; a failed run is recorded and the rest go on.
- In ``out`` (default ``<root>/leaderboards/<dataset>-<budget>min``): ``leaderboard.md`` (the
  protocol, the tables ranked by mean Fréchet distance, mean ± std over seeds, the floor of real
  training images first), ``leaderboard.csv`` (one row per model and table), ``runs.csv`` (one
  row per run), ``plots/frechet_distance_vs_minutes.png`` and ``plots/final_grids.png``, and the
  sweeps in ``sweeps/``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import compare, sweep
from .environment import find_root
from .files import write_atomically
from .performance import machine, machine_name
from .plots import new_figure, sample_paths, save_figure
from .runs import read_metrics

REPO_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS_URL = "https://raw.githubusercontent.com/gan-notebooks/gan-notebooks/main/notebooks"
MAX_EPOCHS = 10_000  # the epochs of a budget run: the budget ends it long before
# The final evaluation's metrics, in the order of the table (conditional ones only for class-conditional models).
METRICS = ["frechet_distance", "kid", "precision", "recall", "classifier_score", "classes_covered",
           "conditional_accuracy"]
DATASETS = ("mnist", "fashion_mnist")


@dataclass(frozen=True)
class Model:
    """One contestant: a notebook and the parameters that make it this model."""

    name: str
    notebook: str  # a file name in notebooks/ (or a path or URL)
    params: dict[str, Any] = field(default_factory=dict)


MODELS = [
    Model("simple-gan", "simple_gan_mnist.ipynb"),
    *(Model(f"dcgan-{loss}-{norm}", "dcgan_mnist.ipynb", {"loss": loss, "d_norm": norm})
      for norm in ("batch", "spectral") for loss in ("ns", "mm", "lsgan", "hinge")),
    Model("wgan-gp", "wgan_gp_mnist.ipynb"),
    Model("cgan", "conditional_gan_mnist.ipynb", {"conditioning": "cgan"}),
    Model("acgan", "conditional_gan_mnist.ipynb", {"conditioning": "acgan"}),
]


def pick_models(names: str | list[str] | None, models: list[Model] | None = None) -> list[Model]:
    """The models named (a list, or one comma-separated string); all of ``models`` (default ``MODELS``) for None or ""."""
    models = MODELS if models is None else models
    if not names:
        return list(models)
    wanted = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    known = {model.name: model for model in models}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ValueError(f"Unknown model {', '.join(map(repr, unknown))}: choose from {', '.join(known)}.")
    return [known[name] for name in wanted]


def notebook_location(notebook: str) -> str:
    """A notebook of this repository: the local copy beside the package when there is one (a clone),
    else its URL on GitHub (papermill reads it from there: Colab installs only the package)."""
    if "/" in notebook:
        return notebook
    local = REPO_NOTEBOOKS / notebook
    return str(local) if local.exists() else f"{NOTEBOOKS_URL}/{notebook}"


@dataclass
class Table:
    """One table of the leaderboard: its title, the runs of each model, and the aggregated rows."""

    title: str
    runs: dict[str, list[sweep.SweepRun]]  # model name -> its runs (one per seed)
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per model, ranked


@dataclass
class Leaderboard:
    """What `run_leaderboard` made: the tables (by budget; at equal epochs), the floor and the files."""

    out: Path
    tables: list[Table]
    floor: dict[str, Any] | None
    markdown: str


# ---- running

def _fixed_params(model: Model, notebook: str, dataset: str, **limits: Any) -> dict[str, Any]:
    defaults = sweep.notebook_parameters(notebook)
    fixed = {**model.params, "dataset": dataset, **limits}
    fixed.update({name: 1 for name in ("eval_every", "sample_every") if name in defaults})
    for name in ("train_minutes", "dataset"):
        if name not in defaults:
            raise ValueError(f"{notebook} has no {name!r} parameter, which the leaderboard sets; "
                             "add it to its parameters cell (see notebooks/dcgan_mnist.ipynb).")
    return fixed


def plans(budget: float, epochs: int | None) -> list[tuple[str, str, dict[str, Any]]]:
    """(title, label, limits) of each table: the budget's, and the equal-epochs one when ``epochs`` is given."""
    found = [(f"Ranked at an equal training time: {budget:g} minutes per run", f"{budget:g}min",
              {"train_minutes": float(budget), "epochs": MAX_EPOCHS})]
    if epochs:
        found.append((f"Ranked at an equal number of epochs: {epochs}", f"{epochs}ep",
                      {"train_minutes": 0.0, "epochs": epochs}))
    return found


def _model_runs(models: list[Model], dataset: str, seeds: int, out: Path, label: str, limits: dict[str, Any],
                train: bool, progress: bool, parallel: dict[str, Any] | None = None,
                after_run: Callable[[sweep.SweepRun], Any] | None = None) -> dict[str, list[sweep.SweepRun]]:
    """Each model's sweep over the seeds: run (what is not finished), or only read (``train=False``)."""
    runs = {}
    for i, model in enumerate(models, 1):
        notebook = notebook_location(model.notebook)
        folder = out / "sweeps" / f"{dataset}-{label}-{model.name}"
        fixed = _fixed_params(model, notebook, dataset, **limits)
        if train:
            print(f"[{label}] model {i}/{len(models)}: {model.name}")
            runs[model.name] = sweep.run_sweep(notebook, folder, fixed=fixed, seeds=seeds, progress=progress,
                                               after_run=after_run, **(parallel or {}))
            continue
        planned = sweep.plan_sweep(notebook, folder, fixed=fixed, seeds=seeds)
        recorded = sweep.read_state(folder)
        for run in planned:
            run.status = "done" if run.finished() else recorded.get(run.run_name, {}).get("status", "pending")
            run.error = None if run.finished() else recorded.get(run.run_name, {}).get("error")
            run.wall_seconds = recorded.get(run.run_name, {}).get("wall_seconds")
        runs[model.name] = planned
    return runs


def run_leaderboard(dataset: str = "mnist", seeds: int = 3, budget: float = 10.0, epochs: int | None = None,
                    out: str | Path | None = None, models: str | list[str] | list[Model] | None = None,
                    train: bool = True, progress: bool = True, jobs: int = 1,
                    devices: list[str] | None = None,
                    after_run: Callable[[sweep.SweepRun], Any] | None = None) -> Leaderboard:
    """Train every model (``models``: names from ``MODELS``, or `Model`s; default all) for ``seeds``
    seeds under a training-time ``budget`` (minutes per run), and with ``epochs`` also for that many
    epochs; then write the leaderboard into ``out`` and return it. Resumable (see the module).
    ``train=False`` trains nothing: the tables of the runs as they stand. ``jobs`` and ``devices``:
    a model's seeds side by side, as in `gan_helpers.sweep.run_sweep` (``devices``: one GPU per run;
    on a CPU keep ``jobs=1``: runs sharing the cores would each train less within the budget).
    ``after_run(run)`` is called after each run this call executes (e.g. to copy it somewhere safe)."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset={dataset!r}: the leaderboard's models train on {' or '.join(DATASETS)}.")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds={seeds!r} must be a whole number, at least 1 (3 give a mean and a spread).")
    if not isinstance(budget, (int, float)) or isinstance(budget, bool) or not budget > 0:
        raise ValueError(f"budget={budget!r} must be a positive number of minutes of training per run.")
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1):
        raise ValueError(f"epochs={epochs!r} must be a whole number of epochs, at least 1 (or None: no such table).")
    chosen = list(models) if models and isinstance(models[0], Model) else pick_models(models)
    out = Path(out) if out else find_root() / "leaderboards" / f"{dataset}-{budget:g}min"
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    parallel = {"jobs": jobs, "devices": devices}
    tables = [Table(title, _model_runs(chosen, dataset, seeds, out, label, limits, train, progress, parallel,
                                       after_run))
              for title, label, limits in plans(budget, epochs)]
    board = write_leaderboard(out, tables, dataset=dataset, seeds=seeds, budget=budget, epochs=epochs,
                              wall_seconds=time.perf_counter() - started if train else None)
    print(f"Leaderboard: {out / 'leaderboard.md'}")
    return board


# ---- reading the runs

def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def run_record(run: sweep.SweepRun) -> dict[str, Any]:
    """One run as a flat record: `compare.read_run` and what the budget reached (summary.json)."""
    record = compare.read_run(run.folder)
    summary = compare.read_json(Path(run.folder) / "summary.json") or {}
    config = compare.read_json(Path(run.folder) / "config.json") or {}
    evaluation = summary.get("evaluation") or {}
    record.update(seed=run.swept.get("seed"), wall_seconds=run.wall_seconds, status=run.status if run.status != "done" else "complete",
                  error=run.error, epochs_trained=summary.get("epochs_trained", summary.get("epochs")),
                  images_trained=summary.get("images_trained"), train_minutes=summary.get("train_minutes"),
                  ended_at=summary.get("ended_at"), train_seconds=summary.get("train_seconds"),
                  device=config.get("provenance", {}).get("device"),
                  machines=sorted({str(session["machine"]) for session in config.get("sessions", [])
                                   if isinstance(session, dict) and session.get("machine")}),
                  extractor=evaluation.get("extractor"), num_samples=evaluation.get("num_samples"),
                  num_reference=evaluation.get("num_reference"))
    return record


def mean_and_std(values: list[Any]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation of the numbers among ``values`` (std None for fewer than two)."""
    numbers = [v for v in map(_number, values) if v is not None]
    if not numbers:
        return None, None
    return statistics.fmean(numbers), statistics.stdev(numbers) if len(numbers) > 1 else None


def aggregate(model: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """One model's row: how many seeds finished, and mean and std over them of every metric and of the
    epochs, images and speed reached."""
    done = [r for r in records if r["status"] == "complete"]
    row: dict[str, Any] = {"model": model, "seeds_done": len(done), "seeds": len(records),
                           "failed": [f"seed {r['seed']}: {r['error']}" for r in records if r["status"] == "failed"]}
    for name in [*METRICS, "epochs_trained", "images_trained", "images_per_sec", "train_seconds"]:
        row[f"{name}_mean"], row[f"{name}_std"] = mean_and_std([r.get(name) for r in done])
    return row


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By mean Fréchet distance, lowest first; models without a finished run last."""
    return sorted(rows, key=lambda r: (r["frechet_distance_mean"] is None, r["frechet_distance_mean"] or 0.0))


# ---- writing

def _number_text(value: float, digits: int) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 ** digits else f"{value:.{digits}g}"


def _mean_std_cell(row: dict[str, Any], name: str, digits: int = 3) -> str:
    mean, std = row.get(f"{name}_mean"), row.get(f"{name}_std")
    if mean is None:
        return ""
    return _number_text(mean, digits) + (f" ± {_number_text(std, 2)}" if std is not None else "")


def markdown_table(rows: list[dict[str, Any]], floor: dict[str, Any] | None) -> str:
    """The ranked table: rank, model, seeds, mean ± std of every metric, epochs, images, images/s."""
    metrics = [m for m in METRICS if any(r.get(f"{m}_mean") is not None for r in rows)]
    columns = ["#", "model", "seeds", *metrics, "epochs", "images", "images/s"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    if floor:
        lines.append("| | *floor: real train vs test* | | " + " | ".join(
            compare.format_cell(floor.get(m)) for m in metrics) + " | | | |")
    for i, row in enumerate(rows, 1):
        done = row["seeds_done"]
        seeds = f"{done}/{row['seeds']}" + (" (failed: see below)" if row["failed"] else "")
        cells = [str(i) if done else "–", row["model"], seeds, *(_mean_std_cell(row, m) for m in metrics),
                 _mean_std_cell(row, "epochs_trained"), _mean_std_cell(row, "images_trained"),
                 _mean_std_cell(row, "images_per_sec", 4)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _versions() -> str:
    found = []
    for package in ("tensorflow", "keras", "numpy"):
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return f"Python {sys.version.split()[0]}, " + ", ".join(found)


def trained_on(records: list[dict[str, Any]]) -> str:
    """The CPUs the runs trained on (each session in config.json names its own), with how many runs each
    (and how many finished runs name none); flagged when they differ, since a time budget buys a different amount of training on each."""
    counts = {name: sum(name in r.get("machines", []) for r in records)
              for name in sorted({m for r in records for m in r.get("machines", [])})}
    unrecorded = sum(not r.get("machines") and r.get("status") == "complete" for r in records)  # not failed ones
    if not counts:
        return f"{machine_name(machine())} (where this table was written; the runs do not record theirs)"
    if len(counts) == 1 and not unrecorded:
        return next(iter(counts))
    parts = [f"{name} ({n} run{'s' * (n != 1)})" for name, n in counts.items()]
    parts += [f"not recorded ({unrecorded} run{'s' * (unrecorded != 1)})"] if unrecorded else []
    mixed = ". **Mixed machines**: a time budget buys a different amount of training on each" if len(counts) > 1 else ""
    by_seed: dict[tuple, set[str]] = {}  # the machines of each table's seed
    for record in records:
        if record.get("machines"):
            by_seed.setdefault((record.get("table"), record.get("seed")), set()).update(record["machines"])
    if mixed and all(seed is not None and len(names) == 1 for (_, seed), names in by_seed.items()):
        mixed += "; but each seed's runs all trained on one machine, so within a seed the models trained on equal terms"
    return "; ".join(parts) + mixed


def protocol(records: list[dict[str, Any]], dataset: str, seeds: int, budget: float, epochs: int | None,
             models: list[str] | None = None) -> str:
    """How the numbers were made, for anyone to reproduce them (``models``: the names, when not all of ``MODELS``)."""
    evaluated = [r for r in records if r.get("extractor")]
    extractor = evaluated[0]["extractor"] if evaluated else {}
    samples = sorted({(r["num_samples"], r["num_reference"]) for r in evaluated})
    counts = " or ".join(f"{n:,} samples against {m:,} test images" for n, m in samples) or "10,000 samples against " \
        "the 10,000 test images (none evaluated yet)"
    devices = sorted({str(r["device"]) for r in records if r.get("device")})
    command = f"python -m gan_helpers.leaderboard --dataset {dataset} --seeds {seeds} --budget {budget:g}" + (
        f" --epochs {epochs}" if epochs else "") + (f" --models {','.join(models)}" if models else "")
    return "\n".join([
        f"Command: `{command}`.",
        "",
        f"- **Budget**: {budget:g} minutes of training per run (`train_minutes`: wall time of `fit`, including the "
        "per-epoch quality measurement and checkpoints, over all sessions); each run ends at the first step past it."
        + (f" The second table trains every run for {epochs} epochs instead." if epochs else ""),
        f"- **Seeds**: {seeds} per model (`seed` = 0..{seeds - 1}); cells give the mean ± the standard deviation over "
        "the seeds that finished.",
        f"- **Evaluation**: each run's final generator (the averaged one where the model keeps one), {counts}; "
        "the floor: as many real training images against the same test images.",
        f"- **Extractor**: `{extractor.get('name', 'not recorded')}`, weights sha256 "
        f"`{str(extractor.get('weights_sha256', ''))[:16]}…` (test accuracy {extractor.get('test_accuracy')}).",
        f"- **Software**: {_versions()}.",
        f"- **Machine**: {trained_on(records)}; device: {', '.join(devices) or 'not recorded'}.",
    ])


def plot_quality_over_time(runs_by_model: dict[str, list[sweep.SweepRun]], path: str | Path,
                           metric: str = "frechet_distance") -> Path | None:
    """``q_<metric>`` of metrics.csv (measured after each epoch) against minutes of training: one line per
    model, the mean over its seeds, in a band from their lowest to their highest value. None if nothing is measured."""
    figure = new_figure(9, 5.5, layout="constrained")
    axes = figure.add_subplot()
    drawn = False
    for index, (name, runs) in enumerate(runs_by_model.items()):
        curves = []
        for run in runs:
            rows = read_metrics(Path(run.folder) / "metrics.csv")
            minutes = np.cumsum([row.get("seconds", 0.0) for row in rows]) / 60
            points = [(m, row[f"q_{metric}"]) for m, row in zip(minutes, rows) if f"q_{metric}" in row]
            if points:
                curves.append(np.array(points))
        if not curves:
            continue
        start, end = max(c[0, 0] for c in curves), min(c[-1, 0] for c in curves)  # where every seed has values
        grid = np.linspace(start, end, 50) if end > start else np.array([start])
        values = np.array([np.interp(grid, c[:, 0], c[:, 1]) for c in curves])
        # ten colours, then the same colours dashed: 12 models must not share a line's look
        line, = axes.plot(grid, values.mean(axis=0), label=name, marker="o" if len(grid) == 1 else "",
                          color=f"C{index % 10}", linestyle=("-", "--", ":")[index // 10 % 3])
        axes.fill_between(grid, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.15)
        drawn = True
    if not drawn:
        return None
    axes.set_xlabel("minutes of training")
    axes.set_ylabel(f"{metric.replace('_', ' ')} during training (lower is better)")
    axes.set_yscale("log")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", ncol=2)
    return save_figure(figure, path)


def plot_final_grids(runs_by_model: dict[str, list[sweep.SweepRun]], path: str | Path) -> Path | None:
    """The last sample grid of each model's first finished run, side by side (None if there is none)."""
    firsts = [(name, next((run for run in runs if run.finished()), None)) for name, runs in runs_by_model.items()]
    firsts = [(name, run) for name, run in firsts if run is not None and sample_paths(Path(run.folder) / "samples")]
    if not firsts:
        return None
    return compare.plot_final_samples([{"folder": run.folder} for _, run in firsts], path,
                                      labels=[name for name, _ in firsts])


def write_leaderboard(out: str | Path, tables: list[Table], dataset: str, seeds: int, budget: float,
                      epochs: int | None, wall_seconds: float | None = None) -> Leaderboard:
    """Aggregate and rank each table; write leaderboard.md, leaderboard.csv, runs.csv and the plots."""
    out = Path(out)
    all_records, csv_rows, floor = [], [], None
    for table in tables:
        by_model = {name: [run_record(run) for run in runs] for name, runs in table.runs.items()}
        table.rows = rank([aggregate(name, records) for name, records in by_model.items()])
        for records in by_model.values():
            all_records += [{"table": table.title, **r} for r in records]
        csv_rows += [{"table": table.title, **{k: v for k, v in row.items() if k != "failed"},
                      "failed": "; ".join(row["failed"])} for row in table.rows]
    for record in all_records:  # the floor is the same in every run of the dataset: the first one that has it
        floor = (compare.read_json(Path(record["folder"]) / "summary.json") or {}).get("floor")
        if floor:
            break
    compare.write_csv(csv_rows, out / "leaderboard.csv")
    compare.write_csv([{**{k: v for k, v in r.items() if k not in ("params", "extractor")},
                        "machines": "; ".join(r.get("machines", []))} for r in all_records], out / "runs.csv")
    curve = plot_quality_over_time(tables[0].runs, out / "plots" / "frechet_distance_vs_minutes.png")
    grids = plot_final_grids(tables[0].runs, out / "plots" / "final_grids.png")

    names = list(tables[0].runs) if tables else []
    subset = names if names != [model.name for model in MODELS] else None
    lines = [f"# Leaderboard: {dataset}", "", protocol(all_records, dataset, seeds, budget, epochs, subset), ""]
    if wall_seconds is not None:
        lines += [f"Wall time of this call: {wall_seconds / 60:.1f} minutes (runs finished earlier are not redone); "
                  f"updated {time.strftime('%Y-%m-%d %H:%M')}.", ""]
    for table in tables:
        walls = [r["wall_seconds"] for r in all_records if r["table"] == table.title and r.get("wall_seconds")]
        lines += [f"## {table.title}", "", "Ranked by mean Fréchet distance (lower is better); `epochs` and "
                  "`images` are what each run trained within its limit, `images/s` its median speed.", "",
                  markdown_table(table.rows, floor), "",
                  f"{len(walls)} runs took {sum(walls) / 60:.0f} minutes of wall time in all (kernel start, data, "
                  "training, evaluation).", ""]
        failures = [f"- {row['model']}, {failure}" for row in table.rows for failure in row["failed"]]
        if failures:
            lines += ["Failed runs (run the leaderboard again to retry them):", "", *failures, ""]
    if curve:
        lines += ["## Quality against training time", "",
                  "Fréchet distance measured after every epoch during training (on fewer samples than the final "
                  "evaluation), mean over seeds with the band from the best to the worst seed.", "",
                  f"![Fréchet distance against minutes]({curve.relative_to(out)})", ""]
    if grids:
        lines += ["## Final samples", "", f"![final grids]({grids.relative_to(out)})", ""]
    markdown = "\n".join(lines)
    write_atomically(out / "leaderboard.md", markdown)
    return Leaderboard(out=out, tables=tables, floor=floor, markdown=markdown)


# ---- command line

def main(argv: list[str] | None = None) -> int:
    """``python -m gan_helpers.leaderboard``: 0 when every run finished, 1 when one failed, 2 on bad arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m gan_helpers.leaderboard",
        description="Train every MNIST-family GAN over seeds under one time budget; rank them in OUT/leaderboard.md.",
        epilog="Models: " + ", ".join(m.name for m in MODELS))
    parser.add_argument("--dataset", default="mnist", choices=DATASETS)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per model (default 3)")
    parser.add_argument("--budget", type=float, default=10.0, help="minutes of training per run (default 10)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="also train every model for this many epochs: the table at equal epochs")
    parser.add_argument("--models", default="", help="comma-separated model names (default: all)")
    parser.add_argument("--out", default=None, help="output folder (default <root>/leaderboards/<dataset>-<budget>min)")
    parser.add_argument("--no-train", action="store_true", help="train nothing: tabulate the runs as they stand")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (logs, batch jobs)")
    parser.add_argument("--jobs", type=int, default=1, help="a model's runs at once (default 1; keep 1 on a CPU)")
    parser.add_argument("--devices", default="", metavar="0,1,...", help="GPU indices: one per run while it runs")
    args = parser.parse_args(argv)
    try:
        board = run_leaderboard(args.dataset, seeds=args.seeds, budget=args.budget, epochs=args.epochs,
                                out=args.out, models=args.models or None, train=not args.no_train,
                                progress=not args.no_progress, jobs=args.jobs,
                                devices=[d.strip() for d in args.devices.split(",") if d.strip()] or None)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1 if any(row["failed"] for table in board.tables for row in table.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
