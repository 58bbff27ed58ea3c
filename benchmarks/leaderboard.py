"""The leaderboard on real data: `gan_helpers.leaderboard` with the real MNIST (or Fashion-MNIST), its result kept.

    python benchmarks/leaderboard.py --dataset mnist --seeds 3 --budget 10 [--epochs 20] [--models a,b]

Runs the leaderboard (resumable: run it again to continue) with the runs under ``--home`` (default
``~/gan-benchmarks``) on the real data (MNIST from ``../shared/data/mnist``, Fashion-MNIST from Debian's
``dataset-fashion-mnist``), then writes ``results/leaderboard_<dataset>_<budget>min.json`` (the tables as
Markdown and as rows, the floor, the machine, the wall time) and copies its two plots beside it.
``--collect`` only reads a leaderboard that ran already (e.g. one started with ``python -m gan_helpers.leaderboard``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import harness

DATA_DIRS = {"mnist": harness.SHARED_DATA / "mnist", "fashion_mnist": Path("/usr/share/datasets/fashion-mnist")}


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
    board = leaderboard.run_leaderboard(args.dataset, seeds=args.seeds, budget=args.budget, epochs=args.epochs,
                                        out=out, models=args.models or None, train=not args.collect)
    name = f"leaderboard_{args.dataset}_{args.budget:g}min"
    plots = {}
    for plot in ("frechet_distance_vs_minutes", "final_grids"):
        source = board.out / "plots" / f"{plot}.png"
        if source.exists() and os.environ.get("GAN_SMOKE") != "1":
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
