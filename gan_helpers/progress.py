"""Training progress that fits the place it is shown in.

Keras's progress bar redraws itself by writing a new line of text at every step. A browser
shows only the newest, but a notebook executed by papermill (sweeps, batch runs) keeps every
one: hundreds of kilobytes per thousand steps, megabytes per run. `TrainingProgress` shows the
same live line as a notebook *display* that each update replaces (Jupyter, Colab and papermill
all keep only its newest state), so the notebook's size does not grow with the number of
steps, and leaves one permanent line per epoch with its losses, time and speed. Outside a
notebook it prints that line per epoch (and redraws a live line on a terminal).

    gan.fit(..., verbose=0, callbacks=[*callbacks, gh.TrainingProgress(epochs, steps_per_epoch)])
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any, Callable

import keras


def format_logs(logs: dict[str, Any] | None) -> str:
    """``{"d_loss": 0.6931, "g_loss": 1.2}`` -> ``"d_loss 0.693 · g_loss 1.2"``."""
    return " · ".join(f"{name} {float(value):.3g}" for name, value in (logs or {}).items())


def format_seconds(seconds: float) -> str:
    """``75`` -> ``"1:15"``, ``3725`` -> ``"1:02:05"``."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def in_notebook() -> bool:
    """True inside an IPython kernel (Jupyter, Colab, papermill, nbval), where displays can be replaced."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class LiveLine:
    """One line of text that is replaced on every `show` (a notebook display, or ``\\r`` on a terminal)."""

    def __init__(self, notebook: bool | None = None, stream=None):
        self.notebook = in_notebook() if notebook is None else notebook
        self.stream = stream or sys.stdout
        self.terminal = not self.notebook and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.display_id = uuid.uuid4().hex
        self.shown = False

    def show(self, text: str, fraction: float | None = None) -> None:
        """Replace the line by ``text``; ``fraction`` (0..1) adds a bar in a notebook."""
        if self.notebook:
            from IPython.display import display, update_display

            bar = f'<progress value="{fraction:.4f}" max="1" style="width:12em"></progress> ' if fraction is not None else ""
            bundle = {"text/plain": text, "text/html": f"<pre style='margin:0'>{bar}{_escape(text)}</pre>"}
            (update_display if self.shown else display)(bundle, raw=True, display_id=self.display_id)
        elif self.terminal:
            self.stream.write("\r" + text[:200].ljust(80))
            self.stream.flush()
        self.shown = True

    def close(self, text: str) -> None:
        """Show ``text`` as the line's final state and move on (the next line starts below it)."""
        if self.notebook:
            self.show(text)
        else:
            self.stream.write(("\r" if self.terminal else "") + text + "\n")
            self.stream.flush()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class TrainingProgress(keras.callbacks.Callback):
    """Keras callback: a live line per epoch (step, losses, elapsed and remaining time), updated
    at most every ``every_seconds`` and replaced in place, that ends as the epoch's summary line.

    Use it with ``fit(..., verbose=0)``. ``clock`` is for tests (default ``time.monotonic``).
    """

    def __init__(self, epochs: int, steps_per_epoch: int, every_seconds: float = 1.0,
                 notebook: bool | None = None, stream=None, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.every_seconds = every_seconds
        self.notebook = notebook
        self.stream = stream
        self.clock = clock
        self.updates = 0  # how often the live line was redrawn (tests read it)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.line = LiveLine(self.notebook, self.stream)
        self.started = self.last_shown = self.clock()
        self.line.show(f"epoch {self.epoch}/{self.epochs}: starting", 0.0)

    def on_train_batch_end(self, batch, logs=None):
        now = self.clock()
        if now - self.last_shown < self.every_seconds:
            return
        self.last_shown = now
        skipped = self.steps_per_epoch - self.params.get("steps", self.steps_per_epoch)  # a resumed epoch's first steps
        done = skipped + batch + 1
        elapsed = now - self.started
        remaining = elapsed / (batch + 1) * (self.steps_per_epoch - done)
        self.line.show(f"epoch {self.epoch}/{self.epochs}: step {done}/{self.steps_per_epoch} · {format_logs(logs)} · "
                       f"{format_seconds(elapsed)} elapsed, {format_seconds(remaining)} left",
                       done / self.steps_per_epoch)
        self.updates += 1

    def on_epoch_end(self, epoch, logs=None):
        seconds = self.clock() - self.started
        self.line.close(f"epoch {self.epoch}/{self.epochs}: {format_logs(logs)} · {format_seconds(seconds)}")
