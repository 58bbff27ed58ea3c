"""Train the Simple GAN notebook at its defaults on real MNIST and record what it took.

    python benchmarks/simple_gan_real_mnist.py [--data-dir ../shared/data/mnist] [-p epochs 5 ...]

Runs the notebook with papermill (exactly as a batch user would), then reads the run's
summary.json and metrics.csv and writes benchmarks/results/simple_gan_real_mnist.json and a
table: training seconds (sum of epoch times over all sessions), sessions, epochs, mean images/s, final losses, where the final grid is.
Real data only: skips with a message when the MNIST folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import papermill as pm

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "simple_gan_mnist.ipynb"
RESULT = REPO / "benchmarks" / "results" / "simple_gan_real_mnist.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--home", default=None, help="GAN_HOME for the run (default: a fresh temporary folder)")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a notebook parameter (value parsed as JSON when it can be)")
    args = parser.parse_args()
    if not (Path(args.data_dir) / "train-images-idx3-ubyte.gz").exists():
        print(f"skipped: no MNIST files in {args.data_dir} (pass --data-dir)")
        return

    parameters = {"data_dir": args.data_dir}
    for name, value in args.p:
        try:
            parameters[name] = json.loads(value)
        except json.JSONDecodeError:
            parameters[name] = value
    home = Path(args.home or tempfile.mkdtemp(prefix="gan-bench-"))
    os.environ["GAN_HOME"] = str(home)
    os.environ.pop("GAN_SMOKE", None)

    started = time.perf_counter()
    pm.execute_notebook(str(NOTEBOOK), str(home / "simple_gan_mnist.out.ipynb"), parameters=parameters,
                        cwd=str(NOTEBOOK.parent), progress_bar=False)
    wall = time.perf_counter() - started

    run = next((home / "runs" / "simple_gan_mnist").iterdir())
    summary = json.loads((run / "summary.json").read_text())
    config = json.loads((run / "config.json").read_text())
    rows = [line.split(",") for line in (run / "metrics.csv").read_text().splitlines()]
    speed = [float(r[rows[0].index("images_per_sec")]) for r in rows[1:]]
    result = {
        "notebook": NOTEBOOK.name,
        "params": config["params"],
        "device": config["provenance"]["device"],
        "sessions": len(config["sessions"]),  # more than 1: the run was interrupted and resumed
        "this_invocation_wall_seconds": round(wall, 1),  # small when the run was already complete
        "train_seconds": summary["train_seconds"],
        "epochs": summary["epochs"],
        "mean_images_per_sec": round(sum(speed) / len(speed), 1),
        "final_d_loss": round(summary["final_metrics"]["d_loss"], 4),
        "final_g_loss": round(summary["final_metrics"]["g_loss"], 4),
        "final_grid": str(sorted((run / "samples").glob("epoch_*.png"))[-1]),
        "run_folder": str(run),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    width = max(map(len, result))
    for key, value in result.items():
        if key != "params":
            print(f"{key:<{width}}  {value}")
    print(f"written {RESULT}", file=sys.stderr)


if __name__ == "__main__":
    main()
