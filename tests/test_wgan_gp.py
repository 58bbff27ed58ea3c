"""The WGAN-GP notebook's own model code (its cells tagged "definitions"): penalty, critic steps, resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import gan_helpers as gh
from notebook_code import notebook_definitions
from test_dcgan_variants import check_parameters

RESUME_CHECK = Path(__file__).with_name("resume_check.py")


def resume_check(model: str, data_dir, folder) -> dict:
    """Run tests/resume_check.py (a process of its own: see its docstring) and return its result."""
    done = subprocess.run([sys.executable, str(RESUME_CHECK), model, str(data_dir), str(folder)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout[done.stdout.index("RESULT ") + 7:])

LATENT = 8
BATCH = 4
N_CRITIC = 2


@pytest.fixture(scope="module")
def nb():
    return notebook_definitions("wgan_gp_mnist.ipynb")


def linear_critic(w: np.ndarray) -> keras.Model:
    critic = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    critic.layers[-1].kernel.assign(w.reshape(-1, 1))
    return critic


@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
def test_gradient_penalty_of_a_linear_critic_is_exactly_its_analytic_value(nb, scale):
    rng = np.random.default_rng(0)
    w = rng.normal(size=28 * 28).astype("float32")
    w *= scale / np.linalg.norm(w)  # ‖w‖ = scale
    real, fake = (rng.uniform(-1, 1, (BATCH, 28, 28, 1)).astype("float32") for _ in range(2))
    alpha = rng.uniform(size=(BATCH, 1, 1, 1)).astype("float32")
    penalty, norm = nb.gradient_penalty(linear_critic(w), tf.constant(real), tf.constant(fake), tf.constant(alpha))
    assert float(penalty) == pytest.approx((scale - 1) ** 2, abs=1e-5)
    assert float(norm) == pytest.approx(scale, rel=1e-5)


def test_gradient_penalty_is_taken_between_real_and_fake(nb):
    # A critic f(x) = ½‖x‖² has gradient x: at α = 1 the penalty sees the real images, at α = 0 the fakes.
    critic = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                               keras.layers.Lambda(lambda x: 0.5 * keras.ops.sum(x * x, axis=1, keepdims=True))])
    real = tf.fill((2, 28, 28, 1), 0.1)  # norm 2.8
    fake = tf.zeros((2, 28, 28, 1))
    ones, zeros = tf.ones((2, 1, 1, 1)), tf.zeros((2, 1, 1, 1))
    assert float(nb.gradient_penalty(critic, real, fake, ones)[1]) == pytest.approx(2.8, rel=1e-4)
    assert float(nb.gradient_penalty(critic, real, fake, zeros)[1]) == pytest.approx(0.0, abs=1e-4)


def make_gan(nb, seed: int = 0, ema_decay: float = 0.5):
    keras.utils.set_random_seed(seed)
    gan = nb.WGANGP(nb.build_generator(LATENT), nb.build_critic("layer"), LATENT, seed, n_critic=N_CRITIC,
                    gp_weight=10.0, ema_decay=ema_decay)
    adam = lambda: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)  # noqa: E731
    gan.compile(c_optimizer=adam(), g_optimizer=adam())
    return gan


def test_the_critic_takes_n_critic_steps_per_generator_step_and_logs_its_estimate(nb, tiny_mnist_dir):
    gan = make_gan(nb)
    images, labels = gh.load_mnist_family("mnist", "train", cache_dir="/nonexistent", data_dir=tiny_mnist_dir, limit=32)
    data = gh.make_dataset(images, labels, N_CRITIC * BATCH, seed=0)
    history = gan.fit(data, steps_per_epoch=3, epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 3
    assert int(gan.c_optimizer.iterations) == 3 * N_CRITIC
    for name in ("c_loss", "g_loss", "wasserstein", "grad_norm"):
        assert np.isfinite(history.history[name][0]), name
    assert history.history["grad_norm"][0] > 0


def test_critic_has_no_batchnorm(nb):
    for norm, layer_norms in (("layer", 2), ("none", 0)):
        critic = nb.build_critic(norm)
        assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in critic.layers)
        assert sum(isinstance(layer, keras.layers.LayerNormalization) for layer in critic.layers) == layer_norms


def test_resume_equals_an_uninterrupted_run(tiny_mnist_dir, tmp_path):
    """2 epochs straight == 1 epoch, checkpoint, a fresh model restored from it, 1 more epoch: every
    weight, the averaged generator, both optimizers and the critic's step counter, bit for bit."""
    result = resume_check("wgan_gp", tiny_mnist_dir, tmp_path)
    steps = result["steps_per_epoch"]
    assert result["restored_counters"] == {"c_optimizer": steps * N_CRITIC, "g_optimizer": steps}
    assert result["resumed_counters"] == result["straight_counters"] == {"c_optimizer": 2 * steps * N_CRITIC,
                                                                         "g_optimizer": 2 * steps}
    assert result["same_keys"] and result["second_epoch_changed"]
    assert result["max_difference"] == 0.0


def test_bad_parameters_are_refused_before_training():
    assert check_parameters("wgan_gp_mnist.ipynb")["n_critic"] >= 1  # the defaults pass
    with pytest.raises(ValueError, match="Parameter n_critic=0 is out of range: it must be at least 1"):
        check_parameters("wgan_gp_mnist.ipynb", n_critic=0)
    with pytest.raises(ValueError, match="Parameter critic_norm='batch' is not allowed. Choose one of: 'layer', 'none'"):
        check_parameters("wgan_gp_mnist.ipynb", critic_norm="batch")
    with pytest.raises(ValueError, match="Parameter lr_decay='cosine' is not allowed. Choose one of: 'none', 'linear'"):
        check_parameters("wgan_gp_mnist.ipynb", lr_decay="cosine")
    with pytest.raises(ValueError, match="Parameter gp_weight=-1.0 is out of range"):
        check_parameters("wgan_gp_mnist.ipynb", gp_weight=-1.0)
