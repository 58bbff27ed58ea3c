"""The DCGAN notebook's own model code (its cells tagged "definitions"): the averaged generator."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import gan_helpers as gh
from notebook_code import notebook_definitions

LATENT = 8
BATCH = 4


@pytest.fixture(scope="module")
def nb():
    return notebook_definitions("dcgan_mnist.ipynb")


def make_gan(nb, ema_decay: float, seed: int = 0):
    keras.utils.set_random_seed(seed)
    gan = nb.GAN(nb.build_generator(LATENT), nb.build_discriminator(0.0), LATENT, seed, ema_decay=ema_decay)
    adam = lambda: keras.optimizers.Adam(1e-3, beta_1=0.5)  # noqa: E731
    gan.compile(d_optimizer=adam(), g_optimizer=adam())
    return gan


def one_batch(seed: int = 0) -> tf.data.Dataset:
    images = np.random.default_rng(seed).uniform(-1, 1, (BATCH, 28, 28, 1)).astype("float32")
    return tf.data.Dataset.from_tensors((images, np.zeros(BATCH, "float32"))).repeat()


def weights(model) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(w).copy() for w in model.weights]


def warmed_up(decay: float, t: int) -> float:
    """The decay of step ``t`` (0-based): TensorFlow's ExponentialMovingAverage warm-up, capped at ``decay``."""
    return min(decay, (1 + t) / (10 + t))


def test_average_starts_as_a_copy_and_follows_every_step_by_the_warmed_up_decay(nb):
    decay = 0.15  # step 0 takes the warm-up's 0.1, step 1 the cap (2/11 > 0.15)
    gan = make_gan(nb, decay)
    expected = weights(gan.generator)
    assert all(np.array_equal(a, b) for a, b in zip(weights(gan.ema_generator), expected))

    for t in range(2):
        before = weights(gan.generator)
        gan.fit(one_batch(t), steps_per_epoch=1, epochs=1, verbose=0, shuffle=False)
        after = weights(gan.generator)
        assert any(not np.allclose(a, b) for a, b in zip(after, before))  # training moved the generator
        d = warmed_up(decay, t)
        expected = [e + (1 - d) * (a - e) for a, e in zip(after, expected)]
        for average, want in zip(weights(gan.ema_generator), expected):  # kernels and BatchNorm statistics alike
            np.testing.assert_allclose(average, want, rtol=1e-5, atol=1e-6)
    # The average is a model of its own: its samples differ from the trained generator's.
    noise = np.random.default_rng(2).standard_normal((BATCH, LATENT)).astype("float32")
    assert not np.allclose(keras.ops.convert_to_numpy(gan.ema_generator(noise, training=False)),
                           keras.ops.convert_to_numpy(gan.generator(noise, training=False)))


def test_without_decay_there_is_no_average(nb):
    gan = make_gan(nb, 0.0)
    assert not hasattr(gan, "ema_generator")
    gan.fit(one_batch(), steps_per_epoch=1, epochs=1, verbose=0, shuffle=False)  # the step runs without it


def test_checkpoint_restores_the_average(nb, tmp_path):
    gan = make_gan(nb, 0.5)
    gan.fit(one_batch(), steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)
    gh.save_checkpoint(tmp_path / "epoch_0001.npz", gan, 1)

    fresh = make_gan(nb, 0.5, seed=1)  # other initial weights
    assert not np.allclose(weights(fresh.ema_generator)[0], weights(gan.ema_generator)[0])
    assert gh.load_checkpoint(tmp_path / "epoch_0001.npz", fresh) == 1
    for restored, saved in zip(weights(fresh.ema_generator), weights(gan.ema_generator)):
        np.testing.assert_array_equal(restored, saved)


def test_a_session_stopped_inside_an_epoch_resumes_exactly_with_the_average(nb, tmp_path, tiny_mnist_dir):
    """The DCGAN's run stopped by its time budget at step 3 of epoch 2 (of 8), then continued: the
    same generator, discriminator, averaged generator and optimizer state as an uninterrupted run."""
    from tiny_gan import StepClock

    images, labels = gh.load_mnist_family("mnist", "train", cache_dir=tmp_path, data_dir=tiny_mnist_dir)
    env = gh.Environment(root=tmp_path, data_dir=None, in_colab=False, smoke=False, device="CPU")

    def train(name: str, time_budget: float) -> gh.Run:
        gh.seed_everything(0, deterministic=True)
        gan = make_gan(nb, 0.999)
        run = gh.Run(env, "dcgan_test", name, {"epochs": 2, "time_budget": time_budget}, code=gan)
        run.resume(gan)
        clock = StepClock()
        run.fit(gan, lambda epoch, step: gh.make_dataset(images, labels, 32, seed=0, start_epoch=epoch,
                                                         start_step=step),
                8, [clock, *run.callbacks(images_per_step=32)], clock=clock)
        return run

    straight = train("straight", 0)
    with pytest.raises(gh.TrainingPaused, match="at step 3 of epoch 2"):
        train("stopped", 11)
    resumed = train("stopped", 0)
    with np.load(straight.checkpoints.path(2)) as a, np.load(resumed.checkpoints.path(2)) as b:
        assert a.files == b.files
        for name in a.files:
            if name != "meta":
                np.testing.assert_array_equal(a[name], b[name], err_msg=name)
