"""Train the MNIST-family notebooks at their defaults on real data and measure how good they are.

    python benchmarks/quality.py [--models simple_gan_mnist dcgan_mnist] [--datasets mnist fashion_mnist]
                                 [--mnist-dir ../shared/data/mnist] [--fashion-dir /usr/share/datasets/fashion-mnist]
                                 [--home ~/gan-notebooks] [--run-name NAME]

Each notebook runs (harness.run_notebook) with its default parameters (only `dataset` and `data_dir`
set) as run `quality-<dataset>` under --home: a run already complete there is not trained again, so
the script can be stopped and restarted. `--run-name` reads another complete run at the defaults
instead of training a copy of it, e.g. the DCGAN grid's `ns` / `batch` cell (`variants.py dcgan-grid`,
whose parameters are the defaults): `--models dcgan_mnist --datasets mnist --run-name variants-ns-batch`
(a run of that name with other parameters is refused by the notebook). Then it reads each run's summary.json (the notebook's own 10,000
vs 10,000 evaluation and the real-vs-real floor), times one more full classifier evaluation of
the saved generator.keras in this process and writes benchmarks/results/quality.json (one entry
per model/dataset, each with its machine). Fashion-MNIST: `apt-get install -y dataset-fashion-mnist`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import harness

RESULT = harness.RESULTS / "quality.json"
METRICS = ["frechet_distance", "kid", "precision", "recall", "classifier_score", "classes_covered", "kl_from_uniform"]


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
    import gan_helpers as gh

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["simple_gan_mnist", "dcgan_mnist"])
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion_mnist"])
    parser.add_argument("--mnist-dir", default=str(harness.SHARED_DATA / "mnist"))
    parser.add_argument("--fashion-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--home", default=os.environ.get("GAN_HOME", str(Path.home() / "gan-notebooks")))
    parser.add_argument("--run-name", help="an existing run at the defaults to read (default: quality-<dataset>)")
    args = parser.parse_args()
    data_dirs = {"mnist": args.mnist_dir, "fashion_mnist": args.fashion_dir}

    results = {k: v for k, v in json.loads(RESULT.read_text()).items() if "/" in k} if RESULT.exists() else {}
    for dataset in args.datasets:
        if not (Path(data_dirs[dataset]) / "t10k-images-idx3-ubyte.gz").exists():
            print(f"skipped {dataset}: no IDX files in {data_dirs[dataset]}")
            continue
        for model in args.models:
            run = harness.run_notebook(model, {"dataset": dataset, "data_dir": data_dirs[dataset]}, args.home,
                                       run_name=args.run_name or f"quality-{dataset}")
            summary, params = run.summary(), run.config()["params"]
            print(f"{model} on {dataset}: notebook ran in {run.wall_seconds:.0f} s")
            results[f"{model}/{dataset}"] = {
                "model": model, "dataset": dataset, "run": str(run.folder), "epochs": summary["epochs"],
                "train_seconds": summary["train_seconds"], "machine": harness.machine(),
                "precision": gh.choose_precision(params.get("precision", "float32")),
                "evaluation": {k: summary["evaluation"][k] for k in METRICS + ["class_histogram", "extractor", "num_samples"]},
                "floor": {k: summary["floor"][k] for k in METRICS},
                # DCGAN: the evaluation is of the averaged (EMA) generator; this is the trained one's
                "evaluation_without_ema": ({k: summary["evaluation_without_ema"][k] for k in METRICS}
                                           if summary.get("evaluation_without_ema") else None),
                "full_evaluation_seconds": round(time_full_evaluation(run.folder, dataset, data_dirs[dataset]), 2),
            }
            harness.write_result(RESULT, results)
    print("tables: python benchmarks/report.py")


if __name__ == "__main__":
    main()
