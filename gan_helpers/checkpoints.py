"""Checkpoints that resume a GAN exactly, and survive being killed mid-write.

A checkpoint holds everything a continued run needs to compute what an uninterrupted run
would have computed:

- every variable of the model (``model.variables``): generator and discriminator weights,
  BatchNorm statistics, and the states of the model's ``keras.random.SeedGenerator``\\s
  (noise and dropout), so the random numbers continue where they stopped;
- every optimizer found as an attribute of the model (e.g. ``d_optimizer``,
  ``g_optimizer``): step counter, learning rate and Adam's moment estimates;
- Python's and NumPy's global random states;
- its position: the number of completed epochs, and the steps done in the next one (a
  checkpoint written inside an epoch, e.g. every ``checkpoint_every`` minutes, or when the
  stop button or the time budget ends a session).

Data order needs no state: `gan_helpers.data.make_dataset` derives epoch e's shuffle from
``(seed, e)``, and skips the steps already done when a run resumes inside an epoch.

Files: ``epoch_0004.npz`` after 4 epochs, ``epoch_0003_step_000200.npz`` after 3 epochs and
200 steps of the 4th.

The file is one ``.npz`` (a zip with a CRC per array, so damage is detected on load). It is
written to local disk first, then copied next to its final name and renamed into place: a
process killed at any moment leaves either the old set of checkpoints or the new one, never
a half-written file under a checkpoint name. That is also how it behaves on a Google Drive
FUSE mount, where writing in place is slow and fragile.
"""

from __future__ import annotations

import json
import random
import re
import time
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import keras
import numpy as np

from .files import remove_partial_files, write_atomically

CHECKPOINT_PATTERN = re.compile(r"^epoch_(\d+)(?:_step_(\d+))?\.npz$")


class Position(NamedTuple):
    """Where training stands: ``epoch`` completed epochs and ``step`` steps of the next one."""

    epoch: int
    step: int = 0

    def __str__(self) -> str:
        return f"step {self.step} of epoch {self.epoch + 1}" if self.step else f"the end of epoch {self.epoch}"


# ---------------------------------------------------------------- what a checkpoint holds

def find_optimizers(model: keras.Model) -> dict[str, keras.optimizers.Optimizer]:
    """The optimizers a checkpoint must hold, by attribute name.

    A GAN keeps its own (``d_optimizer``, ``g_optimizer``, ...) as attributes; then the
    ``optimizer`` that ``compile()`` makes by default is unused and left out. A model with no
    optimizer attributes of its own is trained by ``model.optimizer``.
    """
    found = {name: value for name, value in vars(model).items()
             if isinstance(value, keras.optimizers.Optimizer) and name != "optimizer" and not name.startswith("_")}
    if not found and getattr(model, "optimizer", None) is not None:
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        found["optimizer"] = model.optimizer
    return dict(sorted(found.items()))


def training_state(model: keras.Model) -> list:
    """Every variable a resume must restore, in a fixed order: the model's, then each optimizer's.

    Of an optimizer wrapped for float16 loss scaling (``LossScaleOptimizer``) only the inner one's
    variables count here, so a run can continue in another precision; the loss scale is `loss_scale_state`.
    """
    variables = list(model.variables)
    for name, optimizer in find_optimizers(model).items():
        if not optimizer.built:
            raise RuntimeError(
                f"Optimizer {name!r} is not built yet, so its state cannot be saved or restored. "
                f"Build it in the model's compile(): {name}.build(<the sub-model>.trainable_variables)."
            )
        variables.extend(getattr(optimizer, "inner_optimizer", optimizer).variables)
    return variables


def loss_scale_state(model: keras.Model) -> list:
    """The variables of float16 training's dynamic loss scale (the ``LossScaleOptimizer`` wrappers'
    own), saved beside the training state and restored when the resumed run scales its loss too."""
    state = []
    for optimizer in find_optimizers(model).values():
        inner = getattr(optimizer, "inner_optimizer", None)
        if inner is not None:
            inner_ids = {id(v) for v in inner.variables}
            state.extend(v for v in optimizer.variables if id(v) not in inner_ids)
    return state


def save_checkpoint(path: str | Path, model: keras.Model, epoch: int, params: dict | None = None,
                    step: int = 0, extra: dict[str, Any] | None = None) -> Path:
    """Save ``model``'s full training state after ``epoch`` completed epochs and ``step`` steps of
    the next one, atomically.

    ``params``, the run's parameters, are kept in the meta data (so a run folder whose config.json
    is lost can still say what its checkpoints were trained with), and so is ``extra`` (e.g. the
    seconds an unfinished epoch has taken so far)."""
    variables = training_state(model)
    meta = {
        "format": 1,
        "epoch": int(epoch),
        "step": int(step),
        **({"params": params} if params is not None else {}),
        **(extra or {}),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "variables": [{"path": v.path, "shape": list(v.shape)} for v in variables],
        "python_random_state": _to_json(random.getstate()),
        "numpy_random_state": _to_json(np.random.get_state()),
    }
    arrays = {f"v{i:05d}": keras.ops.convert_to_numpy(v) for i, v in enumerate(variables)}
    scale = loss_scale_state(model)
    meta["loss_scale_variables"] = [{"path": v.path, "shape": list(v.shape)} for v in scale]
    arrays.update({f"s{i:05d}": keras.ops.convert_to_numpy(v) for i, v in enumerate(scale)})
    meta_bytes = np.frombuffer(json.dumps(meta, default=str).encode(), dtype=np.uint8)
    return write_atomically(path, lambda file: np.savez(file, meta=meta_bytes, **arrays))


def checkpoint_meta(path: str | Path) -> dict:
    """The meta data of a checkpoint (epoch, saved_at, params, ...), without loading its arrays.
    Raises ValueError if the file is damaged."""
    try:
        with np.load(path) as archive:
            return json.loads(archive["meta"].tobytes().decode())
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"checkpoint {path} is damaged ({type(error).__name__}: {error})") from error


def load_checkpoint(path: str | Path, model: keras.Model) -> int:
    """Restore ``model``'s training state from ``path``; return the number of completed epochs.

    Raises ``ValueError`` if the file is damaged or does not fit the model; nothing is
    assigned in either case.
    """
    try:
        with np.load(path) as archive:
            meta = json.loads(archive["meta"].tobytes().decode())
            arrays = [archive[f"v{i:05d}"] for i in range(len(meta["variables"]))]
            scale_arrays = [archive[f"s{i:05d}"] for i in range(len(meta.get("loss_scale_variables", [])))]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise ValueError(f"checkpoint {path} is damaged ({type(error).__name__}: {error})") from error

    variables = training_state(model)
    if len(variables) != len(arrays):
        raise ValueError(
            f"checkpoint {path} holds {len(arrays)} variables but the model has {len(variables)}: the model "
            "code or its parameters changed since it was saved. Start a new run (another run_name)."
        )
    for variable, array, saved in zip(variables, arrays, meta["variables"]):
        if tuple(variable.shape) != array.shape:
            raise ValueError(
                f"checkpoint {path}: variable {saved['path']} has shape {array.shape} but the model's "
                f"{variable.path} has {tuple(variable.shape)}. The model changed; start a new run (another run_name)."
            )
    for variable, array in zip(variables, arrays):
        variable.assign(array)
    scale = loss_scale_state(model)  # float16's loss scale: kept when both runs use one, else it starts afresh
    if len(scale) == len(scale_arrays) and all(tuple(v.shape) == a.shape for v, a in zip(scale, scale_arrays)):
        for variable, array in zip(scale, scale_arrays):
            variable.assign(array)
    random.setstate(_from_json_python(meta["python_random_state"]))
    np.random.set_state(tuple(meta["numpy_random_state"]))
    return int(meta["epoch"])


def _to_json(state):
    """Random states contain tuples and NumPy arrays; make them JSON."""
    if isinstance(state, np.ndarray):
        return state.tolist()
    if isinstance(state, (tuple, list)):
        return [_to_json(s) for s in state]
    return state


def _from_json_python(state):
    version, internal, gauss = state
    return version, tuple(internal), gauss


# ---------------------------------------------------------------- a folder of checkpoints

class CheckpointFolder:
    """The ``checkpoints/`` folder of a run: ``epoch_0001.npz`` ... keeping the last ``keep``."""

    def __init__(self, folder: str | Path, keep: int = 3, params: dict | None = None):
        if keep < 1:
            raise ValueError(f"keep={keep}: at least one checkpoint must be kept.")
        self.folder = Path(folder)
        self.keep = keep
        self.params = params  # stored in each checkpoint's meta data
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_partial_files(self.folder)

    def positions(self) -> list[Position]:
        """The positions that have a checkpoint (at an epoch's end or inside one), oldest first."""
        found = (CHECKPOINT_PATTERN.match(p.name) for p in self.folder.iterdir())
        return sorted(Position(int(m.group(1)), int(m.group(2) or 0)) for m in found if m)

    def epochs(self) -> list[int]:
        """Epoch numbers that have an end-of-epoch checkpoint, oldest first."""
        return [position.epoch for position in self.positions() if not position.step]

    def path(self, epoch: int, step: int = 0) -> Path:
        return self.folder / (f"epoch_{epoch:04d}.npz" if not step else f"epoch_{epoch:04d}_step_{step:06d}.npz")

    def save(self, model: keras.Model, epoch: int, step: int = 0, extra: dict[str, Any] | None = None) -> Path:
        """Save after ``epoch`` completed epochs and ``step`` steps of the next, then delete all
        but the newest ``keep`` checkpoints."""
        saved = save_checkpoint(self.path(epoch, step), model, epoch, params=self.params, step=step, extra=extra)
        for old in self.positions()[:-self.keep]:
            self.path(*old).unlink(missing_ok=True)
        return saved

    def restore_latest(self, model: keras.Model) -> Position:
        """Restore the newest checkpoint that loads; return its position (``Position(0, 0)`` when
        there is none). Its meta data is then in ``restored_meta`` (``{}`` when none).

        A damaged newest checkpoint (e.g. a Drive upload cut off) is reported and skipped
        for the one before it.
        """
        self.restored_meta: dict[str, Any] = {}
        for position in reversed(self.positions()):
            path = self.path(*position)
            try:
                load_checkpoint(path, model)
                self.restored_meta = checkpoint_meta(path)
                return position
            except ValueError as error:
                if "is damaged" not in str(error):
                    raise
                print(f"Warning: {error}; trying the previous checkpoint.")
        return Position(0, 0)


class CheckpointEveryEpoch(keras.callbacks.Callback):
    """Keras callback: save the full training state at the end of every epoch trained to its end
    (an epoch that stopped early, ``model.stop_training``, saves its own step checkpoint)."""

    def __init__(self, checkpoints: CheckpointFolder):
        super().__init__()
        self.checkpoints = checkpoints

    def on_epoch_begin(self, epoch, logs=None):
        self.steps_run = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps_run = batch + 1  # the index of the last step run (also with steps_per_execution > 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.params and self.params.get("steps") and self.steps_run < self.params["steps"]:
            return  # ended early: not a complete epoch
        self.checkpoints.save(self.model, epoch + 1)
