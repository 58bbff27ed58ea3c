"""The leaderboard on real data: `gan_helpers.leaderboard` with the real MNIST (or Fashion-MNIST), its result kept.

    python benchmarks/leaderboard.py --dataset mnist --seeds 3 --budget 10 [--epochs 20] [--models a,b]

Runs the leaderboard (resumable: run it again to continue) with the runs under ``--home`` (default
``~/gan-benchmarks``) on the real data (MNIST from ``../shared/data/mnist``, Fashion-MNIST from Debian's
``dataset-fashion-mnist``), then writes ``results/leaderboard_<dataset>_<budget>min.json`` (the tables as
Markdown and as rows, the floor, the machine, the wall time) and copies its two plots beside it.
``--collect`` only reads a leaderboard that ran already (e.g. one started with ``python -m gan_helpers.leaderboard``).

A leaderboard takes longer than a session, and a new session may be a new machine. So what the tables and
plots read of each finished run (summary, config, metrics, last sample grid, the sweep's record) is kept in
``results/leaderboard_runs/`` (committed with the results), and copied back under ``--home`` before training:
the runs finished on another machine are not redone. Seeds run in turn (``--seeds 1``, then ``2``, ``3``)
train every model on the same machine for each seed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import harness

DATA_DIRS = {"mnist": harness.SHARED_DATA / "mnist", "fashion_mnist": Path("/usr/share/datasets/fashion-mnist")}
KEPT = harness.RESULTS / "leaderboard_runs"  # a mirror of the small files of finished runs under --home
KEPT_FILES = ("summary.json", "config.json", "metrics.csv")


def keep_run(folder: Path, home: Path, kept: Path = KEPT) -> Path | None:
    """Copy what the leaderboard reads of one finished run folder under ``home`` (its summary, config, metrics
    and last sample grid) to the same place under ``kept``; None (nothing copied) if it has not finished."""
    from gan_helpers.plots import sample_paths

    folder = Path(folder)
    if not (folder / "summary.json").exists():
        return None
    target = kept / folder.relative_to(home)
    shutil.rmtree(target, ignore_errors=True)
    (target / "samples").mkdir(parents=True)
    for name in KEPT_FILES:
        if (folder / name).exists():
            shutil.copyfile(folder / name, target / name)
    for grid in sample_paths(folder / "samples")[-1:]:
        shutil.copyfile(grid, target / "samples" / grid.name)
    return target


def keep_sweep_record(sweep_folder: Path, home: Path, kept: Path = KEPT) -> None:
    """Copy a sweep's sweep.json (each run's wall time) under ``kept``, if the sweep lies under ``home``."""
    record = Path(sweep_folder) / "sweep.json"
    if record.exists() and record.resolve().is_relative_to(home.resolve()):
        target = kept / record.resolve().relative_to(home.resolve())
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(record, target)


def restore_kept(home: Path, kept: Path = KEPT) -> list[Path]:
    """Copy kept runs back under ``home`` where the run has not finished there (replacing an interrupted
    copy of it), and kept sweep records where there is none; return the run folders restored."""
    restored = []
    for summary in sorted(kept.glob("runs/*/*/summary.json")):
        source = summary.parent
        target = home / source.relative_to(kept)
        if not (target / "summary.json").exists():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)
            restored.append(target)
    for record in sorted(kept.glob("leaderboards/*/sweeps/*/sweep.json")):
        target = home / record.relative_to(kept)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(record, target)
    return restored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="mnist", choices=sorted(DATA_DIRS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=10.0)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--models", default="")
    parser.add_argument("--data-dir", type=Path, default=None, help="the four IDX .gz files (default: see above)")
    parser.add_argument("--home", type=Path, default=Path.home() / "gan-benchmarks")
    parser.add_argument("--out", type=Path, default=None, help="default <home>/leaderboards/<dataset>-<budget>min")
    parser.add_argument("--collect", action="store_true", help="do not train: read the leaderboard in --out")
    args = parser.parse_args()

    os.environ["GAN_HOME"] = str(args.home)
    os.environ["GAN_DATA_DIR"] = str(args.data_dir or DATA_DIRS[args.dataset])
    from gan_helpers import leaderboard  # after GAN_HOME: the sweeps' kernels inherit it

    out = args.out or args.home / "leaderboards" / f"{args.dataset}-{args.budget:g}min"
    smoke = os.environ.get("GAN_SMOKE") == "1"  # a smoke check is no result: its runs are kept in a scratch folder
    kept = Path(tempfile.gettempdir()) / "gan-benchmarks-smoke" / KEPT.name if smoke else KEPT
    restored = restore_kept(args.home, kept)
    if restored:
        print(f"{len(restored)} finished runs restored from {kept} (not redone).")

    def keep(run) -> None:
        keep_run(Path(run.folder), args.home, kept)
        keep_sweep_record(Path(run.notebook).parent.parent, args.home, kept)

    board = leaderboard.run_leaderboard(args.dataset, seeds=args.seeds, budget=args.budget, epochs=args.epochs,
                                        out=out, models=args.models or None, train=not args.collect,
                                        after_run=keep)
    for runs in (runs for table in board.tables for runs in table.runs.values()):
        for run in runs:  # runs that finished before this call (after_run kept the others)
            if not (kept / Path(run.folder).relative_to(args.home) / "summary.json").exists():
                keep(run)
    name = f"leaderboard_{args.dataset}_{args.budget:g}min"
    plots = {}
    for plot in ("frechet_distance_vs_minutes", "final_grids"):
        source = board.out / "plots" / f"{plot}.png"
        if source.exists() and not smoke:
            plots[plot] = f"{name}_{plot}.png"
            shutil.copyfile(source, harness.RESULTS / plots[plot])
    harness.write_result(harness.RESULTS / f"{name}.json", {
        "dataset": args.dataset, "seeds": args.seeds, "budget_minutes": args.budget, "epochs": args.epochs,
        "command": "python benchmarks/leaderboard.py " + " ".join(a for a in sys.argv[1:] if a != "--collect"),
        "tables": [{"title": t.title, "markdown": leaderboard.markdown_table(t.rows, board.floor), "rows": t.rows}
                   for t in board.tables],
        "floor": {k: v for k, v in (board.floor or {}).items() if not isinstance(v, (list, dict))},
        "protocol": board.markdown.split("\n## ")[0], "plots": plots})
    print(board.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
