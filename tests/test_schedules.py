"""Learning rates that fall linearly to 0 over a run (gan_helpers.schedules) and the defaults by kind of data."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import gan_helpers as gh

RATE = 0.01
STEPS_PER_EPOCH = 4


class RateRecorder(keras.Model):
    """A one-weight model whose train step reports the learning rate its optimizer applies, read
    inside the compiled step (a rate baked in at tracing time would show as a constant)."""

    def __init__(self):
        super().__init__()
        self.weight = self.add_weight(shape=(), initializer="zeros")

    def train_step(self, data):
        with_grad = [(keras.ops.convert_to_tensor(1.0), self.weight)]
        rate = keras.ops.convert_to_tensor(self.optimizer.learning_rate)
        self.optimizer.apply(*zip(*with_grad))
        return {"rate": rate}


class Collect(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.rates = []

    def on_train_batch_end(self, batch, logs=None):
        self.rates.append(float(logs["rate"]))


def fit(epochs: int, total_epochs: int, initial_epoch: int = 0, steps: int = STEPS_PER_EPOCH, **decay_options):
    model = RateRecorder()
    model.compile(optimizer=keras.optimizers.SGD(RATE))
    decay = gh.LinearDecay([(model.optimizer, RATE)], STEPS_PER_EPOCH, total_epochs, **decay_options)
    collect = Collect()
    model.fit(np.zeros((steps, 1), "float32"), batch_size=1, epochs=epochs, initial_epoch=initial_epoch,
              shuffle=False, verbose=0, callbacks=[decay, collect])
    return collect.rates


def test_rate_falls_linearly_to_zero_over_the_epochs():
    rates = fit(epochs=2, total_epochs=2)
    expected = [RATE * (1 - step / 8) for step in range(8)]
    np.testing.assert_allclose(rates, expected, rtol=1e-6)


def test_each_epoch_logs_the_scale_of_its_last_step():
    model = RateRecorder()
    model.compile(optimizer=keras.optimizers.SGD(RATE))
    history = model.fit(np.zeros((STEPS_PER_EPOCH, 1), "float32"), batch_size=1, epochs=2, shuffle=False, verbose=0,
                        callbacks=[gh.LinearDecay([(model.optimizer, RATE)], STEPS_PER_EPOCH, 2)])
    np.testing.assert_allclose(history.history["learning_rate_scale"], [1 - 3 / 8, 1 - 7 / 8], rtol=1e-6)


def test_a_resumed_run_continues_the_schedule_where_it_stood():
    straight = fit(epochs=3, total_epochs=3)
    later_epochs = fit(epochs=3, total_epochs=3, initial_epoch=1)  # resumed after epoch 1
    rest_of_epoch = fit(epochs=2, total_epochs=3, initial_epoch=1, steps=1)  # resumed at step 3 of epoch 1
    np.testing.assert_allclose(later_epochs, straight[4:], rtol=1e-6)
    np.testing.assert_allclose(rest_of_epoch, straight[7:8], rtol=1e-6)


def test_minutes_count_when_they_are_further_along_than_the_epochs():
    clock = iter(range(0, 1000, 3)).__next__  # 3 s later at every call
    rates = fit(epochs=1, total_epochs=100, train_minutes=1.0, trained_seconds=30.0, clock=clock)
    done = [(RATE - rate) / RATE for rate in rates]
    assert done[0] == pytest.approx(0.5, abs=0.06)  # 30 s of 60 before this session
    assert all(later > earlier for earlier, later in zip(done, done[1:]))  # time goes on
    assert max(done) < 1.0
    assert done[-1] > STEPS_PER_EPOCH / (100 * STEPS_PER_EPOCH)  # far more than the epochs' share


def test_a_zero_start_rate_is_refused():
    with pytest.raises(ValueError, match="above 0"):
        gh.LinearDecay([(keras.optimizers.SGD(RATE), 0.0)], STEPS_PER_EPOCH, 2)


@pytest.mark.parametrize("dataset, kind", [("mnist", "grey"), ("fashion_mnist", "grey"), ("cifar10", "colour"),
                                           ("folder", "colour")])
def test_zero_rates_and_auto_decay_take_the_measured_values_for_the_data(dataset, kind):
    params = {"dataset": dataset, "g_learning_rate": 0.0, "d_learning_rate": 3e-4, "lr_decay": "auto", "seed": 0}
    filled = gh.with_training_defaults(params)
    assert filled["g_learning_rate"] == gh.TRAINING_DEFAULTS[kind]["g_learning_rate"]
    assert filled["d_learning_rate"] == 3e-4  # set by the user: kept
    assert filled["lr_decay"] == gh.TRAINING_DEFAULTS[kind]["lr_decay"]
    assert filled["seed"] == 0 and params["g_learning_rate"] == 0.0  # the rest untouched, the input unchanged
