"""Train the Simple GAN notebook at its defaults on real MNIST and record what it took.

    python benchmarks/simple_gan_real_mnist.py [--data-dir ../shared/data/mnist] [--home DIR] [-p epochs 5 ...]

Runs the notebook (harness.run_notebook) as run `simple-gan-real-mnist` under --home (a run already
complete there is read, not trained again; an interrupted one resumes), then reads its summary.json and
metrics.csv: training seconds (the epochs' sum over all sessions), sessions, epochs, mean images/s,
final losses, where the final grid is. Writes benchmarks/results/simple_gan_real_mnist.json.
Real data only: skips with a message when the MNIST folder is absent.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import harness

RESULT = harness.RESULTS / "simple_gan_real_mnist.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(harness.SHARED_DATA / "mnist"))
    parser.add_argument("--home", default=None, help="GAN_HOME for the run (default: a fresh temporary folder)")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a notebook parameter (value parsed as JSON when it can be)")
    args = parser.parse_args()
    if not (Path(args.data_dir) / "train-images-idx3-ubyte.gz").exists():
        print(f"skipped: no MNIST files in {args.data_dir} (pass --data-dir)")
        return

    home = Path(args.home or tempfile.mkdtemp(prefix="gan-bench-"))
    run = harness.run_notebook("simple_gan_mnist", {"data_dir": args.data_dir, **harness.parse_parameters(args.p)},
                               home, run_name="simple-gan-real-mnist")
    summary, config, rows = run.summary(), run.config(), run.metrics()
    result = {
        "notebook": "simple_gan_mnist.ipynb",
        "params": config["params"],
        "sessions": len(config["sessions"]),  # more than 1: the run was interrupted and resumed
        "this_invocation_wall_seconds": round(run.wall_seconds, 1),  # small when the run was already complete
        "train_seconds": summary["train_seconds"],
        "epochs": summary["epochs"],
        "mean_images_per_sec": round(sum(r["images_per_sec"] for r in rows) / len(rows), 1),
        "final_d_loss": round(summary["final_metrics"]["d_loss"], 4),
        "final_g_loss": round(summary["final_metrics"]["g_loss"], 4),
        "final_grid": str(sorted((run.folder / "samples").glob("epoch_*.png"))[-1]),
        "run_folder": str(run.folder),
    }
    harness.write_result(RESULT, result)
    for key, value in result.items():
        if key != "params":
            print(f"{key:<30}  {value}")


if __name__ == "__main__":
    main()
