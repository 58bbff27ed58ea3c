"""The DCGAN-family notebooks' networks at every image size they offer, and a training step on colour images."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from notebook_code import notebook_definitions

LATENT = 8
CLASSES = 10
SHAPES = [(28, 28, 1), (32, 32, 3), (64, 64, 3)]


@pytest.fixture(scope="module")
def notebooks():
    return {name: notebook_definitions(f"{name}.ipynb") for name in ("dcgan_mnist", "wgan_gp_mnist", "conditional_gan_mnist")}


def networks(notebooks, name: str, shape: tuple[int, int, int], conditioning: str = "cgan"):
    nb = notebooks[name]
    if name == "dcgan_mnist":
        return nb.build_generator(LATENT, shape), nb.build_discriminator(0.0, "batch", shape)
    if name == "wgan_gp_mnist":
        return nb.build_generator(LATENT, shape), nb.build_critic("layer", shape)
    return nb.build_generator(LATENT, CLASSES, shape), nb.build_discriminator(conditioning, CLASSES, shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["dcgan_mnist", "wgan_gp_mnist", "conditional_gan_mnist"])
def test_the_generator_makes_images_of_the_size_and_the_discriminator_judges_them(notebooks, name, shape):
    generator, judge = networks(notebooks, name, shape)
    noise = np.random.default_rng(0).normal(size=(3, LATENT)).astype("float32")
    labels = np.array([0, 4, 9], "int32")
    conditional = name == "conditional_gan_mnist"
    images = keras.ops.convert_to_numpy(generator([noise, labels] if conditional else noise, training=False))
    assert images.shape == (3, *shape) and np.abs(images).max() <= 1.0
    scores = judge([images, labels] if conditional else images, training=False)
    assert keras.ops.convert_to_numpy(scores).shape == (3, 1)
    # The transposed convolutions double the side: 2 for 28 px (7 -> 28), one more per doubling from 4 px.
    upsamplings = sum(isinstance(layer, keras.layers.Conv2DTranspose) for layer in generator.layers)
    assert upsamplings == {28: 2, 32: 3, 64: 4}[shape[0]]


@pytest.mark.parametrize("shape", SHAPES)
def test_acgan_has_its_class_head_at_every_size(notebooks, shape):
    _, discriminator = networks(notebooks, "conditional_gan_mnist", shape, conditioning="acgan")
    logit, class_logits = discriminator(np.zeros((2, *shape), "float32"), training=False)
    assert tuple(logit.shape) == (2, 1) and tuple(class_logits.shape) == (2, CLASSES)


@pytest.mark.parametrize("name", ["dcgan_mnist", "wgan_gp_mnist", "conditional_gan_mnist"])
def test_a_training_step_on_colour_images_moves_both_networks(notebooks, name):
    nb = notebooks[name]
    keras.utils.set_random_seed(0)
    generator, judge = networks(notebooks, name, (32, 32, 3))
    if name == "dcgan_mnist":
        gan = nb.GAN(generator, judge, LATENT, 0)
        optimizers = dict(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
        batch = 4
    elif name == "wgan_gp_mnist":
        gan = nb.WGANGP(generator, judge, LATENT, 0, n_critic=2, gp_weight=10.0)
        optimizers = dict(c_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
        batch = 8  # n_critic batches of 4
    else:
        gan = nb.ConditionalGAN(generator, judge, LATENT, CLASSES, 0, conditioning="cgan")
        optimizers = dict(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
        batch = 4
    gan.compile(**optimizers)
    images = np.random.default_rng(1).uniform(-1, 1, (batch, 32, 32, 3)).astype("float32")
    labels = np.arange(batch, dtype="int32") % CLASSES
    before = [w.copy() for w in generator.get_weights()], [w.copy() for w in judge.get_weights()]
    history = gan.fit(tf.data.Dataset.from_tensors((images, labels)).repeat(), steps_per_epoch=1, epochs=1, verbose=0)
    assert all(np.isfinite(values[-1]) for values in history.history.values())
    for old, model in zip(before, (generator, judge)):
        assert any(not np.allclose(a, b) for a, b in zip(old, model.get_weights()))
