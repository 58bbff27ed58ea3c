"""The DCGAN notebook's train step (two passes) against the TF DCGAN tutorial's form of it (one pass).

    python benchmarks/train_step_ab.py [--networks dcgan|tutorial] [--precision mixed_bfloat16] [--rounds 4]

The notebook's step draws new noise and runs the generator (and the discriminator on its output) a
second time for the generator's update, after the discriminator's; the tutorial's computes both losses
from one forward pass, with a tape per network. Both models are built in one process (the
notebook's own definitions cells; ``tutorial``: the TF tutorial's network shapes at batch 256, see
precision_ab.py) and timed in alternating blocks of steps on one constant batch, as precision_ab.py does.
Prints images/s per round and the median ratio; writes benchmarks/results/train_step_ab_<networks>.json.
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
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from precision_ab import TUTORIAL_BATCH, tutorial_networks  # noqa: E402
from throughput import CONFIGS, build_networks, step_model, steps_rate  # noqa: E402


def one_pass_gan_class(notebook_gan: type) -> type:
    """The notebook's GAN with the TensorFlow DCGAN tutorial's form of train step: one batch of fakes and one
    forward pass serve both losses, a tape per network (the notebook draws new noise and runs the generator,
    and the discriminator on its output, a second time for the generator's update)."""

    class OnePassGAN(notebook_gan):
        def train_step(self, data):
            real_images, _ = data
            batch = ops.shape(real_images)[0]
            ones, zeros = ops.ones((batch, 1)), ops.zeros((batch, 1))
            noise = keras.random.normal((batch, self.latent_dim), seed=self.noise_seed)
            with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
                fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
                d_loss = self.bce(ones, self.discriminator(real_images, training=True)) + self.bce(zeros, fake_logits)
                g_loss = self.bce(ones, fake_logits)
            d_grads = d_tape.gradient(d_loss, self.discriminator.trainable_variables)
            g_grads = g_tape.gradient(g_loss, self.generator.trainable_variables)
            self.d_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_variables))
            self.g_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_variables))
            if self.ema_decay:  # the notebook's averaged generator, unchanged
                t = ops.cast(self.g_optimizer.iterations - 1, "float32")
                decay = ops.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
                for average, current in zip(self.ema_generator.weights, self.generator.weights):
                    average.assign(average + (1.0 - decay) * (current - average))
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {m.name: m.result() for m in self.metrics}

    return OnePassGAN


def one_pass_step_model(config: dict, networks: tuple | None = None):
    """throughput.step_model with the one-pass train step in place of the notebook's."""
    module = build_networks(config)[0]
    notebook_gan, module.GAN = module.GAN, one_pass_gan_class(module.GAN)
    try:
        return step_model(config, networks=networks)
    finally:
        module.GAN = notebook_gan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", choices=["dcgan", "tutorial"], default="dcgan")
    parser.add_argument("--precision", choices=["float32", "mixed_bfloat16"], default="mixed_bfloat16")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=40, help="steps per timed block")
    args = parser.parse_args()

    keras.mixed_precision.set_global_policy(args.precision)
    config = CONFIGS["dcgan"] if args.networks == "dcgan" else {**CONFIGS["dcgan"], "batch": TUTORIAL_BATCH,
                                                                 "gan_options": {}}
    networks = (lambda: None) if args.networks == "dcgan" else tutorial_networks
    models = {"two passes (notebook)": step_model(config, networks=networks()),
              "one pass (TF tutorial)": one_pass_step_model(config, networks=networks())}
    for model, dataset, batch in models.values():
        steps_rate(model, dataset, batch, 3)  # graph tracing
    rates = {name: [] for name in models}
    for round_index in range(args.rounds):
        order = list(models) if round_index % 2 == 0 else list(models)[::-1]
        for name in order:
            rates[name].append(steps_rate(*models[name], args.steps))
        print(f"round {round_index + 1}: " + "  ".join(f"{n} {rates[n][-1]:7.1f}" for n in models), flush=True)
    one, two = rates["one pass (TF tutorial)"], rates["two passes (notebook)"]
    ratios = [a / b for a, b in zip(one, two)]
    result = {"networks": args.networks, "precision": args.precision, "steps_per_block": args.steps,
              "images_per_sec": rates, "one_over_two_median": statistics.median(ratios),
              "one_over_two_min": min(ratios), "one_over_two_max": max(ratios)}
    out = REPO / "benchmarks" / "results" / f"train_step_ab_{args.networks}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print("\n| networks | precision | one pass images/s (median) | two passes images/s (median) | ratio median (range) |")
    print("|---|---|---|---|---|")
    print(f"| {args.networks} | {args.precision} | {statistics.median(one):.1f} | {statistics.median(two):.1f} | "
          f"{result['one_over_two_median']:.2f}× ({result['one_over_two_min']:.2f}–{result['one_over_two_max']:.2f}) |")
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
