"""Train the MNIST-family notebooks at their defaults on real data and measure how good they are.

    python benchmarks/quality.py [--models simple_gan_mnist dcgan_mnist] [--datasets mnist fashion_mnist]
                                 [--mnist-dir ../shared/data/mnist] [--fashion-dir /usr/share/datasets/fashion-mnist]
                                 [--home ~/gan-notebooks]

Each notebook runs through papermill with its default parameters (only `dataset` and `data_dir`
set), under --home: a run that is already complete there is not trained again, so the script
can be stopped and restarted. Then it reads each run's summary.json (the notebook's own 10,000
vs 10,000 evaluation and the real-vs-real floor), times one more full classifier evaluation of
the saved generator.keras in this process, writes benchmarks/results/quality.json and prints a
table. Fashion-MNIST: `apt-get install -y dataset-fashion-mnist`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import papermill as pm

REPO = Path(__file__).resolve().parent.parent
RESULT = REPO / "benchmarks" / "results" / "quality.json"
METRICS = ["frechet_distance", "kid", "precision", "recall", "classifier_score", "classes_covered", "kl_from_uniform"]


def run_notebook(model: str, dataset: str, data_dir: str, home: Path) -> Path:
    """Execute the notebook (or find its complete run) and return the run folder."""
    output = home / "executed" / f"{model}-{dataset}.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    pm.execute_notebook(str(REPO / "notebooks" / f"{model}.ipynb"), str(output),
                        parameters={"dataset": dataset, "data_dir": data_dir}, cwd=str(REPO / "notebooks"),
                        progress_bar=False, log_output=False)
    print(f"{model} on {dataset}: notebook ran in {time.perf_counter() - started:.0f} s")
    runs = sorted((home / "runs" / model).glob(f"{dataset}-*/summary.json"), key=lambda p: p.stat().st_mtime)
    return runs[-1].parent


def precision_used(run: Path) -> str:
    """The dtype policy the run trained in (its ``precision`` parameter, ``auto`` resolved on this machine)."""
    import gan_helpers as gh

    params = json.loads((run / "config.json").read_text())["params"]
    return gh.choose_precision(params.get("precision", "float32"))


def time_full_evaluation(run: Path, dataset: str, data_dir: str) -> float:
    """Seconds for one full 10,000-sample classifier evaluation of the saved generator (floor excluded)."""
    import keras

    import gan_helpers as gh

    generator = keras.models.load_model(run / "generator.keras")
    latent_dim = generator.input_shape[-1]
    test = gh.to_model_range(gh.load_mnist_family(dataset, "test", cache_dir="/nonexistent", data_dir=data_dir)[0])
    extractor = gh.load_classifier(dataset)
    extractor.features_and_probabilities(test[:100])  # warm-up: graph tracing is not evaluation time
    started = time.perf_counter()
    gh.evaluate_generator(generator, latent_dim, test, extractor, num_samples=10_000)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["simple_gan_mnist", "dcgan_mnist"])
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion_mnist"])
    parser.add_argument("--mnist-dir", default=str(REPO.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--fashion-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--home", default=os.environ.get("GAN_HOME", str(Path.home() / "gan-notebooks")))
    args = parser.parse_args()
    home = Path(args.home).expanduser()
    os.environ["GAN_HOME"] = str(home)
    os.environ.pop("GAN_SMOKE", None)
    data_dirs = {"mnist": args.mnist_dir, "fashion_mnist": args.fashion_dir}

    results = json.loads(RESULT.read_text()) if RESULT.exists() else {}
    for dataset in args.datasets:
        if not (Path(data_dirs[dataset]) / "t10k-images-idx3-ubyte.gz").exists():
            print(f"skipped {dataset}: no IDX files in {data_dirs[dataset]}")
            continue
        for model in args.models:
            run = run_notebook(model, dataset, data_dirs[dataset], home)
            summary = json.loads((run / "summary.json").read_text())
            results[f"{model}/{dataset}"] = {
                "model": model, "dataset": dataset, "run": str(run), "epochs": summary["epochs"],
                "train_seconds": summary["train_seconds"],
                "precision": precision_used(run),
                "evaluation": {k: summary["evaluation"][k] for k in METRICS + ["class_histogram", "extractor", "num_samples"]},
                "floor": {k: summary["floor"][k] for k in METRICS},
                # DCGAN: the evaluation is of the averaged (EMA) generator; this is the trained one's
                "evaluation_without_ema": ({k: summary["evaluation_without_ema"][k] for k in METRICS}
                                           if summary.get("evaluation_without_ema") else None),
                "full_evaluation_seconds": round(time_full_evaluation(run, dataset, data_dirs[dataset]), 2),
            }
            RESULT.parent.mkdir(parents=True, exist_ok=True)
            RESULT.write_text(json.dumps(results, indent=2) + "\n")

    header = ["dataset", "model", "epochs", "train min", "eval s", *METRICS]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for key, r in results.items():
        cells = [r["dataset"], r["model"], str(r["epochs"]), f"{r['train_seconds'] / 60:.1f}", f"{r['full_evaluation_seconds']:.1f}"]
        cells += [f"{r['evaluation'][m]:.3g} (floor {r['floor'][m]:.3g})" for m in METRICS]
        print("| " + " | ".join(cells) + " |")
        if r.get("evaluation_without_ema"):
            raw = r["evaluation_without_ema"]
            print("| " + " | ".join(["", "  without the average", "", "", "", *(f"{raw[m]:.3g}" for m in METRICS)]) + " |")
    print(f"\nwritten {RESULT}")


if __name__ == "__main__":
    main()
