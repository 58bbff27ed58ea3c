"""What does the two-sample test notice? Real Monet paintings against degraded copies of real Monets.

    python benchmarks/two_sample_sensitivity.py [--monet-dir ../shared/data/monet2photo]

The CycleGAN evaluation's classifier two-sample test (`gan_helpers.two_sample`, its fixed protocol at
64 px) separates translations from real paintings; this script calibrates it. Every Monet (trainA and
testA) is read at 64 px (`gh.load_images`, as the notebook loads its test images) and the paintings are
split at random into two halves. The first half is tested against the second half as it is (the
floor), and against the second half degraded in one way at a time:

- blurred with a Gaussian of sigma 0.5 or 1 pixel (fine brush strokes softened);
- shrunk to 32 or 16 px and enlarged back to 64 px (detail of a smaller image);
- washed out: 30% of the way to each pixel's grey, lightened (the pastel look of early translations).

A test that tells a degradation apart as well as it tells translations apart says which kind of
difference the translations' accuracy can stand for. Writes benchmarks/results/two_sample_sensitivity.json.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import harness

RESULT = harness.RESULTS / "two_sample_sensitivity.json"
SIDE = 64


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """``images`` (N, H, W, C, float) blurred per channel by a 7x7 Gaussian, borders reflected."""
    import tensorflow as tf

    taps = np.exp(-0.5 * (np.arange(-3, 4) / sigma) ** 2)
    taps /= taps.sum()
    channels = images.shape[-1]
    kernel = (np.outer(taps, taps)[:, :, None, None] * np.eye(channels)[None, None]).astype(np.float32)
    padded = tf.pad(tf.constant(images, tf.float32), [[0, 0], [3, 3], [3, 3], [0, 0]], mode="REFLECT")
    return tf.nn.conv2d(padded, kernel, 1, "VALID").numpy()


def lower_resolution(images: np.ndarray, side: int) -> np.ndarray:
    """``images`` area-shrunk to ``side`` px and enlarged back (bilinear)."""
    import tensorflow as tf

    small = tf.image.resize(images, (side, side), method="area")
    return tf.image.resize(small, images.shape[1:3], method="bilinear").numpy()


def washed_out(images: np.ndarray, amount: float) -> np.ndarray:
    """``images`` (0-255) moved ``amount`` of the way to grey and lightened by 15% of that amount."""
    grey = images.mean(axis=-1, keepdims=True)
    return (1 - amount) * images + amount * grey + 0.15 * amount * (255.0 - images)


DEGRADATIONS = {
    "none (real vs real)": lambda x: x,
    "blur sigma 0.5 px": lambda x: gaussian_blur(x, 0.5),
    "blur sigma 1 px": lambda x: gaussian_blur(x, 1.0),
    "32 px, enlarged to 64": lambda x: lower_resolution(x, 32),
    "16 px, enlarged to 64": lambda x: lower_resolution(x, 16),
    "washed out 30%": lambda x: washed_out(x, 0.3),
}


def main() -> None:
    import gan_helpers as gh
    from gan_helpers.two_sample import two_sample_test

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--monet-dir", default=str(harness.SHARED_DATA / "monet2photo"))
    args = parser.parse_args()
    folder = Path(args.monet_dir)
    if not (folder / "trainA").is_dir():
        raise SystemExit(f"No Monet paintings in {folder / 'trainA'}: give --monet-dir, a monet2photo folder.")
    paintings = np.concatenate([gh.load_images(folder / split, SIDE)[0] for split in ("trainA", "testA")])
    if os.environ.get("GAN_SMOKE") == "1":
        paintings = paintings[:60]
    order = np.random.default_rng(0).permutation(len(paintings))
    half = len(paintings) // 2
    first, second = paintings[order[:half]], paintings[order[half:2 * half]].astype(np.float32)

    results = {"paintings": int(len(paintings)), "side": SIDE, "tests": {}}
    for name, degrade in DEGRADATIONS.items():
        start = time.perf_counter()
        degraded = np.clip(np.round(degrade(second)), 0, 255).astype(np.uint8)
        test = two_sample_test(first, degraded, seed=0)
        results["tests"][name] = {key: test[key] for key in ("accuracy", "accuracy_std", "images_per_set", "folds")}
        print(f"{name:>24}: two-sample accuracy {test['accuracy']:.3f} ± {test['accuracy_std']:.3f} "
              f"({test['images_per_set']} per set, {time.perf_counter() - start:.0f} s)", flush=True)
    harness.write_result(RESULT, results)


if __name__ == "__main__":
    main()
