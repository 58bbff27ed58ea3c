"""Training on several devices, measured on a CPU: MirroredStrategy's quality, and sweeps with --jobs.

    python benchmarks/distribute.py mirrored [--seeds 3] [--epochs 2]   # DCGAN, 1 device vs 2 replicas
    python benchmarks/distribute.py jobs [--runs 4] [--epochs 1]        # a sweep, --jobs 1 vs --jobs 2
    [--mnist-dir ../shared/data/mnist] [--home ~/gan-notebooks]

``mirrored``: the DCGAN notebook at its defaults on real MNIST (``epochs`` set), each seed run twice
with the same global batch: ``strategy = "none"`` (one device) and ``strategy = "mirrored"`` over
two logical CPUs (``GAN_CPU_REPLICAS=2``). The runs alternate (seed 1 none, seed 1 mirrored, seed 2
none, ...) so the drift of a shared machine hits both alike. Each run's final 10,000-sample
evaluation goes to ``results/distribute_mirrored.json`` as soon as it ends; a run already complete
under ``--home`` is not trained again.

``jobs``: the same sweep (the Simple GAN notebook on real MNIST, ``--runs`` seeds) through
``gan_helpers.sweep.run_sweep`` with ``jobs=1``, then ``jobs=2``, then ``jobs=2`` and ``jobs=1`` again
(each sweep in a fresh output folder): wall times to ``results/distribute_jobs.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

import harness

MIRRORED_RESULT = harness.RESULTS / "distribute_mirrored.json"
JOBS_RESULT = harness.RESULTS / "distribute_jobs.json"
METRICS = ["frechet_distance", "kid", "precision", "recall", "classifier_score", "classes_covered"]
ARMS = {"none": {}, "mirrored": {"GAN_CPU_REPLICAS": "2"}}  # strategy -> kernel environment


def mirrored(args: argparse.Namespace) -> None:
    runs = []
    for seed in range(1, args.seeds + 1):
        for strategy, env in ARMS.items():
            parameters = {"data_dir": args.mnist_dir, "epochs": args.epochs, "seed": seed, "strategy": strategy}
            run = harness.run_notebook("dcgan_mnist", parameters, args.home,
                                       run_name=f"distribute-{strategy}-e{args.epochs}-seed{seed}", **env)
            summary = run.summary()
            rates = [row["images_per_sec"] for row in run.metrics() if row.get("images_per_sec")]
            runs.append({"strategy": strategy, "seed": seed, "epochs": summary["epochs"],
                         "train_seconds": summary["train_seconds"], "wall_seconds": round(run.wall_seconds, 1),
                         "images_per_sec": round(statistics.median(rates), 1) if rates else None,
                         "evaluation": {k: summary["evaluation"].get(k) for k in METRICS},
                         "floor": {k: summary["floor"].get(k) for k in METRICS}})
            print(f"{strategy} seed {seed}: FD {summary['evaluation']['frechet_distance']:.2f}, "
                  f"{summary['train_seconds'] / 60:.1f} train min", flush=True)
            harness.write_result(MIRRORED_RESULT, {
                "notebook": "dcgan_mnist", "dataset": "mnist", "epochs": args.epochs,
                "batch_size": harness.CONFIGS["dcgan"]["batch"], "replicas": {"none": 1, "mirrored": 2},
                "runs": runs})


def jobs(args: argparse.Namespace) -> None:
    from gan_helpers.sweep import run_sweep

    notebook = harness.NOTEBOOKS / "simple_gan_mnist.ipynb"
    scratch = Path(args.home) / "sweeps"
    sweeps = []
    with harness.environment(GAN_HOME=str(args.home), TF_CPP_MIN_LOG_LEVEL="2"):
        for index, jobs_at_once in enumerate([1, 2, 2, 1]):
            out = scratch / f"distribute-jobs{jobs_at_once}-{index}"
            shutil.rmtree(out, ignore_errors=True)
            for runs_folder in (Path(args.home) / "runs" / "simple_gan_mnist").glob(f"{out.name}-*"):
                shutil.rmtree(runs_folder)  # trained again, not skipped as finished
            started = time.perf_counter()
            runs = run_sweep(notebook, out, fixed={"data_dir": args.mnist_dir, "epochs": args.epochs},
                             seeds=args.runs, progress=False, jobs=jobs_at_once)
            wall = time.perf_counter() - started
            sweeps.append({"jobs": jobs_at_once, "runs": len(runs), "wall_seconds": round(wall, 1),
                           "done": sum(run.status == "done" for run in runs),
                           "run_wall_seconds": [round(run.wall_seconds or 0, 1) for run in runs]})
            print(f"--jobs {jobs_at_once}: {len(runs)} runs in {wall:.0f} s", flush=True)
            harness.write_result(JOBS_RESULT, {"notebook": "simple_gan_mnist", "dataset": "mnist",
                                               "epochs": args.epochs, "cores": os.cpu_count(), "sweeps": sweeps})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["mirrored", "jobs"])
    parser.add_argument("--seeds", type=int, default=3, help="mirrored: seeds per strategy")
    parser.add_argument("--runs", type=int, default=4, help="jobs: runs in the sweep")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (mirrored: 2, jobs: 1)")
    parser.add_argument("--mnist-dir", default=str(harness.SHARED_DATA / "mnist"))
    parser.add_argument("--home", default=os.environ.get("GAN_HOME", str(Path.home() / "gan-notebooks")))
    args = parser.parse_args()
    if args.epochs is None:
        args.epochs = 2 if args.what == "mirrored" else 1
    {"mirrored": mirrored, "jobs": jobs}[args.what](args)
    print("tables: python benchmarks/report.py")


if __name__ == "__main__":
    main()
