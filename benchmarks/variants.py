"""Train GAN variants on real MNIST, one run each, and record the final evaluation beside the floor.

    python benchmarks/variants.py dcgan-grid [--epochs 2]    # every DCGAN loss x d_norm
    python benchmarks/variants.py conditional [--epochs 5]   # conditional_gan_mnist: cgan, acgan
    python benchmarks/variants.py wgan-gp [--epochs 5]       # wgan_gp_mnist
    python benchmarks/variants.py wgan-gp-settings -p train_minutes 7 -p epochs 100   # Adam, n_critic
    [--mnist-dir ../shared/data/mnist] [--home ~/gan-notebooks] [-p NAME VALUE ...]

Each run is the notebook at its defaults with the variant's parameters, `data_dir` and (if given)
`epochs` set, executed with papermill (harness.run_notebook) as run `variants-<label>[-e<epochs>][-<name><value>]`
under --home: a run already complete there is not trained again, so the script can be stopped and
restarted; a run already recorded in the JSON with the same run name and parameters is skipped too,
so a group can be completed over several sessions. Each run's summary.json (the notebook's own
10,000-sample evaluation and the real-vs-real floor) is added to benchmarks/results/variants.json
under `<group>/<label>`, with the epochs, training time, dtype and machine, as soon as the run ends.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import harness

RESULT = harness.RESULTS / "variants.json"
METRICS = ["frechet_distance", "kid", "precision", "recall", "classifier_score", "classes_covered", "kl_from_uniform",
           "conditional_accuracy", "intra_class_frechet_distance"]
KERAS_IO_WGAN_GP = {"g_learning_rate": 2e-4, "c_learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.9, "n_critic": 5,
                    "lr_decay": "none"}
# the WGAN-GP notebook's defaults before beta_1 0 (11 epochs, rates falling linearly), on top of keras-io's
EARLIER_WGAN_GP_DEFAULTS = {"n_critic": 1, "c_learning_rate": 4e-4, "lr_decay": "linear"}
GROUPS = {
    "dcgan-grid": [("dcgan_mnist", f"{loss}-{norm}", {"loss": loss, "d_norm": norm})
                   for loss in ("ns", "mm", "lsgan", "hinge") for norm in ("batch", "spectral", "none")],
    "conditional": [("conditional_gan_mnist", c, {"conditioning": c}) for c in ("cgan", "acgan")],
    "wgan-gp": [("wgan_gp_mnist", "wgan_gp", {})],
    # Each setting is keras-io's (2e-4 for both, beta 0.5 / 0.9, n_critic 5, constant rates) with the changes listed.
    "wgan-gp-settings": [("wgan_gp_mnist", label, {**KERAS_IO_WGAN_GP, **changes}) for label, changes in (
        ("keras-io", {}),
        ("paper", {"g_learning_rate": 1e-4, "c_learning_rate": 1e-4, "beta_1": 0.0}),
        ("lr-5e-4", {"g_learning_rate": 5e-4, "c_learning_rate": 5e-4}),
        ("n_critic-2", {"n_critic": 2}),
        ("n_critic-1", {"n_critic": 1}),
        ("n_critic-1-lr-5e-4", {"n_critic": 1, "g_learning_rate": 5e-4, "c_learning_rate": 5e-4}),
        ("n_critic-1-linear", {"n_critic": 1, "lr_decay": "linear"}),
        ("n_critic-1-critic-4e-4", {"n_critic": 1, "c_learning_rate": 4e-4}),  # a faster critic (TTUR)
        ("n_critic-1-critic-8e-4", {"n_critic": 1, "c_learning_rate": 8e-4}),
        ("n_critic-1-critic-4e-4-no-norm", {"n_critic": 1, "c_learning_rate": 4e-4, "critic_norm": "none"}),
        # with a weaker gradient penalty
        ("defaults-gp-1", {**EARLIER_WGAN_GP_DEFAULTS, "gp_weight": 1.0}),
        # with the paper's beta_1: the notebook's defaults since
        ("defaults-beta1-0", {**EARLIER_WGAN_GP_DEFAULTS, "beta_1": 0.0}))],
}


def pick(record: dict | None) -> dict | None:
    return None if record is None else {k: record.get(k) for k in METRICS + ["class_histogram"] if k in record}


def already_recorded(record: dict | None, run_name: str, parameters: dict) -> bool:
    """Whether ``record`` (from variants.json) is run ``run_name`` with these parameters (``data_dir`` aside),
    so that a grid can be completed over several sessions on machines that keep no run folders."""
    if record is None or record["parameters"].get("run_name") != run_name:
        return False
    return all(record["parameters"].get(name) == value for name, value in parameters.items() if name != "data_dir")


def main() -> None:
    import gan_helpers as gh

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("group", choices=sorted(GROUPS))
    parser.add_argument("--epochs", type=int, default=None, help="instead of the notebook's default")
    parser.add_argument("--only", nargs="+", default=None, help="labels of the group to run (default: all)")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--mnist-dir", default=str(harness.SHARED_DATA / "mnist"))
    parser.add_argument("--home", default=os.environ.get("GAN_HOME", str(Path.home() / "gan-notebooks")))
    args = parser.parse_args()

    results = harness.load_result(RESULT)
    for notebook, label, variant in GROUPS[args.group]:
        if args.only and label not in args.only:
            continue
        parameters = {**variant, **harness.parse_parameters(args.p), "data_dir": args.mnist_dir}
        if args.epochs is not None:
            parameters["epochs"] = args.epochs
        run_name = (f"variants-{label}" + (f"-e{args.epochs}" if args.epochs is not None else "")
                    + "".join(f"-{name}{value}" for name, value in args.p))
        if already_recorded(results.get(f"{args.group}/{label}"), run_name, parameters):
            print(f"{notebook} {label}: already in {RESULT.name} (run {run_name}); delete its record to measure again")
            continue
        run = harness.run_notebook(notebook, parameters, args.home, run_name=run_name)
        summary, params = run.summary(), run.config()["params"]
        print(f"{notebook} {label}: {summary['epochs']} epochs, notebook ran in {run.wall_seconds:.0f} s", flush=True)
        results[f"{args.group}/{label}"] = {
            "notebook": notebook, "label": label, "variant": variant, "parameters": params,
            "epochs": summary["epochs"], "train_seconds": summary["train_seconds"],
            "wall_seconds": round(run.wall_seconds, 1), "machine": harness.machine(),
            "precision": gh.choose_precision(params.get("precision", "float32")),
            "evaluation": pick(summary["evaluation"]), "floor": pick(summary["floor"]),
            "evaluation_without_ema": pick(summary.get("evaluation_without_ema")),
            "images_per_sec": [row.get("images_per_sec") for row in run.metrics()],
        }
        # read again before writing: another group may have been recorded meanwhile
        results = {**harness.load_result(RESULT), f"{args.group}/{label}": results[f"{args.group}/{label}"]}
        harness.write_result(RESULT, results)
    print("tables: python benchmarks/report.py")


if __name__ == "__main__":
    main()
