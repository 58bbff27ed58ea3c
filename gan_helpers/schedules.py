"""Learning rates that fall to 0 over a run, whether the run is measured in epochs or in minutes.

A GAN trained at a constant learning rate stops improving at some point and wanders around a
solution (on CIFAR-10 at 32 px the DCGAN's Fréchet distance stopped falling after 25 of 60
minutes). Letting the rates fall linearly to 0 by the end of the run shrinks those steps, as in
SN-GAN's and the CycleGAN's recipes. A notebook's run ends after ``epochs`` or, with the
parameter ``train_minutes``, after that much training time over every session, whichever comes
first; `LinearDecay` follows the one that is further along, so the rate reaches 0 when the run ends.
Counted in epochs the schedule depends only on the step, so a resumed run trains exactly as an
uninterrupted one; counted in minutes it depends on how fast this machine trains, like the
run's end itself.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import keras


class LinearDecay(keras.callbacks.Callback):
    """Keras callback: before every step, each optimizer's learning rate is ``start × (1 − done)``.

    ``done`` is the fraction of the run trained before this step: steps over ``total_epochs ×
    steps_per_epoch``, or (with ``train_minutes`` > 0) training seconds over ``train_minutes``,
    counting ``trained_seconds`` from earlier sessions; the larger of the two. ``rates`` pairs
    each optimizer with its start rate (the parameter, not the optimizer's current value, which a
    restored checkpoint has already decayed). After each epoch the logs get ``learning_rate_scale``,
    the fraction ``1 − done`` of the start rates used by its last step (a column of metrics.csv
    when this callback comes before the run's callbacks). ``clock`` (seconds) is for tests.
    """

    def __init__(self, rates: Sequence[tuple[keras.optimizers.Optimizer, float]], steps_per_epoch: int,
                 total_epochs: int, train_minutes: float = 0.0, trained_seconds: float = 0.0,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__()
        for optimizer, rate in rates:
            if not rate > 0:
                raise ValueError(f"Start learning rate {rate!r} for {optimizer.name}: it must be above 0.")
        self.rates = list(rates)
        self.total_steps = steps_per_epoch * total_epochs
        self.steps_per_epoch = steps_per_epoch
        self.train_seconds = train_minutes * 60
        self.trained_seconds = trained_seconds
        self.clock = clock
        self.session_started: float | None = None  # the first fit() of this session (a resumed epoch takes two)

    def done(self, step: int) -> float:
        """The fraction of the run trained before global ``step`` (0 to 1)."""
        fraction = step / self.total_steps if self.total_steps else 0.0
        if self.train_seconds:
            now = self.clock()
            seconds = self.trained_seconds + now - (now if self.session_started is None else self.session_started)
            fraction = max(fraction, seconds / self.train_seconds)
        return min(1.0, max(0.0, fraction))

    def on_train_begin(self, logs=None):
        if self.session_started is None:
            self.session_started = self.clock()

    def on_epoch_begin(self, epoch, logs=None):
        # Keras numbers the steps of each fit() call from 0; a resumed epoch runs only its rest.
        self.first_step = epoch * self.steps_per_epoch + self.steps_per_epoch - self.params["steps"]

    def on_train_batch_begin(self, batch, logs=None):
        left = 1.0 - self.done(self.first_step + batch)
        for optimizer, rate in self.rates:
            optimizer.learning_rate = rate * left

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:  # a column of metrics.csv (the metrics log comes later in the callback list)
            optimizer, rate = self.rates[0]
            logs["learning_rate_scale"] = self.current_rates()[0] / rate

    def current_rates(self) -> list[float]:
        """Each optimizer's learning rate now (for the metrics log and tests)."""
        return [float(keras.ops.convert_to_numpy(optimizer.learning_rate)) for optimizer, _ in self.rates]
