"""Exact resume of a notebook's GAN class: 2 epochs straight against 1 epoch, a checkpoint, a fresh
model restored from it, and 1 more epoch. Prints one JSON line: the largest difference between the
two final checkpoints (0.0 means identical), whether the second epoch changed anything, and the
optimizers' step counters.

    python tests/resume_check.py {wgan_gp,cgan,acgan} DATA_DIR CHECKPOINT_DIR

Runs in a process of its own (the tests start it) because bit-identical floats need TensorFlow on one
thread without oneDNN, which must be set before TensorFlow loads; the tests' own process has other
settings, in which two identical runs already differ in the last digits.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.update(TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1", TF_ENABLE_ONEDNN_OPTS="0",
                  TF_CPP_MIN_LOG_LEVEL="3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import gan_helpers as gh  # noqa: E402
from gan_helpers.notebook_code import notebook_definitions  # noqa: E402

LATENT, BATCH, N_CRITIC, CLASSES = 8, 4, 2, 10


def build(model: str, seed: int) -> tuple[keras.Model, int]:
    """The notebook's GAN with its own networks (small noise), compiled; and the images per step."""
    keras.utils.set_random_seed(seed)
    adam = lambda: keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)  # noqa: E731
    if model == "wgan_gp":
        nb = notebook_definitions("wgan_gp_mnist.ipynb")
        gan = nb.WGANGP(nb.build_generator(LATENT), nb.build_critic("layer"), LATENT, seed, n_critic=N_CRITIC,
                        gp_weight=10.0, ema_decay=0.5)
        gan.compile(c_optimizer=adam(), g_optimizer=adam())
        return gan, N_CRITIC * BATCH
    nb = notebook_definitions("conditional_gan_mnist.ipynb")
    gan = nb.ConditionalGAN(nb.build_generator(LATENT, CLASSES), nb.build_discriminator(model, CLASSES), LATENT,
                            CLASSES, seed, conditioning=model, ema_decay=0.5)
    gan.compile(d_optimizer=adam(), g_optimizer=adam())
    return gan, BATCH


def counters(gan: keras.Model) -> dict[str, int]:
    return {name: int(getattr(gan, name).iterations) for name in ("c_optimizer", "d_optimizer", "g_optimizer")
            if hasattr(gan, name)}


def main(model: str, data_dir: str, folder: str) -> dict:
    folder = Path(folder)
    gh.seed_everything(0, deterministic=True)
    images, labels = gh.load_mnist_family("mnist", "train", cache_dir=folder / "cache", data_dir=data_dir, limit=24)

    def train(gan, per_step, start, end):
        steps = gh.batches_per_epoch(len(images), per_step)
        data = gh.make_dataset(images, labels, per_step, seed=1, start_epoch=start)
        gan.fit(data, epochs=end, initial_epoch=start, steps_per_epoch=steps, verbose=0, shuffle=False)

    straight, per_step = build(model, 0)
    train(straight, per_step, 0, 2)
    gh.save_checkpoint(folder / "straight.npz", straight, 2)

    first, _ = build(model, 0)
    train(first, per_step, 0, 1)
    gh.save_checkpoint(folder / "half.npz", first, 1)
    resumed, _ = build(model, 5)  # other initial weights and random state: everything must come from the checkpoint
    gh.load_checkpoint(folder / "half.npz", resumed)
    restored = counters(resumed)
    train(resumed, per_step, 1, 2)
    gh.save_checkpoint(folder / "resumed.npz", resumed, 2)

    def arrays(name):
        with np.load(folder / name) as archive:
            return {k: archive[k] for k in archive.files if k != "meta"}

    a, b, half = arrays("straight.npz"), arrays("resumed.npz"), arrays("half.npz")
    return {"same_keys": sorted(a) == sorted(b), "num_arrays": len(a),
            "max_difference": max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64))))
                                  for k in a if a[k].size),
            "second_epoch_changed": any(not np.array_equal(half[k], a[k]) for k in a),
            "steps_per_epoch": gh.batches_per_epoch(len(images), per_step),
            "restored_counters": restored, "straight_counters": counters(straight), "resumed_counters": counters(resumed)}


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(*sys.argv[1:4])), flush=True)
