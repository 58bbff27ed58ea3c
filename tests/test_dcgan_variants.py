"""The DCGAN notebook's loss and discriminator-normalization choices (its cells tagged "definitions")."""

from __future__ import annotations

import ast
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import gan_helpers as gh
from gan_helpers.notebook_code import NOTEBOOKS
from notebook_code import notebook_definitions

LATENT = 8
BATCH = 4


@pytest.fixture(scope="module")
def nb():
    return notebook_definitions("dcgan_mnist.ipynb")


def parameters_cell(notebook: str) -> str:
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    return next("".join(c["source"]) for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))


def declared_ranges(notebook: str) -> dict:
    """The ``ranges={...}`` the notebook's check cell passes to gh.read_params."""
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    for cell in cells:
        for node in ast.walk(ast.parse("".join(cell["source"]) if cell["cell_type"] == "code" else "")):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "read_params":
                return ast.literal_eval(next(k.value for k in node.keywords if k.arg == "ranges"))
    raise AssertionError(f"{notebook} has no gh.read_params(..., ranges=...) call")


def check_parameters(notebook: str, **changes):
    """gh.read_params on the notebook's own parameters cell and ranges, with some values changed."""
    cell = parameters_cell(notebook)
    namespace = {}
    exec(cell, namespace)
    return gh.read_params({**namespace, **changes}, ranges=declared_ranges(notebook), cell_source=cell)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


REAL = np.array([[2.0], [-0.5], [0.3], [1.5]], dtype="float32")
FAKE = np.array([[-1.0], [0.7], [-2.5], [0.1]], dtype="float32")

# Each loss written out from its paper's formula on probabilities / raw scores, in float64.
EXPECTED_D = {
    "ns": np.mean(-np.log(sigmoid(REAL))) + np.mean(-np.log(1 - sigmoid(FAKE))),
    "mm": np.mean(-np.log(sigmoid(REAL))) + np.mean(-np.log(1 - sigmoid(FAKE))),
    "lsgan": 0.5 * np.mean((REAL - 1) ** 2) + 0.5 * np.mean(FAKE ** 2),
    "hinge": np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE)),
}
EXPECTED_G = {
    "ns": np.mean(-np.log(sigmoid(FAKE))),
    "mm": np.mean(np.log(1 - sigmoid(FAKE))),
    "lsgan": 0.5 * np.mean((FAKE - 1) ** 2),
    "hinge": -np.mean(FAKE),
}


@pytest.mark.parametrize("loss", ["ns", "mm", "lsgan", "hinge"])
def test_each_loss_matches_its_formula_on_known_logits(nb, loss):
    d = keras.ops.convert_to_numpy(nb.discriminator_loss(loss, REAL, FAKE))
    g = keras.ops.convert_to_numpy(nb.generator_loss(loss, FAKE))
    np.testing.assert_allclose(d, EXPECTED_D[loss], rtol=1e-5)
    np.testing.assert_allclose(g, EXPECTED_G[loss], rtol=1e-5)


def test_the_losses_differ_where_the_papers_say(nb):
    # ns and mm: the same discriminator game, generators whose gradients differ (mm's vanishes for
    # confidently rejected fakes, ns's does not).
    fake = tf.constant([[-6.0]])
    grads = {}
    for loss in ("ns", "mm"):
        with tf.GradientTape() as tape:
            tape.watch(fake)
            value = nb.generator_loss(loss, fake)
        grads[loss] = float(tape.gradient(value, fake)[0, 0])
    assert abs(grads["mm"]) < 0.01 < abs(grads["ns"])
    with pytest.raises(ValueError, match="wasserstein"):
        nb.discriminator_loss("wasserstein", REAL, FAKE)


def test_unknown_loss_or_norm_is_refused_by_the_parameters_check(nb):
    assert check_parameters("dcgan_mnist.ipynb")["loss"] == "ns"  # the defaults pass
    for name, bad, allowed in (("loss", "wgan", "'ns', 'mm', 'lsgan', 'hinge'"),
                               ("d_norm", "layer", "'batch', 'spectral', 'none'")):
        with pytest.raises(ValueError, match=f"Parameter {name}='{bad}' is not allowed. Choose one of: {allowed}"):
            check_parameters("dcgan_mnist.ipynb", **{name: bad})


def spectral_kernels(model):
    return [layer.layer.kernel for layer in model.layers if isinstance(layer, keras.layers.SpectralNormalization)]


def test_spectral_norm_wraps_every_weighted_layer_and_drops_batchnorm(nb):
    spectral = nb.build_discriminator(0.0, "spectral")
    assert len(spectral_kernels(spectral)) == 4  # two convolutions, two dense layers
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in spectral.layers)
    batch = nb.build_discriminator(0.0, "batch")
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in batch.layers) == 2
    none = nb.build_discriminator(0.0, "none")
    assert not any(isinstance(layer, (keras.layers.BatchNormalization, keras.layers.SpectralNormalization))
                   for layer in none.layers)


def test_spectrally_normalized_layers_have_largest_singular_value_near_one(nb):
    keras.utils.set_random_seed(0)
    discriminator = nb.build_discriminator(0.0, "spectral")
    images = np.random.default_rng(0).uniform(-1, 1, (BATCH, 28, 28, 1)).astype("float32")
    before = [np.linalg.svd(keras.ops.convert_to_numpy(k).reshape(-1, k.shape[-1]), compute_uv=False)[0]
              for k in spectral_kernels(discriminator)]
    assert max(abs(s - 1) for s in before) > 0.5  # initialised kernels are far from norm 1
    for _ in range(60):  # each training-mode call runs one power iteration and rescales the kernel
        discriminator(images, training=True)
    for kernel in spectral_kernels(discriminator):
        matrix = keras.ops.convert_to_numpy(kernel).reshape(-1, kernel.shape[-1])
        assert np.linalg.svd(matrix, compute_uv=False)[0] == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("loss, norm", [("hinge", "spectral"), ("lsgan", "none"), ("mm", "batch")])
def test_a_training_step_runs_for_each_norm_and_keeps_float32_logits(nb, loss, norm):
    keras.utils.set_random_seed(0)
    gan = nb.GAN(nb.build_generator(LATENT), nb.build_discriminator(0.0, norm), LATENT, 0, loss=loss)
    adam = lambda: keras.optimizers.Adam(1e-3, beta_1=0.5)  # noqa: E731
    gan.compile(d_optimizer=adam(), g_optimizer=adam())
    images = np.random.default_rng(0).uniform(-1, 1, (BATCH, 28, 28, 1)).astype("float32")
    data = tf.data.Dataset.from_tensors((images, np.zeros(BATCH, "float32"))).repeat()
    history = gan.fit(data, steps_per_epoch=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0]) and np.isfinite(history.history["g_loss"][0])
    assert gan.discriminator(images).dtype == "float32"


def test_spectral_discriminator_keeps_float32_logits_under_mixed_precision(nb):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        discriminator = nb.build_discriminator(0.0, "spectral")
        images = np.zeros((2, 28, 28, 1), "float32")
        assert discriminator(images, training=True).dtype == "float32"
    finally:
        keras.config.set_dtype_policy(previous)
