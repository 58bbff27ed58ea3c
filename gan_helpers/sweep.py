"""Sweeps: run a notebook over a grid of parameters with papermill, then tabulate the runs.

From a shell::

    python -m gan_helpers.sweep notebooks/dcgan_mnist.ipynb --out sweeps/dcgan-lr \\
        --grid g_learning_rate=1e-4,2e-4 --grid batch_size=64,128 --seeds 2 -p epochs 3

or from a notebook (Colab)::

    gh.sweep.run_sweep("dcgan_mnist.ipynb", out=f"{env.root}/sweeps/dcgan-lr",
                       grid={"g_learning_rate": [1e-4, 2e-4]}, seeds=2, fixed={"epochs": 3})

- Every combination of the grid values (times ``--seeds N`` seeds: ``seed`` = 0..N-1, or
  S..S+N-1 with ``-p seed S``) is one run, executed by papermill with the fixed parameters.
- Values are cast to the type of the notebook's default (``epochs = 30`` makes ``3`` an int);
  unknown names, malformed grids and values of the wrong type are refused before anything runs.
- Each run gets a readable ``run_name``: the output folder's name and the swept values, e.g.
  ``dcgan-lr-g_learning_rate=0.0001-seed=0``. Its run folder is the usual
  ``<root>/runs/<experiment>/<run_name>/``; the executed notebook goes to
  ``<out>/notebooks/<run_name>.ipynb``.
- A run that raises is recorded as failed (error + executed notebook) and the sweep goes on.
- ``<out>/sweep.json`` records each run's status. Running the same sweep again skips finished
  runs (their folder has summary.json) and runs the others again; an interrupted run resumes
  from its checkpoints, as the notebooks do. Failed runs are retried.
- After every run, ``<out>/summary.csv``, ``<out>/summary.md`` and ``<out>/plots/`` are
  rewritten: one row per run, and the chosen metric against each swept parameter.
- ``--jobs N`` executes N runs at once, each in a papermill process of its own; ``--devices 0,1``
  gives each run a GPU of its own (``CUDA_VISIBLE_DEVICES``). On a CPU, parallel runs share the cores.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import itertools
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from . import compare
from .environment import find_root
from .files import write_atomically
from .params import ParamSpec, check_value, parse_parameters_cell

DEFAULT_METRIC = "frechet_distance"
_EXPERIMENT_CALL = re.compile(r"\bRun\(\s*[^,()]+,\s*[\"']([^\"']+)[\"']")
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


@dataclass
class SweepRun:
    """One run of a sweep: what is passed to the notebook, where it lands, and how it went."""

    run_name: str
    swept: dict[str, Any]  # the values this run differs in (grid values and seed)
    params: dict[str, Any]  # everything injected: fixed + swept + run_name
    folder: str  # <root>/runs/<experiment>/<run_name>
    notebook: str  # the executed notebook
    status: str = "pending"  # pending | running | done | paused (stopped by its time budget) | failed | interrupted
    error: str | None = None
    wall_seconds: float | None = None
    ran: bool = False  # executed by this call (False: finished before)

    def finished(self) -> bool:
        return (Path(self.folder) / "summary.json").exists()


# ---- reading the notebook

def _load_notebook(notebook: str | Path):
    import papermill.iorw  # imported here: papermill is only needed to run sweeps

    return papermill.iorw.load_notebook_node(str(notebook))


def notebook_parameters(notebook: str | Path) -> dict[str, Any]:
    """The notebook's ``parameters`` cell as ``{name: default value}`` (papermill reads it)."""
    import papermill

    found = papermill.inspect_notebook(str(notebook))
    if not found:
        raise ValueError(f"{notebook} has no cell tagged 'parameters'; a sweep can only set parameters of that cell.")
    defaults = {}
    for name, info in found.items():
        try:
            defaults[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            defaults[name] = None  # an expression: its values are taken as written (see cast_value)
    return defaults


def parameter_specs(notebook: str | Path) -> dict[str, ParamSpec]:
    """The declarations of the notebook's ``parameters`` cell (types, dropdown choices), as `gh.read_params` reads them."""
    cells = [cell for cell in _load_notebook(notebook).cells if "parameters" in cell.metadata.get("tags", [])]
    return parse_parameters_cell(cells[0].source) if cells else {}


def experiment_name(notebook: str | Path) -> str:
    """The experiment folder the notebook writes to: the name in its ``gh.Run(env, "<name>", ...)``
    call, or the notebook's file name without ``.ipynb`` when there is not exactly one such call."""
    source = "\n".join(cell.source for cell in _load_notebook(notebook).cells if cell.cell_type == "code")
    names = set(_EXPERIMENT_CALL.findall(source))
    return names.pop() if len(names) == 1 else Path(str(notebook)).stem


# ---- checking what the user asked for

def parse_grid(spec: str) -> tuple[str, list[str]]:
    """``"lr=1e-4,2e-4"`` -> ``("lr", ["1e-4", "2e-4"])``; anything else raises ``ValueError``."""
    name, equals, values = spec.partition("=")
    name, items = name.strip(), [v.strip() for v in values.split(",")]
    if not equals or not name or not values.strip() or not all(items):
        raise ValueError(f"Malformed grid {spec!r}: expected NAME=VALUE1,VALUE2,... "
                         "(e.g. --grid g_learning_rate=1e-4,2e-4), with a name and no empty value.")
    return name, items


def cast_value(name: str, value: Any, default: Any) -> Any:
    """``value`` (text from the command line, or a Python value) as the type of the notebook's ``default``.

    int stays int (``"64"`` -> 64; ``"2.5"`` is refused), float takes ints and ``"1e-4"``,
    bool takes true/false/yes/no/1/0, str takes anything. A parameter whose default is not a
    plain literal gets the value as Python reads it (``"[1, 2]"`` -> a list), else as text.
    """
    def refuse(kind: str) -> ValueError:
        return ValueError(f"Parameter {name}={value!r} must be {kind}, like the notebook's default {default!r}.")

    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        if str(value).strip().lower() not in words:
            raise refuse("true or false")
        return words[str(value).strip().lower()]
    if isinstance(default, int):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if isinstance(value, bool) or number is None or not number.is_integer():
            raise refuse("a whole number (an int)")
        return int(number)
    if isinstance(default, float):
        try:
            number = None if isinstance(value, bool) else float(value)
        except (TypeError, ValueError):
            number = None
        if number is None:
            raise refuse("a number")
        return number
    if isinstance(default, str):
        return str(value)
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def _check_names(names: Iterable[str], defaults: dict[str, Any], notebook: str | Path, what: str) -> None:
    unknown = [name for name in names if name not in defaults]
    if unknown:
        raise ValueError(f"Unknown {what} {', '.join(map(repr, unknown))}: the parameters cell of {notebook} "
                         f"has {', '.join(defaults)}.")


def _format(value: Any) -> str:
    return _UNSAFE.sub("_", repr(value) if isinstance(value, float) else str(value))


def plan_sweep(notebook: str | Path, out: str | Path, grid: dict[str, list] | Iterable[str] | None = None,
               fixed: dict[str, Any] | None = None, seeds: int | None = None,
               root: str | Path | None = None) -> list[SweepRun]:
    """Check the request against the notebook and list the runs, without running anything.

    ``grid`` maps names to lists of values, or is a list of ``"name=v1,v2"`` strings;
    ``fixed`` maps names to single values; ``seeds`` repeats every combination with seeds
    0..N-1 (S..S+N-1 when ``fixed`` sets ``seed=S``). Raises ``ValueError`` naming the bad input.
    """
    defaults = notebook_parameters(notebook)
    specs = parameter_specs(notebook)
    for name, spec in specs.items():  # a number's form annotation wins over its default's type (0 for 0.0)
        if spec.kind == "float" and isinstance(defaults.get(name), int) and not isinstance(defaults[name], bool):
            defaults[name] = float(defaults[name])
    if grid is None:
        grid = {}
    elif not isinstance(grid, dict):
        grid_items: dict[str, list] = {}
        for spec in grid:
            name, values = parse_grid(spec)
            if name in grid_items:
                raise ValueError(f"Grid parameter {name!r} is given twice; list all its values in one --grid {name}=...")
            grid_items[name] = values
        grid = grid_items
    fixed = dict(fixed or {})
    _check_names(grid, defaults, notebook, "grid parameter")
    _check_names(fixed, defaults, notebook, "parameter")
    if "run_name" not in defaults:
        raise ValueError(f"{notebook} has no run_name parameter; a sweep names each run through it.")
    if "run_name" in grid or "run_name" in fixed:
        raise ValueError("run_name is set by the sweep (from the swept values); leave it out of -p and --grid.")
    both = sorted(set(grid) & set(fixed))
    if both:
        raise ValueError(f"{', '.join(both)} is given both as a fixed parameter (-p) and as a grid; keep one.")

    typed_grid = {}
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ValueError(f"Grid {name!r} must be a list of values, got {values!r}.")
        typed = [cast_value(name, v, defaults[name]) for v in values]
        if not typed:
            raise ValueError(f"Grid {name!r} has no values; give at least one, e.g. {name}=1,2.")
        if len({repr(v) for v in typed}) < len(typed):
            raise ValueError(f"Grid {name!r} lists a value twice: {typed}.")
        typed_grid[name] = typed
    typed_fixed = {name: cast_value(name, value, defaults[name]) for name, value in fixed.items()}
    choices = {name: spec for name, spec in specs.items() if spec.kind == "choice"}
    for name, values in [*typed_grid.items(), *((n, [v]) for n, v in typed_fixed.items())]:
        for value in values:
            if name in choices:  # a dropdown's value, refused now rather than in every run
                check_value(name, value, choices[name])
    if seeds is not None:
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise ValueError(f"seeds={seeds!r} must be a whole number of seeds, at least 1.")
        if "seed" not in defaults:
            raise ValueError(f"--seeds needs a 'seed' parameter, and {notebook} has none.")
        if "seed" in typed_grid:
            raise ValueError("seed is both in a grid and in --seeds; use one of them.")
        base = typed_fixed.pop("seed", 0)
        typed_grid["seed"] = [base + i for i in range(seeds)]

    out = Path(out)
    runs_dir = Path(root or find_root()) / "runs" / experiment_name(notebook)
    runs = []
    for combination in itertools.product(*typed_grid.values()):
        swept = dict(zip(typed_grid, combination))
        run_name = "-".join([_format(out.resolve().name)] + [f"{k}={_format(v)}" for k, v in swept.items()])
        runs.append(SweepRun(run_name=run_name, swept=swept, params={**typed_fixed, **swept, "run_name": run_name},
                             folder=str((runs_dir / run_name).resolve()),
                             notebook=str((out / "notebooks" / f"{run_name}.ipynb").resolve())))
    return runs


# ---- running

def execute_notebook(notebook: str | Path, output: str | Path, parameters: dict[str, Any],
                     kernel_name: str | None = None, cwd: str | Path | None = None) -> None:
    """Execute ``notebook`` with papermill in ``cwd`` (default: the notebook's own folder, as in Jupyter),
    writing the executed copy to ``output``; the kernel inherits this process's environment. Raises
    papermill's errors."""
    import papermill

    local = Path(str(notebook))
    if cwd is None and local.exists():
        cwd = local.resolve().parent
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name=kernel_name,
                               cwd=None if cwd is None else str(cwd), progress_bar=False)


def execute_run(notebook: str | Path, run: SweepRun, kernel_name: str | None = None,
                own_process: bool = False, device: str | None = None) -> None:
    """Execute one run with papermill and set its status: done, or failed with the error and where to read it.

    ``own_process``: in a papermill process of its own (for runs side by side), whose kernel sees
    only ``device`` when one is given (a GPU index, or several: "0,1"; ``CUDA_VISIBLE_DEVICES``)."""
    import papermill

    started = time.perf_counter()
    try:
        if own_process or device is not None:
            execute_notebook_in_process(notebook, run.notebook, run.params, kernel_name,
                                        env={"CUDA_VISIBLE_DEVICES": device} if device is not None else None)
        else:
            execute_notebook(notebook, run.notebook, run.params, kernel_name)
    except papermill.PapermillExecutionError as error:
        run.status = "paused" if error.ename == "TrainingPaused" else "failed"  # a time budget, say: resumable
        run.error = f"{error.ename}: {error.evalue} (in cell [{error.exec_count}]; read {run.notebook})"
    except Exception as error:  # the kernel died, a cell timed out, the notebook could not be read ...
        run.status = "failed"
        run.error = f"{type(error).__name__}: {error} (read {run.notebook})"
    else:
        if run.finished():
            run.status, run.error = "done", None
        else:
            run.status = "failed"
            run.error = (f"The notebook ran to the end but left no summary.json in {run.folder}; "
                         f"does it write its runs elsewhere? (read {run.notebook})")
    run.wall_seconds = round(time.perf_counter() - started, 1)


def execute_notebook_in_process(notebook: str | Path, output: str | Path, parameters: dict[str, Any],
                                kernel_name: str | None = None, env: dict[str, str] | None = None) -> None:
    """`execute_notebook` in a Python process of its own, whose environment (and so its kernel's) adds ``env``.
    Raises papermill's error as `execute_notebook` would (rebuilt from the executed notebook)."""
    import papermill

    code = ("import json, sys; from gan_helpers.sweep import execute_notebook; "
            "execute_notebook(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] or None)")
    finished = subprocess.run([sys.executable, "-c", code, str(notebook), str(output), json.dumps(parameters, default=str),
                               kernel_name or ""], env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if finished.returncode == 0:
        return
    for index, cell in enumerate(_executed_cells(output)):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise papermill.PapermillExecutionError(index, cell.get("execution_count"), cell.get("source", ""),
                                                        out.get("ename", ""), out.get("evalue", ""),
                                                        out.get("traceback", []))
    raise RuntimeError(f"papermill exited with {finished.returncode}: {finished.stderr.strip()[-500:]}")


def _executed_cells(path: str | Path) -> list[dict]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return []


def write_state(out: str | Path, notebook: str | Path, runs: list[SweepRun], metric: str) -> Path:
    """Write ``<out>/sweep.json``: the notebook, the metric and every run's status (atomically)."""
    state = {"notebook": str(notebook), "metric": metric, "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
             "runs": [{k: v for k, v in asdict(run).items() if k != "ran"} for run in runs]}
    return write_atomically(Path(out) / "sweep.json", json.dumps(state, indent=2, default=str))


def read_state(out: Path) -> dict[str, dict]:
    """The runs recorded in ``<out>/sweep.json`` by run name (empty when there is none)."""
    try:
        return {run["run_name"]: run for run in json.loads((out / "sweep.json").read_text())["runs"]}
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return {}


def summarize(out: str | Path, runs: list[SweepRun], metric: str = DEFAULT_METRIC,
              notebook: str | Path | None = None) -> list[dict[str, Any]]:
    """Write ``summary.csv``, ``summary.md`` and ``plots/<metric>_vs_<parameter>.png`` into ``out``; return the rows."""
    out = Path(out)
    records = []
    for run in runs:
        record = compare.read_run(run.folder)
        record.update(run=run.run_name, params=dict(run.swept), status=run.status, error=run.error,
                      wall_seconds=run.wall_seconds, notebook=run.notebook)
        records.append(record)
    parameters = list(runs[0].swept) if runs else []
    rows = compare.table_rows(records, parameters)
    compare.write_csv(rows, out / "summary.csv")
    short_rows = [{**row, "error": row["error"] and row["error"].replace(f"{out.resolve()}/", "")} for row in rows]
    plots = compare.plot_metric_vs_parameters(records, metric, parameters, out / "plots")
    counts = {s: sum(r.status == s for r in runs) for s in ("done", "paused", "failed", "running", "pending", "interrupted")}
    lines = [f"# Sweep {out.name}", "",
             f"Notebook `{notebook}` · {len(runs)} runs: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
             + f" · updated {time.strftime('%Y-%m-%d %H:%M:%S')}", "",
             "Final metrics: the notebook's evaluation at the end (summary.json); `best_*`: the best value "
             "measured during training (metrics.csv `q_*`). Run folders, executed notebooks and errors in full: "
             "`summary.csv`.", "", compare.markdown_table(short_rows, parameters), ""]
    lines += [f"![{p.stem}](plots/{p.name})" for p in plots]
    if any(r.status == "done" for r in runs) and not any(isinstance(r.get(metric), (int, float)) for r in rows):
        numeric = [k for k in compare.table_columns(rows) if any(isinstance(r.get(k), float) for r in rows)]
        lines.append(f"No plot: no run has a number for metric {metric!r}; choose one of {numeric}.")
    write_atomically(out / "summary.md", "\n".join(lines) + "\n")
    return rows


def run_sweep(notebook: str | Path, out: str | Path, grid: dict[str, list] | Iterable[str] | None = None,
              fixed: dict[str, Any] | None = None, seeds: int | None = None, metric: str = DEFAULT_METRIC,
              kernel_name: str | None = None, progress: bool = True, jobs: int = 1,
              devices: Sequence[str] | None = None,
              after_run: Callable[[SweepRun], Any] | None = None) -> list[SweepRun]:
    """Plan the sweep (see ``plan_sweep``), run what is not finished yet, and summarize; return the runs.

    Runs whose folder holds summary.json are skipped; the others are executed (an interrupted one
    resumes from its checkpoints), ``jobs`` at a time. ``devices`` (e.g. ``["0", "1"]``) gives each
    run one GPU of its own while it runs (``CUDA_VISIBLE_DEVICES``; ``jobs`` defaults to their number);
    without it, parallel runs share every device (on a CPU: the cores). A failing run is recorded
    and the sweep continues. ``sweep.json`` and the summary are rewritten after every run, and then
    ``after_run(run)`` is called (e.g. to copy a finished run somewhere safe).
    """
    from tqdm.auto import tqdm

    devices = [str(d) for d in devices] if devices else None
    jobs = len(devices) if devices and jobs == 1 else jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs={jobs!r}: give the number of runs to execute at once, at least 1.")
    if devices and jobs > len(devices):
        raise ValueError(f"jobs={jobs} but only {len(devices)} devices ({','.join(devices)}): each run needs one "
                         "of its own; give more devices or fewer jobs.")
    runs = plan_sweep(notebook, out, grid, fixed, seeds)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    previous = read_state(out)
    for run in runs:
        if run.finished():
            run.status = "done"
            run.wall_seconds = previous.get(run.run_name, {}).get("wall_seconds")
    todo = [run for run in runs if not run.finished()]
    print(f"Sweep of {notebook}: {len(runs)} runs, {len(runs) - len(todo)} already finished, {len(todo)} to run. "
          f"Table: {out / 'summary.md'}")
    write_state(out, notebook, runs, metric)
    bar = tqdm(total=len(todo), unit="run", desc="sweep", disable=not progress or not todo)

    def report(run: SweepRun) -> None:
        write_state(out, notebook, runs, metric)
        summarize(out, runs, metric, notebook)
        outcome = {"done": f"done in {run.wall_seconds:.0f} s",
                   "paused": f"paused after {run.wall_seconds:.0f} s (run the sweep again to continue): {run.error}"
                   }.get(run.status, f"FAILED: {run.error}")
        (bar.write if progress else print)(f"{run.run_name}: {outcome}")
        bar.update()
        if after_run is not None:
            after_run(run)

    try:
        if jobs == 1 and not devices:
            for run in todo:
                bar.set_postfix_str(run.run_name, refresh=True)
                run.status, run.ran = "running", True
                write_state(out, notebook, runs, metric)
                execute_run(notebook, run, kernel_name)
                report(run)
        else:
            _run_in_parallel(notebook, todo, kernel_name, jobs, devices, started=lambda: write_state(
                out, notebook, runs, metric), finished=report)
    except KeyboardInterrupt:
        for run in todo:
            if run.status == "running":
                run.status, run.error = "interrupted", "stopped by the user; run the sweep again to resume"
        write_state(out, notebook, runs, metric)
        summarize(out, runs, metric, notebook)
        raise
    bar.close()
    summarize(out, runs, metric, notebook)
    failed = [run for run in runs if run.status == "failed"]
    paused = [run for run in runs if run.status == "paused"]
    print(f"{len(runs) - len(failed) - len(paused)}/{len(runs)} runs done" + (f", {len(paused)} paused" if paused else "")
          + (f", {len(failed)} failed" if failed else "") + f". Table: {out / 'summary.md'}")
    return runs


def _run_in_parallel(notebook: str | Path, todo: list[SweepRun], kernel_name: str | None, jobs: int,
                     devices: list[str] | None, started: Callable[[], Any], finished: Callable[[SweepRun], Any]) -> None:
    """Execute ``todo`` ``jobs`` at a time, each in a papermill process of its own (on its own device
    when ``devices`` are given); ``started()`` and ``finished(run)`` are called from this thread only."""
    free = list(devices) if devices else [None] * jobs
    pending, running = list(todo), {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        while pending or running:
            while pending and free:
                run, device = pending.pop(0), free.pop(0)
                run.status, run.ran = "running", True
                started()
                running[pool.submit(execute_run, notebook, run, kernel_name, True, device)] = (run, device)
            done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                run, device = running.pop(future)
                future.result()  # execute_run records every failure of the run itself
                free.append(device)
                finished(run)


# ---- command line

def main(argv: list[str] | None = None) -> int:
    """``python -m gan_helpers.sweep``: returns 0 when every run is done, 1 when one failed, 2 on bad arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m gan_helpers.sweep",
        description="Run a notebook over a grid of parameters with papermill; tabulate the runs in OUT/summary.md.",
        epilog="Example: python -m gan_helpers.sweep notebooks/simple_gan_mnist.ipynb --out sweeps/lr "
               "--grid g_learning_rate=1e-4,2e-4 --seeds 2 -p epochs 5")
    parser.add_argument("notebook", help="the notebook to run (a path or URL)")
    parser.add_argument("--out", required=True, help="output folder: sweep.json, summary.csv/.md, plots/, notebooks/")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                        help="values to sweep over; repeat for more parameters (all combinations run)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a fixed parameter for every run")
    parser.add_argument("--seeds", type=int, default=None, metavar="N",
                        help="repeat each combination with seed = 0..N-1 (or S..S+N-1 with -p seed S)")
    parser.add_argument("--metric", default=DEFAULT_METRIC,
                        help=f"column of the table to plot against each swept parameter (default {DEFAULT_METRIC})")
    parser.add_argument("--kernel", default=None, help="Jupyter kernel name (default: the notebook's own)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="runs executed at once, each in a process of its own (default 1; with --devices: their number)")
    parser.add_argument("--devices", default="", metavar="0,1,...",
                        help="GPU indices: each run gets one of its own while it runs (CUDA_VISIBLE_DEVICES)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    fixed = {}
    for name, value in args.parameter:
        if name in fixed:
            parser.error(f"-p {name} is given twice")
        fixed[name] = value
    try:
        runs = run_sweep(args.notebook, args.out, args.grid, fixed, args.seeds, args.metric, args.kernel,
                         progress=not args.no_progress, jobs=args.jobs,
                         devices=[d.strip() for d in args.devices.split(",") if d.strip()] or None)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1 if any(run.status == "failed" for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
