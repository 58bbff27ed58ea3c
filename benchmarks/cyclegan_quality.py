"""CycleGAN variants at 64 px on real monet2photo, on equal steps: can the translations pass for real?

    python benchmarks/cyclegan_quality.py [--steps 1500] [--only transpose resize_conv resize_conv_ema]
    [--monet-dir ../shared/data/monet2photo] [--home ~/gan-notebooks] [-p NAME VALUE ...]

Each variant is the notebook at `-p image_size 64 -p n_res_blocks 6 -p images_per_epoch 500
-p decay_epochs 0` with `epochs` = steps / 500 and its own `upsample` / `ema_decay`, run with
papermill (harness.run_notebook) as run `cyclegan-quality-<variant>-<steps>` under --home (a run
already complete there is not trained again, so the script can be stopped and restarted). The
notebook's own evaluation is recorded in benchmarks/results/cyclegan_quality.json as each run ends:
the classifier two-sample accuracy of the translations of the test split against the real test
images of the other domain (0.5 = indistinguishable) with its real-vs-real floor, the checkerboard
energy of translations and real images, cycle and identity L1, and the training time; the final
grid is copied to benchmarks/results/cyclegan_quality_<variant>_grid.png.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import harness

RESULT = harness.RESULTS / "cyclegan_quality.json"
SETTINGS = {"image_size": 64, "n_res_blocks": 6, "images_per_epoch": 500, "decay_epochs": 0, "inception_weights": ""}
VARIANTS = {
    "transpose": {"upsample": "transpose", "ema_decay": 0.0},
    "resize_conv": {"upsample": "resize_conv", "ema_decay": 0.0},
    "resize_conv_ema": {"upsample": "resize_conv", "ema_decay": 0.999},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500, help="training steps per variant (a multiple of 500)")
    parser.add_argument("--only", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--monet-dir", default=str(harness.SHARED_DATA / "monet2photo"))
    parser.add_argument("--home", default=os.environ.get("GAN_HOME", str(Path.home() / "gan-notebooks")))
    args = parser.parse_args()
    if args.steps % SETTINGS["images_per_epoch"]:
        parser.error(f"--steps {args.steps}: give a multiple of {SETTINGS['images_per_epoch']} (the steps of an epoch)")

    results = harness.load_result(RESULT)
    for name in args.only:
        parameters = {**SETTINGS, **VARIANTS[name], **harness.parse_parameters(args.p), "data_dir": args.monet_dir,
                      "epochs": args.steps // SETTINGS["images_per_epoch"]}
        run = harness.run_notebook("cyclegan_monet2photo", parameters, args.home,
                                   run_name=f"cyclegan-quality-{name}-{args.steps}")
        summary = run.summary()
        evaluation = summary["evaluation"]
        results[name] = {"variant": VARIANTS[name], "steps": args.steps, "parameters": run.config()["params"],
                         "train_seconds": summary["train_seconds"], "machine": harness.machine(),
                         "evaluation": evaluation, "evaluation_without_ema": summary.get("evaluation_without_ema")}
        print(f"{name}: photo -> Monet two-sample accuracy {evaluation['two_sample_accuracy_b_to_a']}, "
              f"checkerboard {evaluation['checkerboard_energy_b_to_a']:.4f} "
              f"(real {evaluation['checkerboard_energy_real_b_to_a']:.4f}), {summary['train_seconds'] / 60:.1f} min",
              flush=True)
        harness.write_result(RESULT, results)
        if os.environ.get("GAN_SMOKE") != "1":
            grids = sorted((run.folder / "samples").glob("epoch_*.png"))
            shutil.copy(grids[-1], harness.RESULTS / f"cyclegan_quality_{name}_grid.png")
    print("tables: python benchmarks/report.py")


if __name__ == "__main__":
    main()
