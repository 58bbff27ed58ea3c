"""Minutes to good samples: when does the DCGAN notebook, at its defaults on real MNIST, get good?

    python benchmarks/time_to_quality.py [--mnist-dir ../shared/data/mnist] [--home DIR] [-p NAME VALUE ...]
    python benchmarks/time_to_quality.py --run ~/gan-notebooks/runs/dcgan_mnist/<run>   # read a finished run

Trains the notebook (harness.run_notebook) at its default parameters, evaluating quality after every
epoch with the DCGAN issue's protocol (10,000 generated against the 10,000 test images: classifier
score, classes covered, Fréchet distance, ...; the notebook's own per-epoch default is 2,000 samples),
unless --run names a run folder to read, then reports the first epoch whose classifier score is at
least --score with all 10 classes covered, and the wall time to get there: the sum of the
epochs' seconds in metrics.csv, which include the per-epoch evaluation (not the checkpoint and the sample
grid, written after the epoch's row; the script's whole wall time is in the JSON too). ``-p`` changes a
notebook parameter from its default, for a recipe under test.
Writes benchmarks/results/time_to_quality.json (or ``--out``), with the run's parameters, and prints the curve.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import harness

RESULT = harness.RESULTS / "time_to_quality.json"
TARGET_SCORE = 9.0


def with_elapsed(rows: list[dict]) -> list[dict]:
    """The metrics rows, each with ``elapsed_seconds``: the summed epoch seconds up to and including it."""
    elapsed = itertools.accumulate(row["seconds"] for row in rows)
    return [{**row, "elapsed_seconds": seconds} for row, seconds in zip(rows, elapsed)]


def first_good_epoch(rows: list[dict], min_score: float, classes: int = 10) -> dict | None:
    """The first row (of ``with_elapsed``) whose classifier score reaches ``min_score`` with every class covered."""
    return next((row for row in rows if row.get("q_classifier_score", 0) >= min_score
                 and row.get("q_classes_covered", 0) >= classes), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist-dir", default=str(harness.SHARED_DATA / "mnist"))
    parser.add_argument("--home", default=str(Path("~/gan-notebooks-time-to-quality").expanduser()))
    parser.add_argument("--run", help="read this finished run folder instead of training")
    parser.add_argument("--score", type=float, default=TARGET_SCORE, help="classifier score to reach")
    parser.add_argument("--out", default=str(RESULT), help=f"result JSON (default {RESULT.relative_to(harness.REPO)})")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="change a notebook parameter from its default (a recipe under test), as papermill's -p")
    args = parser.parse_args()

    started = time.perf_counter()
    if args.run:
        run = harness.NotebookRun(Path(args.run).expanduser(), executed=Path(), wall_seconds=0.0)
    else:
        parameters = {"data_dir": args.mnist_dir, "eval_samples": 10_000, **harness.parse_parameters(args.p)}
        run = harness.run_notebook("dcgan_mnist", parameters, args.home, run_name="time-to-quality")
    rows = run.metrics()
    timed = with_elapsed(rows)
    good = first_good_epoch(timed, args.score)
    elapsed = timed[-1]["elapsed_seconds"]

    print("| epoch | minutes (cumulative) | classifier score | classes | Fréchet distance | precision | recall |")
    print("|---|---|---|---|---|---|---|")
    for row in timed:
        print(f"| {row['epoch']:.0f} | {row['elapsed_seconds'] / 60:.1f} | {row.get('q_classifier_score', float('nan')):.2f} | "
              f"{row.get('q_classes_covered', float('nan')):.0f} | {row.get('q_frechet_distance', float('nan')):.1f} | "
              f"{row.get('q_precision', float('nan')):.3f} | {row.get('q_recall', float('nan')):.3f} |")
    if good:
        print(f"\nclassifier score >= {args.score} with 10/10 classes first after epoch {good['epoch']:.0f}: "
              f"{good['elapsed_seconds'] / 60:.1f} minutes of training (evaluations included)")
    else:
        print(f"\nclassifier score >= {args.score} with 10/10 classes: not reached in {len(rows)} epochs "
              f"({elapsed / 60:.1f} minutes); best score {max(r.get('q_classifier_score', 0) for r in rows):.2f}")
    harness.write_result(args.out, {
        "run": str(run.folder), "parameters": run.config()["params"] if (run.folder / "config.json").exists() else None,
        "target_score": args.score, "reached": good is not None,
        "epoch": good["epoch"] if good else None, "minutes": good["elapsed_seconds"] / 60 if good else None,
        "total_training_minutes": elapsed / 60, "curve": rows,
        "script_wall_seconds": time.perf_counter() - started})


if __name__ == "__main__":
    main()
