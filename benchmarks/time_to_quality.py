"""Minutes to good samples: when does the DCGAN notebook, at its defaults on real MNIST, get good?

    python benchmarks/time_to_quality.py [--mnist-dir ../shared/data/mnist] [--home DIR] [-p NAME VALUE ...]
    python benchmarks/time_to_quality.py --run ~/gan-notebooks/runs/dcgan_mnist/<run>   # read a finished run

Trains the notebook through papermill at its default parameters, evaluating quality after every
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
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULT = REPO / "benchmarks" / "results" / "time_to_quality.json"
sys.path.insert(0, str(REPO))

from gan_helpers.runs import read_metrics  # noqa: E402


def train(mnist_dir: str, home: Path, overrides: dict) -> Path:
    """Run the DCGAN notebook at its defaults (but ``overrides``) under ``home``; return its run folder."""
    import os

    import papermill as pm

    os.environ["GAN_HOME"] = str(home)
    output = home / "executed" / "dcgan_mnist-time_to_quality.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(REPO / "notebooks" / "dcgan_mnist.ipynb"), str(output),
                        parameters={"data_dir": mnist_dir, "run_name": "time-to-quality",
                                    "eval_samples": 10_000, **overrides},
                        cwd=str(REPO / "notebooks"), progress_bar=False)
    return home / "runs" / "dcgan_mnist" / "time-to-quality"


def parameter_value(text: str):
    """A -p value as a number where it reads as one (JSON), else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


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
    parser.add_argument("--mnist-dir", default=str(REPO.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--home", default=str(Path("~/gan-notebooks-time-to-quality").expanduser()))
    parser.add_argument("--run", help="read this finished run folder instead of training")
    parser.add_argument("--score", type=float, default=9.0, help="classifier score to reach (default 9.0)")
    parser.add_argument("--out", default=str(RESULT), help=f"result JSON (default {RESULT.relative_to(REPO)})")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="change a notebook parameter from its default (a recipe under test), as papermill's -p")
    args = parser.parse_args()

    started = time.perf_counter()
    run = Path(args.run).expanduser() if args.run else train(args.mnist_dir, Path(args.home),
                                                                     {k: parameter_value(v) for k, v in args.p})
    rows = read_metrics(run / "metrics.csv")
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
    config = run / "config.json"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "run": str(run), "parameters": json.loads(config.read_text())["params"] if config.exists() else None,
        "target_score": args.score, "reached": good is not None,
        "epoch": good["epoch"] if good else None, "minutes": good["elapsed_seconds"] / 60 if good else None,
        "total_training_minutes": elapsed / 60, "curve": rows,
        "script_wall_seconds": time.perf_counter() - started}, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
