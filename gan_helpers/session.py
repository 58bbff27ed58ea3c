"""A training session that ends well: a time budget, checkpoints inside an epoch, and the stop button.

Colab ends a session after at most 12 hours (often sooner, and sooner still when idle), a
disconnect can come at any moment, and the stop button interrupts a cell wherever it is.
`gan_helpers.Run.fit` trains with a `SessionControl` callback, which

- writes a checkpoint every ``checkpoint_every`` minutes, at a step boundary, so a disconnect
  loses at most that much training (an epoch of a CycleGAN at 256 px takes tens of minutes);
- stops at the first step boundary past ``time_budget`` minutes of training, after a checkpoint;
- turns the stop button (an interrupt: SIGINT) into a checkpoint at the end of the current step,
  then stops; interrupting a second time stops at once, without one;
- ends the run at the first step boundary past ``train_minutes`` of training in all (over every
  session), after a checkpoint: that epoch becomes the last one (its metrics row, sample grid and
  evaluation are written as for any last epoch, its end-of-epoch checkpoint is not), ``fit``
  returns, and the notebook goes on to evaluate the run (a leaderboard gives every model the same
  training time so).

A session that stops before the run is done raises `TrainingPaused`: the notebook's *Run all*
ends there with a short message (no traceback), so nothing after the training cell runs on a
half-trained model. Running the notebook again continues from the checkpoint, exactly where
the session stopped: the data pipeline skips the steps already done in that epoch.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Callable, Iterator

import keras

from .checkpoints import CheckpointFolder, Position


class TrainingPaused(Exception):
    """Training stopped before the run was done (time budget, stop button), after a checkpoint.
    Running the notebook again continues from it."""

    def _render_traceback_(self) -> list[str]:
        """What IPython (Jupyter, Colab, papermill) shows instead of a traceback."""
        return [f"TrainingPaused: {self}"]


class SessionControl(keras.callbacks.Callback):
    """Keras callback: mid-epoch checkpoints, the time budget and the stop button (see the module).

    Put it last in the callback list, after the one that writes the end-of-epoch checkpoint.
    ``epoch_seconds`` is the time the restored, unfinished epoch took in earlier sessions (kept
    in each mid-epoch checkpoint). ``train_seconds_left``: what remains of the run's ``train_minutes``
    (None: no limit). ``clock`` (seconds) is for tests.
    """

    def __init__(self, checkpoints: CheckpointFolder, steps_per_epoch: int, total_epochs: int,
                 time_budget_minutes: float = 0, checkpoint_every_minutes: float = 0,
                 epoch_seconds: float = 0.0, train_seconds_left: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.checkpoints = checkpoints
        self.steps_per_epoch, self.total_epochs = steps_per_epoch, total_epochs
        self.time_budget = time_budget_minutes * 60
        self.checkpoint_every = checkpoint_every_minutes * 60
        self.train_seconds_left = train_seconds_left
        self.clock = clock
        self.started = self.last_saved = clock()
        self.carried_seconds = epoch_seconds
        self.interrupted = False
        self.stopped: tuple[str, Position] | None = None  # why and where, once stopped
        self.ended: Position | None = None  # where, once train_minutes are used up

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        # Keras numbers the steps of each fit() call from 0; a resumed epoch runs only its rest.
        self.skipped = self.steps_per_epoch - self.params["steps"]
        self.epoch_started = self.clock() - (self.carried_seconds if self.skipped else 0.0)

    def on_train_batch_end(self, batch, logs=None):
        step = self.skipped + batch + 1
        if self.time_is_up() and not self.ended:
            if step < self.steps_per_epoch:
                self.save(step)
            self.end(Position(self.epoch, step) if step < self.steps_per_epoch else Position(self.epoch + 1, 0))
            return
        if step >= self.steps_per_epoch:
            return  # the epoch's end: its own checkpoint comes in on_epoch_end
        reason = self.stop_reason()
        if reason:
            self.save(step)
            self.stop(reason, Position(self.epoch, step))
        if self.checkpoint_every and self.clock() - self.last_saved >= self.checkpoint_every:
            self.save(step)

    def on_epoch_end(self, epoch, logs=None):
        self.last_saved = self.clock()  # the end-of-epoch checkpoint was just written (unless it ended early)
        if self.ended:
            return
        if self.time_is_up() and epoch + 1 < self.total_epochs:
            self.end(Position(epoch + 1, 0))
        reason = self.stop_reason()
        if reason and epoch + 1 < self.total_epochs:
            self.stop(reason, Position(epoch + 1, 0))

    def stop_reason(self) -> str | None:
        if self.interrupted:
            return "interrupted"
        if self.time_budget and self.clock() - self.started >= self.time_budget:
            return f"time budget of {self.time_budget / 60:g} minutes reached"
        return None

    def time_is_up(self) -> bool:
        """Whether the run's ``train_minutes`` are used up."""
        return self.train_seconds_left is not None and self.clock() - self.started >= self.train_seconds_left

    def save(self, step: int) -> None:
        self.checkpoints.save(self.model, self.epoch, step,
                              extra={"epoch_seconds": round(self.clock() - self.epoch_started, 3)})
        self.last_saved = self.clock()

    def stop(self, reason: str, position: Position) -> None:
        self.stopped = (reason, position)
        minutes = (self.clock() - self.started) / 60
        raise TrainingPaused(
            f"Stopped ({reason}) after {minutes:.1f} minutes of training, at {position} (of {self.total_epochs}); "
            "a checkpoint is saved. Run the notebook again to continue from there.")


    def end(self, position: Position) -> None:
        """End the run at ``position``: Keras stops after this step, and the epoch under way is the
        last one for every callback (``params["epochs"]``, which they share), so its grid and
        evaluation are written now."""
        self.ended = position
        self.model.stop_training = True
        self.params["epochs"] = self.epoch + 1


@contextlib.contextmanager
def stop_button(control: SessionControl) -> Iterator[None]:
    """While training: the first interrupt (Colab's stop button, Jupyter's ■, Ctrl-C) asks
    ``control`` to checkpoint and stop at the end of the current step; a second stops at once.
    Outside the main thread (where signals cannot be caught) it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum, frame):
        if control.interrupted:  # pressed twice: stop now
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        control.interrupted = True
        print("Interrupted: saving a checkpoint at the end of this step, then stopping "
              "(interrupt again to stop at once, without it).", flush=True)

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
