"""float32 against mixed_bfloat16 for one notebook's train step, interleaved in one process.

    python benchmarks/precision_ab.py [--notebook dcgan|simple_gan|cyclegan64|cyclegan256|tutorial_dcgan]
                                      [--rounds 6] [--steps 40]

This machine is shared and its speed drifts by tens of percent within minutes, so two paths measured
one after the other (as throughput.py does) can swap places between runs. Here both models are built
in one process (each under its own dtype policy, with the notebook's own definitions) and timed in
alternating blocks of ``--steps`` steps on one constant batch, so a slow minute slows both (each block
timed from the end of its first step to the end of its last: whole ``fit()`` calls here sometimes add
waits of seconds, which clustered whole-call timings at 5.1, 10.2 and 20.5 s). Reports
images/s of each block, the median ratio bf16 / fp32 and its range over the rounds.
``tutorial_dcgan``: the TF DCGAN tutorial's training step (one generator pass serves both losses, see
train_step_ab.py; no average) with its network shapes at its batch of 256 (G: dense 7×7×256, 5×5 transposed convolutions 128 / 64 / 1, BatchNorm and
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
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # what the notebooks do on a CPU
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(REPO / "tests"))

import keras  # noqa: E402

from throughput import CONFIGS, step_model, steps_rate  # noqa: E402

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
    """The notebook's model for ``name`` built under ``policy``, with its constant batch: (model, dataset, batch)."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        if name == "tutorial_dcgan":
            config = {**CONFIGS["dcgan"], "batch": TUTORIAL_BATCH, "gan_options": {}}
            from train_step_ab import one_pass_step_model  # the tutorial's form of train step

            return one_pass_step_model(config, networks=tutorial_networks())
        return step_model(CONFIGS[name])
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebook", choices=[*CONFIGS, "tutorial_dcgan"], default="dcgan")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=40, help="steps per timed block")
    args = parser.parse_args()

    models = {path: build_model(args.notebook, path) for path in PATHS}
    for model, dataset, batch in models.values():
        steps_rate(model, dataset, batch, 3)  # graph tracing
    rates = {path: [] for path in PATHS}
    for round_index in range(args.rounds):
        order = PATHS if round_index % 2 == 0 else PATHS[::-1]  # neither path always goes first
        for path in order:
            rates[path].append(steps_rate(*models[path], args.steps))
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
