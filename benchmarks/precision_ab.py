"""float32 against mixed_bfloat16 for one notebook's train step, interleaved in one process.

    python benchmarks/precision_ab.py [--notebook dcgan|simple_gan|cyclegan64|cyclegan256|tutorial_dcgan]
                                      [--rounds 6] [--steps 40]

This machine is shared and its speed drifts by tens of percent within minutes, so two paths measured
one after the other (as throughput.py does) can swap places between runs. Here both models are built
in one process (each under its own dtype policy, with the notebook's own definitions) and timed in
alternating blocks of ``--steps`` steps on one constant batch, so a slow minute slows both. Reports
images/s of each block, the median ratio bf16 / fp32 and its range over the rounds.
``tutorial_dcgan``: the DCGAN notebook's train step (no average) with the TF DCGAN tutorial's network
shapes at its batch of 256 (G: dense 7×7×256, 5×5 transposed convolutions 128 / 64 / 1, BatchNorm and
LeakyReLU; D: 5×5 stride-2 convolutions 64 / 128 with LeakyReLU and dropout 0.3, one logit), the
architecture behind issue #6's 760 images/s.
Writes benchmarks/results/precision_ab_<notebook>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # what the notebooks do on a CPU
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(REPO / "tests"))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from throughput import CONFIGS, build_networks  # noqa: E402

PATHS = ("float32", "mixed_bfloat16")
TUTORIAL_BATCH = 256


def tutorial_networks():
    """The TF DCGAN tutorial's generator and discriminator shapes (latent 100), built here."""
    from keras import layers

    generator = keras.Sequential([
        keras.Input((100,)),
        layers.Dense(7 * 7 * 256, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Reshape((7, 7, 256)),
        layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(),
        layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh", dtype="float32"),
    ])
    discriminator = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(64, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Conv2D(128, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(1, dtype="float32"),
    ])
    return generator, discriminator


def build_model(name: str, policy: str):
    """The notebook's model for ``name``, built and compiled under ``policy``, and one constant batch."""
    config = CONFIGS["dcgan"] if name == "tutorial_dcgan" else CONFIGS[name]
    keras.mixed_precision.set_global_policy(policy)
    try:
        module, generator, discriminator = build_networks(config)
        if name == "tutorial_dcgan":
            generator, discriminator = tutorial_networks()
            config = {**config, "batch": TUTORIAL_BATCH, "gan_options": {}}
        adam = lambda: keras.optimizers.Adam(2e-4, beta_1=0.5)  # noqa: E731
        if config["kind"] == "gan":
            model = module.GAN(generator, discriminator, 100, 0, **config.get("gan_options", {}))
            model.compile(d_optimizer=adam(), g_optimizer=adam())
            batch = config["batch"]
            data = (tf.random.uniform((batch, 28, 28, 1), -1, 1), tf.zeros((batch,)))
        else:
            size, blocks = config["params"]["image_size"], config["params"]["n_res_blocks"]
            model = module.CycleGAN(generator, module.build_generator(size, blocks),
                                    discriminator, module.build_discriminator(size))
            model.compile(g_optimizer=adam(), d_optimizer=adam())
            batch = 1
            data = (tf.random.uniform((1, size, size, 3), -1, 1), tf.random.uniform((1, size, size, 3), -1, 1))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return model, tf.data.Dataset.from_tensors(data).repeat(), batch


class StepTimes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def block_rate(model, dataset, batch: int, steps: int) -> float:
    """Images/s from the end of a block's first step to the end of its last. Not the whole fit() call:
    on this machine fit()'s start and end sometimes add waits of several seconds, which made whole-call
    timings cluster at 5.1, 10.2 and 20.5 s whatever the model."""
    times = StepTimes()
    model.fit(dataset, steps_per_epoch=steps + 1, epochs=1, verbose=0, callbacks=[times])
    return batch * steps / (times.times[-1] - times.times[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebook", choices=[*CONFIGS, "tutorial_dcgan"], default="dcgan")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=40, help="steps per timed block")
    args = parser.parse_args()

    models = {path: build_model(args.notebook, path) for path in PATHS}
    for model, dataset, batch in models.values():
        block_rate(model, dataset, batch, 3)  # graph tracing
    rates = {path: [] for path in PATHS}
    for round_index in range(args.rounds):
        order = PATHS if round_index % 2 == 0 else PATHS[::-1]  # neither path always goes first
        for path in order:
            rates[path].append(block_rate(*models[path], args.steps))
        print(f"round {round_index + 1}: " + "  ".join(f"{p} {rates[p][-1]:8.1f}" for p in PATHS), flush=True)
    ratios = [b / f for f, b in zip(rates["float32"], rates["mixed_bfloat16"])]
    result = {"notebook": args.notebook, "steps_per_block": args.steps, "images_per_sec": rates,
              "bf16_over_fp32_median": statistics.median(ratios), "bf16_over_fp32_min": min(ratios),
              "bf16_over_fp32_max": max(ratios)}
    out = REPO / "benchmarks" / "results" / f"precision_ab_{args.notebook}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n| notebook | float32 + oneDNN images/s (median) | mixed_bfloat16 images/s (median) | bf16 / fp32 median (range) |")
    print("|---|---|---|---|")
    print(f"| {args.notebook} | {statistics.median(rates['float32']):.1f} | {statistics.median(rates['mixed_bfloat16']):.1f} "
          f"| {result['bf16_over_fp32_median']:.2f}× ({result['bf16_over_fp32_min']:.2f}–{result['bf16_over_fp32_max']:.2f}) |")
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
