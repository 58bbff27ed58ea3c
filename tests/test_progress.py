"""Training progress: one line per epoch, and a live line that an executed notebook keeps only once."""

from __future__ import annotations

import io
import json

import keras
import nbformat
import numpy as np
import papermill as pm
import pytest

import gan_helpers as gh
from gan_helpers.progress import format_seconds


def tiny_fit(epochs: int, steps: int, callback: keras.callbacks.Callback) -> None:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((steps * 2, 3), "float32"), np.zeros((steps * 2, 1), "float32")
    model.fit(x, y, batch_size=2, epochs=epochs, verbose=0, callbacks=[callback])


def test_outside_a_notebook_one_line_per_epoch_with_its_losses():
    out = io.StringIO()
    tick = iter(range(10_000))
    progress = gh.TrainingProgress(3, 20, every_seconds=5, notebook=False, stream=out, clock=lambda: next(tick))
    tiny_fit(3, 20, progress)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all("loss " in line for line in lines)
    # a clock that ticks once per call: after steps 5, 10, 15 and 20 of each epoch, not in between
    assert progress.updates == 3 * 4


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 75, 3725)] == ["0:00", "1:15", "1:02:05"]


CELL = """
import keras, numpy as np
import gan_helpers as gh
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
x, y = np.zeros((steps * 2, 3), "float32"), np.zeros((steps * 2, 1), "float32")
model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[gh.TrainingProgress(2, steps, every_seconds=0)])
"""

# The reference: a progress line per step, as Keras's own bar (verbose=1) writes once steps take longer than
# its 0.05 s refresh (any real GAN step). Printed by a callback so that it does not depend on the machine's speed.
REFERENCE_CELL = """
line_per_step = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: print(f"step {batch}: loss {logs['loss']:.4f}"))
model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[line_per_step])
"""


def test_an_executed_notebook_does_not_grow_with_the_number_of_steps(tmp_path):
    """Run by papermill, 40 and 400 steps leave notebooks of the same size with TrainingProgress;
    a line per step (the reference, in the same notebook) grows by one line per step, so the measurement sees growth."""
    ours, reference = [], []
    for steps in (40, 400):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"steps = {steps}"),
                                                   nbformat.v4.new_code_cell(CELL),
                                                   nbformat.v4.new_code_cell(REFERENCE_CELL)])
        source, output = tmp_path / "in.ipynb", tmp_path / f"out{steps}.ipynb"
        nbformat.write(notebook, source)
        pm.execute_notebook(str(source), str(output), kernel_name="python3", progress_bar=False)
        cells = json.loads(output.read_text())["cells"]
        ours.append(len(json.dumps(cells[1]["outputs"])))
        reference.append(len(json.dumps(cells[2]["outputs"])))
    assert reference[1] > reference[0] + 2 * 360 * 15, reference  # two epochs of 360 more lines of >= 15 characters
    assert abs(ours[1] - ours[0]) < 200, ours
    outputs = cells[1]["outputs"]
    texts = ["".join(o["data"]["text/plain"]) for o in outputs if o["output_type"] == "display_data"]
    assert len(texts) == 2 and texts[1].startswith("epoch 2/2: loss")  # each epoch ends as its summary line
