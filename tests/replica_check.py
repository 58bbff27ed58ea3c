"""A notebook's train step on two replicas against one device: the same update.

    python tests/replica_check.py {simple_gan,dcgan,wgan_gp,cgan,acgan,cyclegan} [same|resume]

The CPU is split into two logical devices. ``same``: the notebook's GAN class, built twice with the
same weights and random state, trains two steps on the same global batch, once under TensorFlow's
default strategy (one device) and once under ``MirroredStrategy`` over the two devices (each replica
gets half of every batch). ``resume``: one step on two replicas, a checkpoint, a fresh one-device model
restored from it and one more step (and the other way round), against two steps straight on one
device. Prints one JSON line: for every group of variables (networks, averaged generator, optimizer
state, random state) the largest difference between the runs, how far training moved them, and the
losses each run logged.

Runs in a process of its own (the tests start it): the CPU can only be split before TensorFlow
starts, and bit-stable floats need one thread without oneDNN, set before TensorFlow loads.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.update(TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1", TF_ENABLE_ONEDNN_OPTS="0",
                  TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")  # CPU only, also on a GPU machine
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gan_helpers as gh  # noqa: E402

DEVICES = gh.distribute.split_cpu(2)  # before any other TensorFlow work

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_helpers.notebook_code import notebook_definitions  # noqa: E402

LATENT, BATCH, N_CRITIC, CLASSES, SIZE = 8, 8, 2, 10, 32  # BATCH: the global batch (4 per replica)


def sgd():
    # Plain SGD: an update is the gradient times the rate, so a wrongly scaled loss shows at full size
    # (Adam would normalize most of it away).
    return keras.optimizers.SGD(0.005)


def build(model: str) -> tuple[keras.Model, int]:
    """The notebook's GAN with its own networks (small), compiled, in the current strategy; images per step."""
    keras.utils.set_random_seed(0)
    if model == "simple_gan":
        nb = notebook_definitions("simple_gan_mnist.ipynb")
        gan = nb.GAN(nb.build_generator(LATENT), nb.build_discriminator(), LATENT, 0)
    elif model == "dcgan":
        nb = notebook_definitions("dcgan_mnist.ipynb")
        gan = nb.GAN(nb.build_generator(LATENT), nb.build_discriminator(0.0), LATENT, 0, ema_decay=0.5)
    elif model == "wgan_gp":
        nb = notebook_definitions("wgan_gp_mnist.ipynb")
        gan = nb.WGANGP(nb.build_generator(LATENT), nb.build_critic("layer"), LATENT, 0, n_critic=N_CRITIC,
                        gp_weight=10.0, ema_decay=0.5)
        gan.compile(c_optimizer=sgd(), g_optimizer=sgd())
        return gan, N_CRITIC * BATCH
    elif model in ("cgan", "acgan"):
        nb = notebook_definitions("conditional_gan_mnist.ipynb")
        gan = nb.ConditionalGAN(nb.build_generator(LATENT, CLASSES), nb.build_discriminator(model, CLASSES), LATENT,
                                CLASSES, 0, conditioning=model, ema_decay=0.5)
    elif model == "cyclegan":
        nb = notebook_definitions("cyclegan_monet2photo.ipynb")
        gan = nb.CycleGAN(nb.build_generator(SIZE, 1), nb.build_generator(SIZE, 1), nb.build_discriminator(SIZE),
                          nb.build_discriminator(SIZE), pool_size=3, seed=0)
        gan.compile(g_optimizer=sgd(), d_optimizer=sgd())
        return gan, BATCH // 4  # 2 images a step: one per replica
    else:
        raise SystemExit(f"unknown model {model!r}")
    gan.compile(d_optimizer=sgd(), g_optimizer=sgd())
    return gan, BATCH


def built(model: str, strategy: tf.distribute.Strategy) -> tuple[keras.Model, int]:
    with strategy.scope():
        return build(model)


def dataset(model: str, per_step: int, steps: int, skip: int = 0) -> tf.data.Dataset:
    """Batches ``skip`` to ``skip + steps`` of one fixed stream of random images (and labels)."""
    count = per_step * 4  # the same stream, whichever part of it a run takes
    rng = np.random.default_rng(1)
    if model == "cyclegan":
        a, b = (rng.uniform(-1, 1, (count, SIZE, SIZE, 3)).astype("float32") for _ in range(2))
        data = tf.data.Dataset.from_tensor_slices((a, b))
    else:
        images = rng.uniform(-1, 1, (count, 28, 28, 1)).astype("float32")
        labels = rng.integers(0, CLASSES, count).astype("int32")
        data = tf.data.Dataset.from_tensor_slices((images, labels))
    return data.batch(per_step, drop_remainder=True).skip(skip).take(steps)


def train(gan: keras.Model, model: str, per_step: int, steps: int, skip: int = 0) -> dict[str, float]:
    history = gan.fit(dataset(model, per_step, steps, skip), epochs=1, steps_per_epoch=steps, verbose=0)
    return {name: float(values[-1]) for name, values in history.history.items() if name != "learning_rate"}


def groups(gan: keras.Model) -> dict[str, list[np.ndarray]]:
    """The model's state by group: each network, the averaged generator, optimizers, random state."""
    found: dict[str, list[np.ndarray]] = {}
    for name in ("generator", "discriminator", "critic", "ema_generator", "generator_ab", "generator_ba",
                 "discriminator_a", "discriminator_b"):
        if hasattr(gan, name):
            found[name] = [keras.ops.convert_to_numpy(w).astype(np.float64) for w in getattr(gan, name).weights]
    for name, optimizer in gh.checkpoints.find_optimizers(gan).items():
        found[name] = [keras.ops.convert_to_numpy(v).astype(np.float64) for v in optimizer.variables]
    found["random_state"] = [keras.ops.convert_to_numpy(v).astype(np.float64) for v in gan.variables
                             if "seed_generator_state" in v.path]
    for pool in ("pool_a", "pool_b"):
        if hasattr(gan, pool):
            found[pool] = [keras.ops.convert_to_numpy(w).astype(np.float64) for w in getattr(gan, pool).weights]
    return found


def compare(a: keras.Model, b: keras.Model, start: dict[str, list[np.ndarray]]) -> dict[str, dict[str, float]]:
    ga, gb = groups(a), groups(b)
    return {name: {"difference": max((float(np.max(np.abs(x - y))) for x, y in zip(ga[name], gb[name]) if x.size),
                                     default=0.0),
                   "moved": max((float(np.max(np.abs(x - s))) for x, s in zip(ga[name], start[name]) if x.size),
                                default=0.0),
                   "arrays": len(ga[name])}
            for name in ga}


def same(model: str) -> dict:
    one, mirrored = tf.distribute.get_strategy(), tf.distribute.MirroredStrategy(DEVICES)
    single, per_step = built(model, one)
    replicated, _ = built(model, mirrored)
    start = groups(single)
    assert all(np.array_equal(x, y) for name in start for x, y in zip(start[name], groups(replicated)[name]))
    losses = {"one_device": train(single, model, per_step, 2), "two_replicas": train(replicated, model, per_step, 2)}
    return {"replicas": mirrored.num_replicas_in_sync, "groups": compare(single, replicated, start), "losses": losses}


def resume(model: str) -> dict:
    one, mirrored = tf.distribute.get_strategy(), tf.distribute.MirroredStrategy(DEVICES)
    straight, per_step = built(model, one)
    start = groups(straight)
    train(straight, model, per_step, 2)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for first, then, name in ((mirrored, one, "2_then_1"), (one, mirrored, "1_then_2")):
            gan, _ = built(model, first)
            train(gan, model, per_step, 1)
            gh.save_checkpoint(Path(folder) / f"{name}.npz", gan, 1)
            resumed, _ = built(model, then)
            gh.load_checkpoint(Path(folder) / f"{name}.npz", resumed)
            train(resumed, model, per_step, 1, skip=1)
            results[name] = compare(straight, resumed, start)
    return {"replicas": mirrored.num_replicas_in_sync, "resumes": results}


if __name__ == "__main__":
    model, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "same")
    print("RESULT " + json.dumps(same(model) if mode == "same" else resume(model)), flush=True)
