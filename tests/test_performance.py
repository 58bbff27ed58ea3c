"""The speed switches: which precision and XLA setting each kind of device gets, and loss scaling."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import gan_helpers as gh
from gan_helpers.performance import cpu_has_native_bf16


@pytest.mark.parametrize("capability, expected", [
    ((7, 5), "mixed_float16"),   # T4: tensor cores for float16 only
    ((7, 0), "mixed_float16"),   # V100
    ((8, 0), "mixed_bfloat16"),  # A100
    ((8, 9), "mixed_bfloat16"),  # L4
    ((9, 0), "mixed_bfloat16"),  # H100
    ((6, 0), "float32"),         # P100: no tensor cores
])
def test_auto_precision_on_gpus(capability, expected):
    assert gh.choose_precision("auto", gpu_capability=capability) == expected


@pytest.mark.parametrize("cpu_bf16, expected", [(True, "mixed_bfloat16"), (False, "float32")])
def test_auto_precision_on_cpus(cpu_bf16, expected):
    assert gh.choose_precision("auto", gpu_capability=None, cpu_bf16=cpu_bf16) == expected


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16", "mixed_float16"])
def test_explicit_precision_is_kept(precision):
    assert gh.choose_precision(precision, gpu_capability=(8, 0)) == precision


def test_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"precision='fp8'.*auto"):
        gh.choose_precision("fp8")


def test_cpu_bf16_is_read_from_the_flags(tmp_path):
    with_bf16 = tmp_path / "a"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_tile\n")
    without = tmp_path / "b"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 fma\nbugs\t\t: avx512_bf16_is_not_a_flag_here\n")
    assert cpu_has_native_bf16(with_bf16)
    assert not cpu_has_native_bf16(without)
    assert not cpu_has_native_bf16(tmp_path / "missing")


def test_jit_compile_choices():
    assert gh.choose_jit_compile("auto", has_gpu=True) is True
    assert gh.choose_jit_compile("auto", has_gpu=False) is False
    assert gh.choose_jit_compile("on", has_gpu=False) is True
    assert gh.choose_jit_compile("off", has_gpu=True) is False
    with pytest.raises(ValueError, match=r"jit_compile='yes'"):
        gh.choose_jit_compile("yes")


def test_set_precision_sets_the_policy_layers_are_built_with():
    try:
        assert gh.set_precision("mixed_bfloat16") == "mixed_bfloat16"
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
        assert layer.compute_dtype == "bfloat16" and layer.kernel.dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_loss_scaling_only_for_float16():
    assert isinstance(gh.with_loss_scaling(keras.optimizers.Adam(), "mixed_float16"),
                      keras.optimizers.LossScaleOptimizer)
    for policy in ("float32", "mixed_bfloat16"):
        optimizer = keras.optimizers.Adam()
        assert gh.with_loss_scaling(optimizer, policy) is optimizer


def test_scaled_float16_step_updates_weights_that_an_unscaled_one_loses():
    """The train-step pattern of the notebooks: gradients of ``scale_loss(loss)``, applied by the
    LossScaleOptimizer, reach weights whose float16 gradients would underflow to zero unscaled."""
    try:
        keras.mixed_precision.set_global_policy("mixed_float16")
        x = tf.ones((4, 8))

        def one_step(optimizer):
            keras.utils.set_random_seed(0)
            hidden = keras.layers.Dense(8, use_bias=False)
            out = keras.layers.Dense(1, use_bias=False, dtype="float32")
            hidden.build((None, 8)), out.build((None, 8))
            variables = hidden.trainable_variables
            optimizer.build(variables)
            before = hidden.kernel.numpy().copy()
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(out(hidden(x))) * 1e-9  # float16 gradients of this underflow
                scaled_loss = optimizer.scale_loss(loss)  # inside the tape, or it is not differentiated
            grads = tape.gradient(scaled_loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
            return np.abs(hidden.kernel.numpy() - before).max()

        assert one_step(gh.with_loss_scaling(keras.optimizers.SGD(1e6), "mixed_float16")) > 0
        assert one_step(keras.optimizers.SGD(1e6)) == 0
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("steps_per_execution", [1, 4])
def test_images_per_second_counts_every_step_with_steps_per_execution(tmp_path, steps_per_execution):
    from gan_helpers.runs import EpochMetricsLog, read_metrics

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=steps_per_execution)
    x, y = np.zeros((48, 3), "float32"), np.zeros((48, 1), "float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0,
              callbacks=[EpochMetricsLog(tmp_path / "metrics.csv", images_per_step=4)])
    row = read_metrics(tmp_path / "metrics.csv")[0]
    # 12 steps of 4 images; both figures are rounded (0.1 image/s, 1 ms), so allow that much
    assert row["images_per_sec"] * row["seconds"] == pytest.approx(48, abs=0.05 * row["seconds"] + 0.0005 * row["images_per_sec"] + 0.01)


@pytest.mark.parametrize("notebook", ["simple_gan_mnist.ipynb", "dcgan_mnist.ipynb"])
def test_mnist_generators_built_in_mixed_precision_give_float32_images(notebook):
    """Under mixed_bfloat16 (``auto`` on bf16 CPUs, A100/L4/H100) the images reach the metrics and grids as float32."""
    from notebook_code import notebook_definitions

    definitions = notebook_definitions(notebook)
    try:
        gh.set_precision("mixed_bfloat16")
        generator = definitions.build_generator(8)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    noise = np.zeros((2, 8), "float32")
    assert keras.ops.convert_to_numpy(generator(noise, training=False)).dtype == np.float32
    assert gh.generate_images(generator, 3, 8, seed=0).dtype == np.float32


def test_generate_images_gives_float32_for_a_bfloat16_output_layer():
    try:
        gh.set_precision("mixed_bfloat16")
        generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(784, activation="tanh"),
                                      keras.layers.Reshape((28, 28, 1))])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert keras.ops.convert_to_numpy(generator(np.zeros((1, 4), "float32"))).dtype != np.float32  # bfloat16
    images = gh.generate_images(generator, 5, 4, seed=0)
    assert images.dtype == np.float32 and images.shape == (5, 28, 28, 1)


def test_a_checkpoint_moves_between_float16_loss_scaling_and_the_other_precisions(tmp_path):
    """A run may change `precision` between sessions (a T4's float16 one day, bf16 or float32 the
    next): the weights and Adam's moments carry over both ways, and the loss scale when both scale."""
    def trained(optimizer, steps):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile(optimizer=optimizer, loss="mse")
        x, y = np.random.rand(8, 3).astype("float32"), np.random.rand(8, 2).astype("float32")
        if steps:
            model.fit(x, y, batch_size=4, epochs=steps // 2, verbose=0)
        else:
            model.optimizer.build(model.trainable_variables)
        return model

    def state(model):
        inner = getattr(model.optimizer, "inner_optimizer", model.optimizer)
        return [v.numpy().copy() for v in model.variables + inner.variables]

    scaled = trained(keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.1), initial_scale=64.0), steps=4)
    scaled.optimizer.dynamic_scale.assign(8.0)
    gh.save_checkpoint(tmp_path / "scaled.npz", scaled, epoch=2)
    plain = trained(keras.optimizers.Adam(0.1), steps=0)
    assert gh.load_checkpoint(tmp_path / "scaled.npz", plain) == 2
    assert all(np.array_equal(a, b) for a, b in zip(state(plain), state(scaled)))

    gh.save_checkpoint(tmp_path / "plain.npz", plain, epoch=2)
    again = trained(keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.1), initial_scale=64.0), steps=0)
    gh.load_checkpoint(tmp_path / "plain.npz", again)
    assert all(np.array_equal(a, b) for a, b in zip(state(again), state(scaled)))
    assert float(again.optimizer.dynamic_scale.numpy()) == 64.0  # no scale saved: it starts afresh

    gh.load_checkpoint(tmp_path / "scaled.npz", again)
    assert float(again.optimizer.dynamic_scale.numpy()) == 8.0  # both scale: the scale carries over
