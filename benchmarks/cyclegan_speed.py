"""Seconds per CycleGAN training step on this machine, with the notebook's own model and train step.

    python benchmarks/cyclegan_speed.py                       # 64 px / 6 blocks, then 256 px / 9 blocks, batch 1
    python benchmarks/cyclegan_speed.py --data-dir DIR --configs 128:6 --steps 10

Images come from a monet2photo folder in the official layout (default: ../shared/data/monet2photo
beside the repository, if it exists; otherwise random images of the same shapes, which train at
the same speed). Each configuration runs ``--warmup`` steps first (the first one includes tracing
the train step into a graph, reported separately), then times ``--steps`` steps. Writes
``benchmarks/results/cyclegan_speed.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import harness  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import gan_helpers as gh  # noqa: E402
from gan_helpers.notebook_code import notebook_definitions  # noqa: E402

DEFAULT_DATA = harness.SHARED_DATA / "monet2photo"
RESULTS = harness.RESULTS / "cyclegan_speed.json"
IMAGES_PER_SET = 8  # decoded per set: enough for a few steps


class StepTimes(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._start)

    def on_train_begin(self, logs=None):
        self.times = []


def images_for(data_dir: Path | None, load_size: int) -> tuple[np.ndarray, np.ndarray, str]:
    if data_dir is not None:
        a, _ = gh.load_images(data_dir / "trainA", load_size, limit=IMAGES_PER_SET)
        b, _ = gh.load_images(data_dir / "trainB", load_size, limit=IMAGES_PER_SET)
        return a, b, f"real ({data_dir})"
    rng = np.random.default_rng(0)
    shape = (IMAGES_PER_SET, load_size, load_size, 3)
    return rng.integers(0, 256, shape, np.uint8), rng.integers(0, 256, shape, np.uint8), "synthetic"


def measure(nb, image_size: int, blocks: int, batch_size: int, warmup: int, steps: int, data_dir: Path | None) -> dict:
    keras.utils.set_random_seed(0)
    load_size = round(image_size * 286 / 256)
    train_a, train_b, source = images_for(data_dir, load_size)
    gan = nb.CycleGAN(nb.build_generator(image_size, blocks), nb.build_generator(image_size, blocks),
                      nb.build_discriminator(image_size), nb.build_discriminator(image_size), pool_size=50)
    schedule = lambda: nb.LinearDecayAfter(2e-4, warmup + steps, 100, 100)  # noqa: E731
    gan.compile(keras.optimizers.Adam(schedule(), beta_1=0.5), keras.optimizers.Adam(schedule(), beta_1=0.5))
    data = gh.make_unpaired_dataset(train_a, train_b, image_size, batch_size, warmup + steps, seed=0)
    timer = StepTimes()
    gan.fit(data, epochs=1, steps_per_epoch=warmup + steps, callbacks=[timer], verbose=0, shuffle=False)
    timed = timer.times[warmup:]
    return {"image_size": image_size, "n_res_blocks": blocks, "batch_size": batch_size, "data": source,
            "first_step_seconds": round(timer.times[0], 2), "warmup_steps": warmup, "timed_steps": len(timed),
            "seconds_per_step": round(statistics.mean(timed), 3),
            "seconds_per_step_min": round(min(timed), 3), "seconds_per_step_max": round(max(timed), 3),
            "reference_epoch_hours": round(statistics.mean(timed) * 6287 / batch_size / 3600, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA if DEFAULT_DATA.is_dir() else None)
    parser.add_argument("--configs", default="64:6,256:9", help="image_size:n_res_blocks, comma-separated")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()

    nb = notebook_definitions("cyclegan_monet2photo.ipynb")
    report = {"load_average_at_start": [round(x, 2) for x in os.getloadavg()],
              "note": "shared 2-core machine: other jobs may have run at the same time", "results": []}
    results = report["results"]
    for config in args.configs.split(","):
        size, blocks = (int(part) for part in config.split(":"))
        results.append(measure(nb, size, blocks, args.batch_size, args.warmup, args.steps, args.data_dir))
        print(f"measured {config}: {results[-1]['seconds_per_step']} s/step", flush=True)
        harness.write_result(RESULTS, report)  # after each: a kill keeps the rest
    print(f"\n| image size | residual blocks | batch | s/step (min-max) | first step (graph tracing) | "
          f"hours per reference epoch (6,287 steps) |\n|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['image_size']} | {r['n_res_blocks']} | {r['batch_size']} | {r['seconds_per_step']:.3f} "
              f"({r['seconds_per_step_min']:.3f}-{r['seconds_per_step_max']:.3f}) | {r['first_step_seconds']:.1f} s | "
              f"{r['reference_epoch_hours']:.2f} |")
    print(f"\nData: {results[0]['data']}")


if __name__ == "__main__":
    main()
