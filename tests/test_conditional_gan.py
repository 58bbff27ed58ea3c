"""The conditional GAN notebook's own model code (its cells tagged "definitions"): cGAN and AC-GAN."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import gan_helpers as gh
from notebook_code import notebook_definitions
from test_dcgan_variants import check_parameters
from test_wgan_gp import resume_check

LATENT = 8
CLASSES = 10


@pytest.fixture(scope="module")
def nb():
    return notebook_definitions("conditional_gan_mnist.ipynb")


def test_the_saved_generator_takes_noise_and_label_and_gh_sample_uses_it(nb, tmp_path):
    keras.utils.set_random_seed(0)
    generator = nb.build_generator(LATENT, CLASSES)
    noise = np.random.default_rng(0).standard_normal((2, LATENT)).astype("float32")
    threes = keras.ops.convert_to_numpy(generator([noise, np.array([3, 3])], training=False))
    sevens = keras.ops.convert_to_numpy(generator([noise, np.array([7, 7])], training=False))
    assert threes.shape == (2, 28, 28, 1) and not np.allclose(threes, sevens)  # the label changes the image
    generator.save(tmp_path / "generator.keras")
    images = gh.sample(tmp_path, n=3, label=7)
    assert images.shape == (3, 28, 28) and images.dtype == np.uint8
    with pytest.raises(ValueError, match="label=10 is out of range: this generator knows classes 0..9"):
        gh.sample(tmp_path, n=3, label=10)


def test_discriminators_see_the_label_as_each_conditioning_says(nb):
    cgan = nb.build_discriminator("cgan", CLASSES)
    assert [tuple(i.shape) for i in cgan.inputs] == [(None, 28, 28, 1), (None,)]
    acgan = nb.build_discriminator("acgan", CLASSES)
    assert len(acgan.inputs) == 1 and [tuple(o.shape) for o in acgan.outputs] == [(None, 1), (None, CLASSES)]
    image = np.zeros((2, 28, 28, 1), "float32")
    # The cGAN discriminator's verdict on one image depends on the label beside it.
    a = keras.ops.convert_to_numpy(cgan([image, np.array([1, 1])]))
    b = keras.ops.convert_to_numpy(cgan([image, np.array([2, 2])]))
    assert not np.allclose(a, b)


def trained_gan(nb, conditioning: str, images, labels, steps: int):
    keras.utils.set_random_seed(0)
    gan = nb.ConditionalGAN(nb.build_generator(LATENT, CLASSES), nb.build_discriminator(conditioning, CLASSES), LATENT,
                            CLASSES, 0, conditioning=conditioning, ema_decay=0.0)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5), g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    history = gan.fit(gh.make_dataset(images, labels, 16, seed=0), steps_per_epoch=steps, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0]) and np.isfinite(history.history["g_loss"][0])
    return gan


def test_acgan_class_loss_is_lower_for_correct_labels_than_for_shuffled_ones(nb, tiny_mnist_dir):
    """After a few AC-GAN steps on the fixture digits (a bar whose row is the class), the discriminator's
    class head names real images' classes: its class loss is far lower for their own labels."""
    images, labels = gh.load_mnist_family("mnist", "train", cache_dir="/nonexistent", data_dir=tiny_mnist_dir)
    gan = trained_gan(nb, "acgan", images, labels, steps=30)
    real = gh.to_model_range(images[:100])
    _, class_logits = gan.discriminator(real, training=False)
    correct = float(nb.class_loss(labels[:100].astype("int32"), class_logits))
    shuffled = float(nb.class_loss(np.random.default_rng(0).permutation(labels[:100]).astype("int32"), class_logits))
    assert correct < 0.5 * shuffled
    # The loss itself: cross-entropy of the logits against the labels.
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], "float32"))
    assert float(nb.class_loss(np.array([0, 2]), logits)) == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2, rel=1e-5)


def test_cgan_trains_a_step(nb, tiny_mnist_dir):
    images, labels = gh.load_mnist_family("mnist", "train", cache_dir="/nonexistent", data_dir=tiny_mnist_dir)
    gan = trained_gan(nb, "cgan", images, labels, steps=2)
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 2


@pytest.mark.parametrize("conditioning", ["cgan", "acgan"])
def test_resume_equals_an_uninterrupted_run(conditioning, tiny_mnist_dir, tmp_path):
    """2 epochs straight == 1 epoch, checkpoint, a fresh model restored from it, 1 more epoch, bit for bit
    (weights, averaged generator, optimizers, the random state that draws noise and labels)."""
    result = resume_check(conditioning, tiny_mnist_dir, tmp_path)
    steps = result["steps_per_epoch"]
    assert result["restored_counters"] == {"d_optimizer": steps, "g_optimizer": steps}
    assert result["resumed_counters"] == result["straight_counters"] == {"d_optimizer": 2 * steps, "g_optimizer": 2 * steps}
    assert result["same_keys"] and result["second_epoch_changed"]
    assert result["max_difference"] == 0.0


def test_bad_parameters_and_unlabelled_data_are_refused_before_training():
    assert check_parameters("conditional_gan_mnist.ipynb")["conditioning"] == "cgan"  # the defaults pass
    with pytest.raises(ValueError, match="Parameter conditioning='infogan' is not allowed. Choose one of: 'cgan', 'acgan'"):
        check_parameters("conditional_gan_mnist.ipynb", conditioning="infogan")
    with pytest.raises(ValueError, match="Parameter conditioning='acgan' needs a class label for every training image, "
                                         "but the data has no labels"):
        gh.require_labels(None, 5, "conditioning", "acgan")
    with pytest.raises(ValueError, match=r"Parameter conditioning='cgan' needs one class label .* 5 images but labels "
                                         r"of shape \(4,\)"):
        gh.require_labels(np.arange(4), 5, "conditioning", "cgan")
    with pytest.raises(ValueError, match="dtype float64"):
        gh.require_labels(np.zeros(5), 5, "conditioning", "cgan")
    assert gh.require_labels(np.array([0, 3, 9, 1]), 4, "conditioning", "cgan") == 10
