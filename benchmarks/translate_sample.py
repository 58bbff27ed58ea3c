"""Use a finished CycleGAN run the way a user would: `gh.translate()` in a fresh Python, no notebook.

    python benchmarks/translate_sample.py [--run RUN_FOLDER] [--data-dir ../shared/data/monet2photo] [--count 4]

Translates the first ``--count`` test photos (testB) to Monets and as many test Monets (testA) to
photos with the run's saved ``generator_BtoA.keras`` / ``generator_AtoB.keras`` (default: the newest
finished run under the root), and writes ``benchmarks/results/translate_sample.png`` (rows: photo, its
Monet, Monet, its photo) and ``translate_sample.json`` (the run, the files, seconds per image).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import gan_helpers as gh
from gan_helpers.translate import newest_run_folder

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="run folder (default: the newest finished CycleGAN run under the root)")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "monet2photo"))
    parser.add_argument("--count", type=int, default=4)
    args = parser.parse_args()
    run = Path(args.run).expanduser() if args.run else newest_run_folder("BtoA")
    data = Path(args.data_dir)
    photos = gh.list_images(data / "testB")[:args.count]
    monets = gh.list_images(data / "testA")[:args.count]

    started = time.perf_counter()
    photo_to_monet = [gh.translate(photo, "BtoA", run_folder=run) for photo in photos]
    monet_to_photo = [gh.translate(monet, "AtoB", run_folder=run) for monet in monets]
    seconds = time.perf_counter() - started
    size = photo_to_monet[0].shape[0]
    # The inputs at the generators' size, each above its translation.
    tiles = np.concatenate([gh.load_images(photos, size)[0], photo_to_monet, gh.load_images(monets, size)[0], monet_to_photo])
    grid = gh.save_grid(gh.rgb_to_model_range(tiles), RESULTS / "translate_sample.png", ncols=len(photos))
    record = {"run": str(run), "image_size": size, "photos": [p.name for p in photos], "monets": [p.name for p in monets],
              "seconds_per_image": round(seconds / (2 * len(photos)), 3), "grid": str(grid.relative_to(REPO))}
    (RESULTS / "translate_sample.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"{2 * len(photos)} images translated in {seconds:.1f} s (first call loads both generators) with {run}")
    print(f"rows: test photos, their Monets, test Monets, their photos -> {grid}")


if __name__ == "__main__":
    main()
