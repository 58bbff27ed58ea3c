"""The colour baselines later work must beat: the DCGAN-family notebooks on real colour images, each for a
fixed training time on this machine.

    python benchmarks/colour_baselines.py [--only dcgan_cifar10 conditional_cifar10 dcgan_monet64]
        [--minutes 60] [--cifar-dir ../shared/data/cifar10] [--monet-dir ../shared/data/monet2photo]
        [--home ~/gan-notebooks] [-p NAME VALUE ...]

Each baseline is a notebook at its defaults except the dataset, run with papermill
(harness.run_notebook) as run `colour-<name>-<minutes>min[-<NAME><VALUE>...]` under --home with `train_minutes` =
--minutes (the run ends for good after that much training, in one session or several: stop the
script and start it again, and the run resumes):

- dcgan_cifar10: dcgan_mnist.ipynb, `dataset cifar10` (32 px; the 50,000 training images);
- conditional_cifar10: conditional_gan_mnist.ipynb (cGAN), `dataset cifar10`;
- dcgan_monet64: dcgan_mnist.ipynb, `dataset folder` on the 1,072 Monet paintings (monet2photo trainA)
  at `image_size 64`, measured every 10 epochs (an epoch is 16 steps).

Records in benchmarks/results/colour_baselines.json, per baseline (named `<name>[-<NAME><VALUE>...]`
like its run, so a baseline with other settings is recorded beside the defaults): the notebook's final evaluation
(10,000 samples, or as many as there are real images, in the shipped CIFAR-10 classifier's features)
beside its real-vs-real floor, Inception FID/KID where the weights load, the Fréchet distance after
each evaluation with the training minutes so far, and the machine; the final grid is copied to
benchmarks/results/colour_<name>_grid.png and the Fréchet distance is plotted against the training
seconds in benchmarks/results/colour_<name>_frechet_distance.png.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import harness
from gan_helpers.compare import plot_metrics_over_time

RESULT = harness.RESULTS / "colour_baselines.json"
BASELINES = {
    "dcgan_cifar10": ("dcgan_mnist", {"dataset": "cifar10"}),
    "conditional_cifar10": ("conditional_gan_mnist", {"dataset": "cifar10"}),
    "dcgan_monet64": ("dcgan_mnist", {"dataset": "folder", "image_size": 64, "eval_every": 10, "sample_every": 10}),
}
ENOUGH_EPOCHS = 10_000  # train_minutes ends the run long before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=sorted(BASELINES), default=list(BASELINES))
    parser.add_argument("--minutes", type=float, default=60.0, help="training minutes per baseline")
    parser.add_argument("--cifar-dir", default=str(harness.SHARED_DATA / "cifar10"),
                        help="CIFAR-10 for gan_helpers.load_cifar10, or a folder holding cifar10-jpg.tar.gz")
    parser.add_argument("--monet-dir", default=str(harness.SHARED_DATA / "monet2photo"))
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--home", default=os.environ.get("GAN_HOME", str(Path.home() / "gan-notebooks")))
    args = parser.parse_args()

    data_dirs = {"cifar10": str(harness.unpacked_cifar10(Path(args.cifar_dir))),
                 "folder": str(Path(args.monet_dir) / "trainA")}
    results = harness.load_result(RESULT)
    for name in args.only:
        notebook, settings = BASELINES[name]
        parameters = {**settings, "epochs": ENOUGH_EPOCHS, "train_minutes": args.minutes,
                      "data_dir": data_dirs[settings["dataset"]], **harness.parse_parameters(args.p)}
        overrides = "".join(f"-{key}{value}" for key, value in args.p)  # another setting is another run and record
        run = harness.run_notebook(notebook, parameters, args.home,
                                   run_name=f"colour-{name}-{args.minutes:g}min{overrides}")
        name = f"{name}{overrides}"
        summary = run.summary()
        minutes = 0.0
        over_time = []
        for row in run.metrics():
            minutes += float(row["seconds"]) / 60
            if row.get("q_frechet_distance") not in (None, ""):
                over_time.append({"epoch": int(row["epoch"]), "minutes": round(minutes, 2),
                                  "frechet_distance": float(row["q_frechet_distance"])})
        results[name] = {"notebook": notebook, "parameters": run.config()["params"], "epochs": summary["epochs"],
                         "train_seconds": summary["train_seconds"], "machine": harness.machine(),
                         "evaluation": summary["evaluation"], "floor": summary["floor"],
                         "inception": summary.get("inception"), "frechet_distance_over_time": over_time}
        evaluation = summary["evaluation"]
        print(f"{name}: {summary['epochs']} epochs in {summary['train_seconds'] / 60:.0f} min, Fréchet distance "
              f"{evaluation['frechet_distance']:.2f} (floor {summary['floor']['frechet_distance']:.2f})", flush=True)
        harness.write_result(RESULT, results)
        if os.environ.get("GAN_SMOKE") != "1":
            shutil.copy(sorted((run.folder / "samples").glob("epoch_*.png"))[-1],
                        harness.RESULTS / f"colour_{name}_grid.png")
            plot_metrics_over_time([{"folder": run.folder, "run": name}], harness.RESULTS / f"colour_{name}_frechet_distance.png",
                                   metrics=["q_frechet_distance"])
    print("tables: python benchmarks/report.py")


if __name__ == "__main__":
    main()
