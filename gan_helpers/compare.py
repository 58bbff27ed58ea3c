"""Compare finished (or unfinished) runs: one table row per run folder, and plots across runs.

Everything here only reads run folders as ``drive_layout.md`` describes them (config.json,
summary.json, metrics.csv, samples/), so it works on any set of runs: a sweep's, or folders
picked by hand from Drive. ``notebooks/compare_runs.ipynb`` and the sweep runner use it:

    folders = find_run_folders("sweeps/lr, runs/simple_gan_mnist/mnist-*")
    records = collect_runs(folders)
    params = varying_parameters(records)            # what differs between the runs
    print(markdown_table(table_rows(records, params)))
    plot_metrics_over_time(records, "metrics.png")
"""

from __future__ import annotations

import csv
import glob
import io
import json
import math
import statistics
from pathlib import Path
from typing import Any, Iterable

from PIL import Image

from .files import write_atomically
from .plots import new_figure, sample_paths, save_figure
from .runs import read_metrics

# The final evaluation (summary.json "evaluation", 10,000 samples) shown for every run.
# The last two are measured for class-conditional generators only (None, and so left out of tables, otherwise).
FINAL_METRICS = ["frechet_distance", "kid", "precision", "recall", "classifier_score", "classes_covered",
                 "conditional_accuracy", "intra_class_frechet_distance"]
# Metrics where smaller is better; every other quality metric is better when larger.
LOWER_IS_BETTER = {"frechet_distance", "kid", "kl_from_uniform", "intra_class_frechet_distance"}
# The columns of the Markdown table after the run's name and parameters (the CSV has every field).
SHOWN_COLUMNS = ["status", "epochs_done", *FINAL_METRICS, "best_frechet_distance", "best_epoch",
                 "train_seconds", "images_per_sec", "wall_seconds", "error"]
# Parameters that say where a run reads or writes, not what it trains: never "varying".
NOT_COMPARED = {"run_name", "data_dir"}
# metrics.csv columns that are bookkeeping rather than metrics.
BOOKKEEPING_COLUMNS = {"epoch", "seconds", "images_per_sec"}


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON file's content, or None when it is missing or damaged."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def find_run_folders(spec: str | Path | Iterable[str | Path], relative_to: str | Path | None = None) -> list[Path]:
    """Run folders named by ``spec``: folders or glob patterns, as a list or one comma-separated string.

    Each entry may be a run folder (it holds config.json), a sweep's output folder (its
    sweep.json lists the run folders), or any folder above run folders (``<root>/runs``,
    ``<root>/runs/simple_gan_mnist``), searched recursively. Duplicates are dropped; the order
    follows ``spec``. Relative entries are taken from ``relative_to`` (e.g. the root folder), or
    the current folder. An entry that matches nothing raises ``FileNotFoundError``.
    """
    if isinstance(spec, (str, Path)):
        entries = [part.strip() for part in str(spec).split(",") if part.strip()]
    else:
        entries = [str(part) for part in spec]
    found: dict[Path, None] = {}
    for entry in entries:
        pattern = Path(relative_to or ".") / Path(entry).expanduser()
        matches = sorted(glob.glob(str(pattern)))
        if not matches:
            raise FileNotFoundError(f"{entry!r} matches no folder (looked for {pattern}). Give run folders, sweep "
                                    "folders or folders above them (e.g. runs/simple_gan_mnist), separated by commas.")
        for match in map(Path, matches):
            sweep = read_json(match / "sweep.json")
            if (match / "config.json").exists():
                found[match] = None
            elif sweep is not None:
                found.update((Path(run["folder"]), None) for run in sweep["runs"] if Path(run["folder"]).is_dir())
            elif match.is_dir():
                found.update((config.parent, None) for config in sorted(match.rglob("config.json")))
    return list(found)


def read_run(folder: str | Path) -> dict[str, Any]:
    """One run folder as a flat record: name, parameters, status, final and best metrics, speed.

    ``status`` is ``complete`` (summary.json exists), ``incomplete`` (interrupted or still
    training) or ``missing`` (no folder). Final metrics come from summary.json's evaluation
    (None until the run completes); ``best_<metric>`` is the best value of each ``q_<metric>``
    column of metrics.csv (measured during training on fewer samples), ``best_epoch`` the epoch
    of the best Fréchet distance; losses are those of the last epoch; ``train_seconds`` is the
    summed epoch time and ``images_per_sec`` the median training speed over epochs.
    """
    folder = Path(folder)
    config = read_json(folder / "config.json") or {}
    summary = read_json(folder / "summary.json")
    rows = read_metrics(folder / "metrics.csv")
    status = "complete" if summary is not None else ("incomplete" if folder.is_dir() else "missing")
    record: dict[str, Any] = {"run": folder.name, "params": config.get("params", {}), "status": status,
                              "epochs_done": rows[-1]["epoch"] if rows else None}
    evaluation = (summary or {}).get("evaluation") or {}
    record.update({name: evaluation.get(name) for name in FINAL_METRICS})
    quality_columns = sorted({k for row in rows for k in row if k.startswith("q_")})
    for column in quality_columns:
        measured = [(row[column], row["epoch"]) for row in rows if column in row]
        name = column[2:]
        best = min(measured) if name in LOWER_IS_BETTER else max(measured)
        record[f"best_{name}"] = best[0]
        if name == "frechet_distance":
            record["best_epoch"] = best[1]
    last = rows[-1] if rows else {}
    record.update({k: v for k, v in last.items() if k.endswith("loss")})
    seconds = round(sum(r.get("seconds", 0.0) for r in rows), 2) if rows else None
    record["train_seconds"] = (summary or {}).get("train_seconds", seconds)
    speeds = [r["images_per_sec"] for r in rows if "images_per_sec" in r]
    record["images_per_sec"] = statistics.median(speeds) if speeds else None
    record["folder"] = str(folder)
    return record


def collect_runs(folders: Iterable[str | Path]) -> list[dict[str, Any]]:
    """``read_run`` for each folder."""
    return [read_run(folder) for folder in folders]


def varying_parameters(records: list[dict[str, Any]]) -> list[str]:
    """The parameters whose values differ between the records (what a comparison is about)."""
    names = list(dict.fromkeys(name for record in records for name in record["params"]))
    return [name for name in names if name not in NOT_COMPARED
            and len({json.dumps(r["params"].get(name), sort_keys=True) for r in records}) > 1]


def run_label(record: dict[str, Any], parameters: list[str]) -> str:
    """``name=value, ...`` of the given parameters, or the run's name when there are none."""
    if not parameters:
        return record["run"]
    return ", ".join(f"{name}={record['params'].get(name)}" for name in parameters)


def table_rows(records: list[dict[str, Any]], parameters: list[str]) -> list[dict[str, Any]]:
    """Flatten records into table rows: run, the given parameters, then every other field.

    A result named like a parameter (the DCGAN's ``precision`` parameter and its ``precision``
    metric) gets the suffix ``_result``, so neither column overwrites the other.
    """
    def result_name(key: str) -> str:
        return f"{key}_result" if key in parameters else key

    return [{"run": r["run"], **{name: r["params"].get(name) for name in parameters},
             **{result_name(k): v for k, v in r.items() if k not in ("run", "params")}} for r in records]


def table_columns(rows: list[dict[str, Any]]) -> list[str]:
    """Every key of the rows, in first-seen order."""
    return list(dict.fromkeys(key for row in rows for key in row))


def write_csv(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Write table rows as CSV (columns: the union of the rows' keys, in order), atomically."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=table_columns(rows), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_atomically(path, text.getvalue())


def format_cell(value: Any, width: int = 200) -> str:
    """A table cell: numbers to 4 significant digits, text on one line and at most ``width`` characters."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown_table(rows: list[dict[str, Any]], parameters: list[str] = (), columns: list[str] | None = None) -> str:
    """A Markdown table: run, ``parameters``, then ``columns`` (default ``SHOWN_COLUMNS``), numbers to
    4 significant digits; columns empty in every row are left out."""
    shown = SHOWN_COLUMNS if columns is None else columns
    wanted = ["run", *parameters, *(f"{c}_result" if c in parameters else c for c in shown)]  # see table_rows
    columns = [c for c in dict.fromkeys(wanted) if any(format_cell(r.get(c)) for r in rows)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(format_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def plot_metric_vs_parameters(records: list[dict[str, Any]], metric: str, parameters: list[str],
                              folder: str | Path) -> list[Path]:
    """For each parameter (except ``seed``), plot ``metric`` against its values, mean ± std over seeds.

    Runs that share the other parameters form one line, so a 2-D grid gives one line per value
    of the other parameter. Writes ``<folder>/<metric>_vs_<parameter>.png`` and returns the
    paths; none when no record has a number for ``metric``.
    """
    if not any(_number(r.get(metric)) is not None for r in records):
        return []
    paths = []
    for parameter in [p for p in parameters if p != "seed" and len({repr(r["params"].get(p)) for r in records}) > 1]:
        others = [p for p in parameters if p not in (parameter, "seed")]
        values = sorted({r["params"].get(parameter) for r in records}, key=lambda v: (str(type(v)), v))
        numeric = all(_number(v) is not None for v in values)
        positions = values if numeric else list(range(len(values)))
        figure = new_figure(6, 4, layout="constrained")
        axes = figure.add_subplot()
        groups = sorted({tuple(r["params"].get(p) for p in others) for r in records},
                        key=lambda group: [(str(type(v)), v) for v in group])
        seeds = 1
        for group in groups:
            means, stds, xs = [], [], []
            for x, value in zip(positions, values):
                measured = [_number(r.get(metric)) for r in records if r["params"].get(parameter) == value
                            and tuple(r["params"].get(p) for p in others) == group]
                measured = [m for m in measured if m is not None]
                if measured:
                    seeds = max(seeds, len(measured))
                    xs.append(x)
                    means.append(statistics.fmean(measured))
                    stds.append(statistics.stdev(measured) if len(measured) > 1 else 0.0)
            if not xs:
                continue
            label = ", ".join(f"{p}={v}" for p, v in zip(others, group)) or metric
            axes.errorbar(xs, means, yerr=stds, marker="o", capsize=4, label=label)
        if numeric and min(values) > 0 and max(values) / min(values) >= 100:
            axes.set_xscale("log")
        # Tick exactly the swept values, written as in the notebook (2e-4, not 0.000200).
        axes.set_xticks(positions, [f"{v:g}" if numeric else str(v) for v in values])
        axes.minorticks_off()
        axes.set_xlabel(parameter)
        axes.set_ylabel(metric)
        axes.set_title(f"{metric} vs {parameter}" + (f" (mean ± std over {seeds} seeds)" if seeds > 1 else ""))
        axes.grid(alpha=0.3)
        if others:
            axes.legend(fontsize="small")
        paths.append(save_figure(figure, Path(folder) / f"{metric}_vs_{parameter}.png"))
    return paths


def plot_metrics_over_time(records: list[dict[str, Any]], path: str | Path, metrics: list[str] | None = None,
                           x: str = "seconds", labels: list[str] | None = None) -> Path:
    """One panel per metric of metrics.csv, every run a line in it, against training time.

    ``x`` is ``"seconds"`` (cumulative epoch wall time: fair across batch sizes and devices)
    or ``"epoch"``. ``metrics`` defaults to every logged column (losses and ``q_*`` quality).
    """
    if x not in ("seconds", "epoch"):
        raise ValueError(f"x={x!r} is not allowed; use 'seconds' or 'epoch'.")
    logs = [read_metrics(Path(r["folder"]) / "metrics.csv") for r in records]
    available = list(dict.fromkeys(k for rows in logs for row in rows for k in row if k not in BOOKKEEPING_COLUMNS))
    metrics = metrics or available
    unknown = [m for m in metrics if m not in available]
    if unknown or not metrics:
        raise ValueError(f"metrics.csv of these runs has no column(s) {unknown or metrics}; "
                         f"the logged metrics are {available}.")
    labels = labels or [r["run"] for r in records]
    ncols = min(2, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    figure = new_figure(6 * ncols, 3.5 * nrows, layout="constrained")
    for index, metric in enumerate(metrics):
        axes = figure.add_subplot(nrows, ncols, index + 1)
        for rows, label in zip(logs, labels):
            elapsed, points = 0.0, []
            for row in rows:
                elapsed += row.get("seconds", 0.0)
                if metric in row:
                    points.append((elapsed if x == "seconds" else row["epoch"], row[metric]))
            if points:
                axes.plot(*zip(*points), marker="o" if len(points) < 30 else "", label=label)
        axes.set_title(metric)
        axes.set_xlabel("training seconds" if x == "seconds" else "epoch")
        axes.grid(alpha=0.3)
    figure.axes[0].legend(fontsize="small")
    return save_figure(figure, path)


def plot_final_samples(records: list[dict[str, Any]], path: str | Path, labels: list[str] | None = None,
                       columns: int = 4) -> Path:
    """The last sample grid of every run (``samples/epoch_NNNN.png``), side by side, titled by ``labels``."""
    labels = labels or [r["run"] for r in records]
    grids = [(sample_paths(Path(r["folder"]) / "samples"), label) for r, label in zip(records, labels)]
    grids = [(paths[-1], label) for paths, label in grids if paths]
    if not grids:
        raise ValueError("None of these runs has a sample grid yet (samples/epoch_NNNN.png); train an epoch first.")
    ncols = min(columns, len(grids))
    nrows = math.ceil(len(grids) / ncols)
    figure = new_figure(3.2 * ncols, 3.6 * nrows, layout="constrained")
    for index, (grid, label) in enumerate(grids):
        axes = figure.add_subplot(nrows, ncols, index + 1)
        with Image.open(grid) as picture:
            axes.imshow(picture.convert("L"), cmap="gray", vmin=0, vmax=255)
        axes.set_title(f"{label}\n{grid.stem.replace('_', ' ')}", fontsize="small")
        axes.axis("off")
    return save_figure(figure, path)
