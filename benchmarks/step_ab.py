"""Two variants of one train step, timed in alternating blocks of steps in one process.

    python benchmarks/step_ab.py precision --model dcgan       # float32 + oneDNN against mixed_bfloat16
    python benchmarks/step_ab.py step --model dcgan            # the notebook's step against the TF tutorial's
    python benchmarks/step_ab.py precision --model tutorial_dcgan --rounds 8
    python benchmarks/step_ab.py models --model dcgan --model-b wgan_gp   # two notebooks' steps

This machine is shared and its speed drifts by tens of percent within minutes, so two variants measured
one after the other can swap places between runs. Here both are built in one process (the notebook's
own definitions cells) and timed in alternating blocks of ``--steps`` steps on one constant batch, each
block from the end of its first step to the end of its last. Reports images/s of each block and the
median ratio B / A with its range over the rounds; writes benchmarks/results/step_ab_<compare>_<model>.json.

- ``precision``: A = float32 (with oneDNN, as the notebooks run on a CPU), B = mixed_bfloat16.
- ``step``: A = the notebook's train step (two generator passes: a new batch of fakes for the
  generator's update), B = the TensorFlow DCGAN tutorial's (one batch of fakes serves both losses, a
  tape per network), both without the averaged generator, at ``--precision``.
- ``models``: A = ``--model``'s step, B = ``--model-b``'s, each with its notebook's defaults, at
  ``--precision``; images/s count real images, so B / A is how many of B's epochs fit in one of A's
  (WGAN-GP against the DCGAN: how many WGAN-GP epochs take the DCGAN's default 20 epochs' time).
- ``--model tutorial_dcgan``: the reference model of the issue's 760 images/s, the TF DCGAN tutorial
  (its networks, its train step, batch 256); the DCGAN notebook's GAN class supplies the rest.
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # what the notebooks do on a CPU

import harness  # noqa: E402

MODELS = [*harness.CONFIGS, "tutorial_dcgan"]
PRECISIONS = ("float32", "mixed_bfloat16")
TUTORIAL_BATCH = 256
ROUNDS = 6
STEPS = 40  # per timed block


def tutorial_networks():
    """The TF DCGAN tutorial's generator and discriminator (latent 100; last layers in float32)."""
    import keras
    from keras import layers

    generator = keras.Sequential([
        keras.Input((harness.LATENT_DIM,)),
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


def tutorial_step_gan(notebook_gan: type) -> type:
    """``notebook_gan`` with the TF tutorial's train step: one forward pass, both losses, a tape per network."""
    import keras
    import tensorflow as tf
    from keras import ops

    class TutorialStepGAN(notebook_gan):
        def train_step(self, data):
            real_images, _ = data
            batch = ops.shape(real_images)[0]
            noise = keras.random.normal((batch, self.latent_dim), seed=self.noise_seed)
            with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
                fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
                real_logits = self.discriminator(real_images, training=True)
                d_loss = (self.bce(ops.ones_like(real_logits), real_logits)
                          + self.bce(ops.zeros_like(fake_logits), fake_logits))
                g_loss = self.bce(ops.ones_like(fake_logits), fake_logits)
            for loss, tape, optimizer, network in ((d_loss, d_tape, self.d_optimizer, self.discriminator),
                                                   (g_loss, g_tape, self.g_optimizer, self.generator)):
                optimizer.apply_gradients(zip(tape.gradient(loss, network.trainable_variables),
                                              network.trainable_variables))
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {m.name: m.result() for m in self.metrics}

    return TutorialStepGAN


def build(model: str, precision: str, tutorial_step: bool, notebook_defaults: bool = False):
    """``(model, dataset, images_per_step)`` for ``model`` under ``precision``, with the notebook's or the
    tutorial's train step; the DCGAN without its averaged generator unless ``notebook_defaults``."""
    import keras

    from gan_helpers.notebook_code import notebook_definitions

    keras.mixed_precision.set_global_policy(precision)
    try:
        if model == "tutorial_dcgan":
            gan = notebook_definitions("dcgan_mnist.ipynb").GAN
            return harness.step_model("dcgan", networks=tutorial_networks(), gan_class=tutorial_step_gan(gan),
                                      batch=TUTORIAL_BATCH, gan_options={})
        if not tutorial_step:
            return harness.step_model(model, gan_options={} if model == "dcgan" and not notebook_defaults else None)
        gan = notebook_definitions(f"{harness.CONFIGS[model]['notebook']}.ipynb").GAN
        return harness.step_model(model, gan_class=tutorial_step_gan(gan), gan_options={})
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("compare", choices=["precision", "step", "models"])
    parser.add_argument("--model", choices=MODELS, default="dcgan")
    parser.add_argument("--model-b", choices=list(harness.CONFIGS), default="wgan_gp", help="for `models`")
    parser.add_argument("--precision", choices=PRECISIONS, default="mixed_bfloat16", help="for `step` and `models`")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--steps", type=int, default=STEPS, help="steps per timed block")
    args = parser.parse_args()
    if args.compare == "step" and args.model != "dcgan":  # the tutorial's step uses the DCGAN's losses
        parser.error(f"`step` compares the DCGAN notebook's step with the TF tutorial's: --model dcgan, not {args.model}")

    if args.compare == "precision":
        variants = {p: build(args.model, p, tutorial_step=args.model == "tutorial_dcgan") for p in PRECISIONS}
    elif args.compare == "models":
        variants = {name: build(name, args.precision, tutorial_step=False, notebook_defaults=True)
                    for name in (args.model, args.model_b)}
    else:
        variants = {"notebook step": build(args.model, args.precision, tutorial_step=False),
                    "tutorial step": build(args.model, args.precision, tutorial_step=True)}
    rates = harness.interleaved_rates(variants, args.rounds, args.steps)
    (a, rates_a), (b, rates_b) = rates.items()
    ratio = harness.ratio_summary(rates_b, rates_a)
    harness.write_result(harness.RESULTS / f"step_ab_{args.compare}_{args.model}.json", {
        "compare": args.compare, "model": args.model, "a": a, "b": b,
        "precision": args.precision if args.compare != "precision" else None,
        "steps_per_block": args.steps, "images_per_sec": rates, "b_over_a": ratio})
    print(f"\n| model | {a} images/s (median) | {b} images/s (median) | {b} / {a}, median (range) |\n|---|---|---|---|")
    print(f"| {args.model} | {statistics.median(rates_a):.1f} | {statistics.median(rates_b):.1f} | "
          f"{ratio['median']:.2f}× ({ratio['min']:.2f}–{ratio['max']:.2f}) |")


if __name__ == "__main__":
    main()
