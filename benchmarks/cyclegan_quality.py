"""CycleGAN variants at 64 px on real monet2photo, on equal steps: can the translations pass for real?

    python benchmarks/cyclegan_quality.py [--steps 1500] [--only transpose resize_conv resize_conv_ema ...]
    python benchmarks/cyclegan_quality.py --long [--steps 10000] [--heldout-photos 250]
    [--monet-dir ../shared/data/monet2photo] [--home ~/gan-notebooks] [-p NAME VALUE ...]

Each variant is the notebook at `-p image_size 64 -p n_res_blocks 6 -p images_per_epoch 500
-p decay_epochs 0` with `epochs` = steps / 500 and its own `upsample` / `ema_decay` / `d_patch`, run with
papermill (harness.run_notebook) as run `cyclegan-quality-<variant>-<steps>` under --home (a run
already complete there is not trained again, so the script can be stopped and restarted). The
notebook's own evaluation is recorded in benchmarks/results/cyclegan_quality.json as each run ends:
the classifier two-sample accuracy of the translations of the test split against the real test
images of the other domain (0.5 = indistinguishable) with its real-vs-real floor, the checkerboard
energy of translations and real images, cycle and identity L1, and the training time; the final
grid is copied to benchmarks/results/cyclegan_quality_<variant>_grid.png.

`--long`: one longer run of `resize_conv` + `ema_decay` 0.999 (no checkerboard, the averages helped at
1,500 steps), half its steps at a constant learning rate and half decaying linearly to 0 (the paper's
schedule), as run `cyclegan-quality-long-<steps>` (resumable: run the command again after an
interruption). The test split of the photos is too small for a 500-image test (the subset here has
250; a Monet test split has 121), so `--heldout-photos` training photos are moved to the test split
(a folder of links beside --home, never trained on), and after training the photos' translations
(all test photos) are compared with every real Monet painting (test and training ones, as the target
distribution): the two-sample accuracy beside its floor (two halves of the paintings) and the same
test for the untranslated photos, plus the Fréchet distance and KID in the shipped CIFAR-10
classifier's features. Recorded under `long` in the same JSON, with the grids after every epoch
copied to benchmarks/results/cyclegan_quality_long_epoch<NN>.png.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import numpy as np

import harness

RESULT = harness.RESULTS / "cyclegan_quality.json"
SETTINGS = {"image_size": 64, "n_res_blocks": 6, "images_per_epoch": 500, "decay_epochs": 0, "inception_weights": ""}
VARIANTS = {
    "transpose": {"upsample": "transpose", "ema_decay": 0.0},
    "resize_conv": {"upsample": "resize_conv", "ema_decay": 0.0},
    "resize_conv_ema": {"upsample": "resize_conv", "ema_decay": 0.999},
    # smaller discriminator patches: at 64 px the reference's 70 px patch covers the whole image
    "resize_conv_ema_patch34": {"upsample": "resize_conv", "ema_decay": 0.999, "d_patch": 34},
    "resize_conv_ema_patch16": {"upsample": "resize_conv", "ema_decay": 0.999, "d_patch": 16},
}
LONG_VARIANT = "resize_conv_ema"


def heldout_folder(source: Path, heldout: int, root: Path) -> Path:
    """A copy of ``source`` (trainA, trainB, testA, testB) made of links, with ``heldout`` training photos
    (a seeded random choice) moved from trainB to testB."""
    import gan_helpers as gh

    target = root / f"{source.name}-heldout{heldout}"
    photos = gh.list_images(source / "trainB")
    if heldout >= len(photos):
        raise ValueError(f"--heldout-photos {heldout}: {source / 'trainB'} has only {len(photos)} photos; hold out fewer.")
    moved = {photos[i] for i in np.random.default_rng(0).permutation(len(photos))[:heldout]}
    if target.exists():
        shutil.rmtree(target)
    splits = ("trainA", "trainB", "testA", "testB")
    for split in splits:
        (target / split).mkdir(parents=True)
    for split in splits:
        for path in gh.list_images(source / split):
            into = "testB" if path in moved else split
            link = target / into / (path.name if into == split else f"heldout-{path.name}")
            link.symlink_to(path.resolve())
    return target


def wide_two_sample(run_folder: Path, photos_folder: Path, monets_source: Path, size: int, seed: int) -> dict:
    """Every test photo's translation against every real Monet painting (test + training): the two-sample
    test beside its floor, the same test for the untranslated photos, and FD / KID in classifier features."""
    import gan_helpers as gh

    translations, _ = gh.load_images(run_folder / "translated" / "testB_to_A", size)
    photos, _ = gh.load_images(photos_folder / "testB", size)
    monets = np.concatenate([gh.load_images(monets_source / split, size)[0] for split in ("testA", "trainA")])
    translated = gh.two_sample.compare_with_real(monets, translations, seed=seed)
    untranslated = gh.two_sample.two_sample_test(monets, photos, seed=seed)
    extractor = gh.extractor_for("folder")
    half = len(monets) // 2
    order = np.random.default_rng(seed).permutation(len(monets))
    features = gh.quality.compare(gh.rgb_to_model_range(translations), gh.rgb_to_model_range(monets), extractor)
    floor = gh.quality.compare(gh.rgb_to_model_range(monets[order[:half]]),
                               gh.rgb_to_model_range(monets[order[half:2 * half]]), extractor)
    keys = ("frechet_distance", "kid", "kid_std", "precision", "recall")
    return {**translated, "untranslated_two_sample_accuracy": untranslated["accuracy"],
            "untranslated_two_sample_accuracy_std": untranslated["accuracy_std"],
            "num_translations": len(translations), "num_monets": len(monets),
            "features": {k: features[k] for k in keys}, "features_floor": {k: floor[k] for k in keys},
            "extractor": features["extractor"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps per variant (a multiple of 500; with --long of 1000); default 1500, --long 10000")
    parser.add_argument("--long", action="store_true", help="one long run on held-out photos (see above)")
    parser.add_argument("--heldout-photos", type=int, default=250, help="with --long: training photos moved to the test split")
    parser.add_argument("--only", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--monet-dir", default=str(harness.SHARED_DATA / "monet2photo"))
    parser.add_argument("--home", default=os.environ.get("GAN_HOME", str(Path.home() / "gan-notebooks")))
    args = parser.parse_args()
    args.steps = args.steps or (10000 if args.long else 1500)
    unit = SETTINGS["images_per_epoch"] * (2 if args.long else 1)
    if args.steps % unit:
        parser.error(f"--steps {args.steps}: give a multiple of {unit} (the steps of an epoch"
                     + (", twice: half constant, half decaying)" if args.long else ")"))

    results = harness.load_result(RESULT)
    if args.long:
        long_run(args, results)
        return
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


def long_run(args: argparse.Namespace, results: dict) -> None:
    source = Path(args.monet_dir)
    data = heldout_folder(source, args.heldout_photos, Path(args.home).expanduser() / "data")
    half = args.steps // SETTINGS["images_per_epoch"] // 2
    parameters = {**SETTINGS, **VARIANTS[LONG_VARIANT], **harness.parse_parameters(args.p), "data_dir": str(data),
                  "epochs": half, "decay_epochs": half}
    run = harness.run_notebook("cyclegan_monet2photo", parameters, args.home, run_name=f"cyclegan-quality-long-{args.steps}")
    summary, params = run.summary(), run.config()["params"]
    wide = wide_two_sample(run.folder, data, source, params["image_size"], params["seed"])
    results["long"] = {"variant": VARIANTS[LONG_VARIANT], "steps": args.steps, "parameters": params,
                       "heldout_photos": args.heldout_photos, "train_seconds": summary["train_seconds"],
                       "machine": harness.machine(), "evaluation": summary["evaluation"],
                       "evaluation_without_ema": summary.get("evaluation_without_ema"), "wide": wide,
                       "epochs": run.metrics()}
    harness.write_result(RESULT, results)
    print(f"long: photo -> Monet two-sample accuracy {wide['two_sample_accuracy']:.3f} ± "
          f"{wide['two_sample_accuracy_std']:.3f} on {wide['two_sample_images']} images (floor "
          f"{wide['two_sample_floor']:.3f}, untranslated photos {wide['untranslated_two_sample_accuracy']:.3f}), "
          f"{summary['train_seconds'] / 60:.1f} min", flush=True)
    if os.environ.get("GAN_SMOKE") != "1":
        for grid in sorted((run.folder / "samples").glob("epoch_*.png")):
            shutil.copy(grid, harness.RESULTS / f"cyclegan_quality_long_epoch{int(grid.stem.split('_')[-1]):02d}.png")
    print("tables: python benchmarks/report.py")


if __name__ == "__main__":
    main()
