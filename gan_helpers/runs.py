"""Run folders: one folder per training run, laid out as ``drive_layout.md`` documents.

    <root>/runs/<experiment>/<run_name>/
        config.json        parameters + provenance (versions, git commit, device, seed, start time)
        metrics.csv        one row per completed epoch: losses, seconds, images_per_sec
        checkpoints/       epoch_NNNN.npz, the last few (see checkpoints.py)
        samples/           epoch_NNNN.png fixed-noise grids, samples.gif
        losses.png         loss curves
        generator.keras    the trained generator (keras.models.load_model, no notebook needed)
        summary.json       written when the run completes

Opening a run that already exists with the same parameters resumes it. What a run folder must
hold to be resumed, and what happens when part of it is missing or damaged, is in drive_layout.md.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import keras

from .checkpoints import CheckpointEveryEpoch, CheckpointFolder, Position, checkpoint_meta
from .files import (local_temporary_file, move_into_place, remove_partial_files, remove_stale_local_files, set_aside,
                    write_atomically)
from .environment import Environment
from .fingerprint import code_fingerprint, fingerprint_digest
from .params import BOOKKEEPING_PARAMS, auto_run_name, check_run_name
from .performance import machine, machine_name
from .session import SessionControl, stop_button



def provenance(env: Environment | None = None, seed: int | None = None) -> dict[str, Any]:
    """Versions, git commit, device, seed and time: what is needed to say how a run was made."""
    versions = {"python": platform.python_version()}
    for package in ("tensorflow", "keras", "numpy", "gan-helpers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "versions": versions,
        "git_commit": git_commit(),
        "device": env.device if env else None,
        "in_colab": env.in_colab if env else None,
        "smoke": env.smoke if env else None,
        "data_dir": str(env.data_dir) if env and env.data_dir else None,
        "seed": seed,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": platform.node(),
    }


def git_commit() -> str | None:
    """The commit gan_helpers comes from: its git checkout, or the commit pip recorded when
    it was installed from a git URL. None when neither is known."""
    source = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0:
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        direct_url = metadata.distribution("gan-helpers").read_text("direct_url.json")
        return json.loads(direct_url or "{}").get("vcs_info", {}).get("commit_id")
    except metadata.PackageNotFoundError:
        return None


class Run:
    """A run folder: created on first use, resumed when it exists with the same parameters."""

    def __init__(self, env: Environment, experiment: str, run_name: str, params: dict[str, Any],
                 keep_checkpoints: int | None = None, code: keras.Model | dict[str, str] | None = None):
        """``run_name`` empty: named after the parameters and the code (`auto_run_name`).
        ``keep_checkpoints``: how many checkpoints to keep (default: the ``keep_checkpoints``
        parameter, else 2). ``code``: the model to train (or its `code_fingerprint`): a resumed
        run whose model code changed is refused unless the parameter ``resume_changed_code`` is true."""
        self.code = code_fingerprint(code) if isinstance(code, keras.Model) else dict(code or {})
        run_name = run_name or auto_run_name(params, code=fingerprint_digest(self.code) if self.code else None)
        check_run_name(run_name)
        self.env = env
        self.params = {**params, "run_name": run_name}
        self.folder = env.runs_dir / experiment / run_name
        self.samples_dir.mkdir(parents=True, exist_ok=True)
        keep = keep_checkpoints or self.params.get("keep_checkpoints") or 2
        self.checkpoints = CheckpointFolder(self.folder / "checkpoints", keep=keep, params=self.params)
        self.position, self.total_epochs, self._epoch_seconds = Position(0, 0), None, 0.0
        self._trained_seconds, self._steps_per_epoch, self._images_per_step = 0.0, None, None
        remove_partial_files(self.folder, recursive=True)  # writes killed half-way, in every sub-folder
        remove_stale_local_files()  # and their local temporaries
        old_config = self._read_config()  # refuses (other parameters, no config) before anything changes
        self._check_metrics()
        self._write_config(old_config)

    # ---- paths, as drive_layout.md lists them
    config_path = property(lambda self: self.folder / "config.json")
    metrics_path = property(lambda self: self.folder / "metrics.csv")
    samples_dir = property(lambda self: self.folder / "samples")
    losses_plot_path = property(lambda self: self.folder / "losses.png")
    gif_path = property(lambda self: self.samples_dir / "samples.gif")
    generator_path = property(lambda self: self.folder / "generator.keras")
    summary_path = property(lambda self: self.folder / "summary.json")

    def _read_config(self) -> dict | None:
        """config.json, checked: None for a new run (or a damaged config.json that no checkpoint
        depends on, set aside with a warning); a run folder with checkpoints but no readable
        config.json is refused, as its parameters cannot be checked."""
        trained = self.checkpoints.positions()
        problem = None
        if not self.config_path.exists():
            problem = "no config.json"
        else:
            try:
                old = json.loads(self.config_path.read_text(encoding="utf-8"))
                if not isinstance(old, dict) or not isinstance(old.get("params"), dict):
                    raise ValueError('it holds no "params" object')
            except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                problem = f"a damaged config.json ({type(error).__name__}: {error})"
                if not trained:
                    aside = set_aside(self.config_path)
                    print(f"Warning: {self.config_path} is damaged ({type(error).__name__}: {error}). No checkpoint "
                          f"depends on it, so it was set aside as {aside.name} and the run starts with a new config.json.")
                    return None
            else:
                changed = sorted(k for k in set(old["params"]) | set(self.params)
                                 if k not in BOOKKEEPING_PARAMS and old["params"].get(k) != self.params.get(k))
                if changed:
                    details = ", ".join(f"{k}: {old['params'].get(k)!r} -> {self.params.get(k)!r}" for k in changed)
                    raise ValueError(
                        f"Run folder {self.folder} was made with other parameters ({details}). "
                        "Use another run_name for a new run, or restore those values to resume it."
                    )
                if trained:
                    self._check_code(old.get("code", {}).get("parts"))
                return old
        if not trained:
            return None
        newest = self.checkpoints.path(*trained[-1])
        raise ValueError(
            f"Run folder {self.folder} holds checkpoints (newest: {newest.name}) but {problem}, so the parameters "
            f"it was trained with cannot be checked against this session's.{self._saved_params_note(newest)} "
            f"To resume it, restore {self.config_path.name} (e.g. from a backup or Drive's trash); or set another "
            "run_name to start a new run (this folder is left as it is)."
        )

    def _saved_params_note(self, checkpoint: Path) -> str:
        """What the checkpoint says its run's parameters were, and how this session's differ."""
        try:
            saved = checkpoint_meta(checkpoint).get("params")
        except ValueError:
            saved = None
        if not isinstance(saved, dict):
            return ""
        changed = sorted(k for k in set(saved) | set(self.params)
                         if k not in BOOKKEEPING_PARAMS and saved.get(k) != self.params.get(k))
        if not changed:
            return f" {checkpoint.name} was saved with this session's parameters."
        details = ", ".join(f"{k}: {saved.get(k)!r} -> {self.params.get(k)!r}" for k in changed)
        return f" {checkpoint.name} was saved with other parameters ({details})."

    def _check_metrics(self) -> None:
        """Set a damaged metrics.csv aside (with a warning); the log starts again."""
        try:
            read_metrics(self.metrics_path)
        except ValueError as error:
            aside = set_aside(self.metrics_path)
            print(f"Warning: {error}. It was set aside as {aside.name} and the log starts again from the next "
                  "epoch trained; the earlier rows are in that file.")

    def _check_code(self, old_parts: dict[str, str] | None) -> None:
        """Refuse to resume checkpoints trained by other model or step code, unless told to."""
        if not self.code or not isinstance(old_parts, dict) or old_parts == self.code:
            return
        changed = sorted(name for name in set(old_parts) | set(self.code) if old_parts.get(name) != self.code.get(name))
        described = ", ".join(f"{name} ({'new' if name not in old_parts else 'removed' if name not in self.code else 'changed'})"
                              for name in changed)
        if self.params.get("resume_changed_code"):
            print(f"Note: the notebook's code changed since this run was trained ({described}); resuming anyway, "
                  "as resume_changed_code is set (recorded in config.json).")
            return
        raise ValueError(
            f"The notebook's code changed since run {self.folder.name} was trained: {described}. Its checkpoints "
            "were made by the old code. Either start a new run (leave run_name empty, and a new one is named "
            "after the new code; or set another run_name), or continue this one with the new code anyway: "
            "resume_changed_code = True.")

    def _write_config(self, old: dict | None) -> None:
        config = {"params": self.params, "provenance": provenance(self.env, self.params.get("seed")), "sessions": []}
        if old is not None:
            config["provenance"] = old.get("provenance", config["provenance"])
            sessions = old.get("sessions")
            config["sessions"] = sessions if isinstance(sessions, list) else []
        if self.code:
            config["code"] = {"fingerprint": fingerprint_digest(self.code), "parts": self.code}
            old_code = (old or {}).get("code", {})
            if old_code.get("parts") not in (None, self.code):
                config["code"]["earlier"] = old_code.get("earlier", []) + [old_code.get("fingerprint")]
        elif old is not None and "code" in old:
            config["code"] = old["code"]
        config["sessions"].append({"started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "epochs": self.params.get("epochs"),
                                   "device": self.env.device if self.env else None, "machine": machine_name(machine())})
        write_atomically(self.config_path, json.dumps(config, indent=2, default=str))

    def _record_session_end(self, **facts: Any) -> None:
        """Add ``facts`` (why and where this session stopped) to its entry in config.json."""
        config = json.loads(self.config_path.read_text(encoding="utf-8"))
        config["sessions"][-1].update(facts)
        write_atomically(self.config_path, json.dumps(config, indent=2, default=str))

    def resume(self, model: keras.Model, total_epochs: int | None = None) -> Position:
        """Restore the latest checkpoint into ``model`` and return where training continues: a
        `Position` (completed epochs, steps done in the next one; ``Position(0, 0)`` for a new run).

        Prints whether the run is new, resumed, or already complete (then `fit` trains nothing).
        Metric rows of epochs after the checkpoint (written just before a crash) are dropped, so
        the log matches the restored state. ``total_epochs`` is the number of epochs the run
        trains for in all, when that is not the ``epochs`` parameter (CycleGAN:
        ``epochs + decay_epochs``).
        """
        epochs = total_epochs if total_epochs is not None else self.params.get("epochs")
        start = self.checkpoints.restore_latest(model)
        self.position, self.total_epochs = start, epochs
        self._epoch_seconds = float(self.checkpoints.restored_meta.get("epoch_seconds", 0.0)) if start.step else 0.0
        rows = self.metrics()
        self._trained_seconds = (sum(row.get("seconds", 0.0) for row in rows if row["epoch"] <= start.epoch)
                                 + self._epoch_seconds)
        ended_inside_epoch = bool(start.step) and self.time_is_up  # its last row is that partial epoch's: kept
        write_metrics(self.metrics_path, [row for row in rows if row["epoch"] <= start.epoch + ended_inside_epoch])
        if start == (0, 0):
            print(f"New run: {self.folder}")
        elif epochs is not None and start.epoch >= epochs:
            print(f"Run is complete ({start.epoch}/{epochs} epochs); not training again. Results: {self.folder}")
        elif self.time_is_up:
            print(f"Run is complete (its train_minutes of {self.params['train_minutes']:g} were used up at {start}); "
                  f"not training again. Results: {self.folder}")
        elif start.step:
            print(f"Resuming at {start} (of {epochs}): {self.folder}")
        else:
            print(f"Resuming after epoch {start.epoch} of {epochs}: {self.folder}")
        return start

    @property
    def time_is_up(self) -> bool:
        """Whether the run has trained its ``train_minutes`` (a parameter; 0 or absent: no limit)."""
        limit = self.params.get("train_minutes") or 0
        return bool(limit) and self._trained_seconds >= limit * 60

    @property
    def trained_seconds(self) -> float:
        """Training time of the run in the sessions before this one (as `resume` found it)."""
        return self._trained_seconds

    @property
    def complete(self) -> bool:
        """Whether every epoch is trained, or the ``train_minutes`` are used up (as far as `resume` and `fit` know)."""
        return self.total_epochs is not None and (self.position.epoch >= self.total_epochs or self.time_is_up)

    def fit(self, model: keras.Model, make_data: Callable[[int, int], Any], steps_per_epoch: int,
            callbacks: list[keras.callbacks.Callback], clock: Callable[[], float] = time.monotonic,
            **fit_options: Any) -> None:
        """Train ``model`` with ``model.fit`` from where `resume` left it to the last epoch.

        ``make_data(epoch, step)`` gives the training data from ``step`` of ``epoch`` on (e.g.
        ``gh.make_dataset(..., start_epoch=epoch, start_step=step)``). A run resumed inside an
        epoch first trains the rest of that epoch (one ``fit`` call), then the remaining epochs (a
        second). A `SessionControl` is added after ``callbacks``, with the parameters
        ``time_budget`` and ``checkpoint_every`` (minutes; 0 = none), and the stop button is
        caught while training (see `gan_helpers.session`); a stopped session records why in
        config.json and raises `TrainingPaused`. With the parameter ``train_minutes``, training
        ends for good once the run has trained that long in all sessions: `fit` returns, and
        the run is complete at that step (``summary.json`` says where). ``fit_options`` go to ``model.fit``.
        """
        epochs, start = self.total_epochs, self.position
        if epochs is None:
            raise RuntimeError("Call run.resume(model) before run.fit(...): it restores the state to continue from.")
        self._steps_per_epoch = steps_per_epoch
        if self.complete:
            return
        limit = self.params.get("train_minutes") or 0
        control = SessionControl(self.checkpoints, steps_per_epoch, epochs,
                                 time_budget_minutes=self.params.get("time_budget", 0),
                                 checkpoint_every_minutes=self.params.get("checkpoint_every", 0),
                                 epoch_seconds=self._epoch_seconds, clock=clock,
                                 train_seconds_left=limit * 60 - self._trained_seconds if limit else None)
        parts = [(start.epoch, start.epoch + 1, steps_per_epoch - start.step, start.step)] if start.step else []
        if start.epoch + bool(start.step) < epochs:
            parts.append((start.epoch + bool(start.step), epochs, steps_per_epoch, 0))
        fit_options = {"shuffle": False, "verbose": 0, **fit_options}
        try:
            with stop_button(control):
                for first_epoch, end_epoch, steps, skip in parts:
                    model.fit(make_data(first_epoch, skip), initial_epoch=first_epoch, epochs=end_epoch,
                              steps_per_epoch=steps, callbacks=[*callbacks, control], **fit_options)
                    self.position = control.ended or Position(end_epoch, 0)
                    if control.ended:
                        break
            if control.ended:
                self._epoch_seconds = control.clock() - control.epoch_started if self.position.step else 0.0
                self._trained_seconds += control.clock() - control.started
                self._record_session_end(ended=f"train_minutes of {limit:g} reached", at=str(self.position),
                                         ended_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
                print(f"Training time of {limit:g} minutes reached at {self.position}: the run is complete there.")
        except BaseException:
            if control.stopped:
                reason, self.position = control.stopped
                self._epoch_seconds = control.clock() - control.epoch_started if self.position.step else 0.0
                self._record_session_end(stopped=reason, at=str(self.position),
                                         stopped_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
            raise

    def callbacks(self, images_per_step: int, samples: keras.callbacks.Callback | None = None
                  ) -> list[keras.callbacks.Callback]:
        """The run's callbacks for ``fit``: the metrics log, ``samples`` (the callback that writes
        ``samples/epoch_NNNN.png``, e.g. `gan_helpers.SampleGrid`), then the checkpoint.

        The grid is written before the checkpoint: a checkpoint of epoch N means its grid is on
        disk (a kill between the two would otherwise lose that grid for good, as the next session
        starts after epoch N). A grid missing for the restored epoch (a folder from an older
        version) is drawn now, from the restored state.
        """
        self._images_per_step = images_per_step
        if samples is not None:
            self._draw_missing_grid(samples)
        return [EpochMetricsLog(self.metrics_path, images_per_step, resumed_epoch=self._resumed_epoch()),
                *([samples] if samples is not None else []), CheckpointEveryEpoch(self.checkpoints)]

    def _resumed_epoch(self) -> tuple[int, int, float] | None:
        """(epoch index, steps done, seconds taken) of an epoch this session resumes in the middle."""
        start = self.position
        return (start.epoch, start.step, self._epoch_seconds) if start.step else None

    def _draw_missing_grid(self, samples: keras.callbacks.Callback) -> None:
        start, epochs = self.position.epoch, getattr(self, "total_epochs", None)
        path = self.samples_dir / f"epoch_{start:04d}.png"
        if start == 0 or path.exists():
            return
        samples.set_params({"epochs": epochs})  # what fit() gives it: the grid callback may draw the last epoch
        samples.on_epoch_end(start - 1, {})  # draws it if the parameters promise a grid after that epoch
        if path.exists():
            print(f"Drew the missing sample grid of epoch {start} from its checkpoint: {path}")

    def metrics(self) -> list[dict[str, float]]:
        """The rows of metrics.csv, as numbers."""
        return read_metrics(self.metrics_path)

    def save_model(self, model: keras.Model, file_name: str) -> Path:
        """Save ``model`` as ``<run folder>/<file_name>`` (a ``.keras`` file), atomically."""
        if not file_name.endswith(".keras") or "/" in file_name:
            raise ValueError(f"file_name={file_name!r} must be a plain file name ending in .keras.")
        local = local_temporary_file(".keras")
        try:
            model.save(local)
        except BaseException:
            local.unlink(missing_ok=True)
            raise
        return move_into_place(local, self.folder / file_name)  # deletes the local file, also on failure

    def finish(self, generator: keras.Model | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Save the generator as ``generator.keras`` (unless it is None: a notebook that saved its
        models with `save_model`) and write ``summary.json``; return the summary.

        ``epochs`` counts the epochs trained to their end; a run ended by its ``train_minutes``
        inside an epoch also records where (``ended_at``), its ``epochs_trained`` as a fraction,
        and the images it trained on (its last metrics row, ``final_metrics``, is that partial epoch's)."""
        if generator is not None:
            self.save_model(generator, self.generator_path.name)
        rows = self.metrics()  # a run ended inside an epoch: its last row is that partial epoch's
        position, steps_per_epoch = self.position, self._steps_per_epoch
        complete_rows = [r for r in rows if r["epoch"] <= position.epoch]
        partial_seconds = self._epoch_seconds if position.step else 0.0
        trained = {}
        if steps_per_epoch:
            steps = position.epoch * steps_per_epoch + position.step
            trained["epochs_trained"] = round(steps / steps_per_epoch, 4)
            if self._images_per_step:
                trained["images_trained"] = steps * self._images_per_step
        if self.params.get("train_minutes"):
            trained["train_minutes"] = self.params["train_minutes"]
            if self.time_is_up:
                trained["ended_at"] = str(position)
        summary = {
            "status": "complete",
            "epochs": int(complete_rows[-1]["epoch"]) if complete_rows else 0,
            "train_seconds": round(sum(r.get("seconds", 0.0) for r in complete_rows) + partial_seconds, 2),
            **trained,
            "final_metrics": rows[-1] if rows else {},
            "generator": self.generator_path.name if generator is not None else None,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **(extra or {}),
        }
        write_atomically(self.summary_path, json.dumps(summary, indent=2, default=str))
        return summary


def read_metrics(path: str | Path) -> list[dict[str, float]]:
    """Read a metrics CSV into a list of dicts of floats ("epoch" as int); [] if there is no file.

    Raises ValueError naming the file if it is damaged (not text, a value that is no number,
    a row without an epoch, more values than columns).
    """
    path = Path(path)
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is not None and "epoch" not in reader.fieldnames:
                raise KeyError(f"no 'epoch' column in its header {reader.fieldnames}")
            rows = [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in reader]
        for row in rows:
            row["epoch"] = int(row["epoch"])
    except (ValueError, KeyError, TypeError, csv.Error) as error:  # UnicodeDecodeError is a ValueError
        raise ValueError(f"{path} is damaged ({type(error).__name__}: {error})") from error
    return rows


def write_metrics(path: str | Path, rows: list[dict[str, float]]) -> None:
    """Rewrite the metrics CSV atomically (it is small: one row per epoch)."""
    columns = ["epoch"] + sorted({k for row in rows for k in row} - {"epoch", "seconds", "images_per_sec"}) + ["seconds", "images_per_sec"]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(path, text.getvalue())


class EpochMetricsLog(keras.callbacks.Callback):
    """Keras callback: after each epoch, append a row to metrics.csv with the epoch's losses,
    its wall time in seconds, and its training speed in images per second.

    ``resumed_epoch``: (epoch index, steps, seconds) of an epoch that an earlier session began;
    its row counts them too (its losses are those of this session's part).
    """

    def __init__(self, path: str | Path, images_per_step: int, resumed_epoch: tuple[int, int, float] | None = None):
        super().__init__()
        self.path = Path(path)
        self.images_per_step = images_per_step
        self.resumed_epoch = resumed_epoch

    def on_epoch_begin(self, epoch, logs=None):
        earlier_steps, earlier_seconds = (0, 0.0)
        if self.resumed_epoch and self.resumed_epoch[0] == epoch:
            earlier_steps, earlier_seconds = self.resumed_epoch[1:]
            self.resumed_epoch = None
        self._started = time.perf_counter() - earlier_seconds
        self._earlier_steps = self._steps = earlier_steps

    def on_train_batch_end(self, batch, logs=None):
        # ``batch`` is the index of the last step run: with steps_per_execution > 1, Keras calls
        # this once per execution of several steps, so counting calls would undercount.
        self._steps = self._earlier_steps + batch + 1

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        row["seconds"] = round(seconds, 3)
        row["images_per_sec"] = round(self._steps * self.images_per_step / seconds, 1)
        rows = [r for r in read_metrics(self.path) if r["epoch"] < epoch + 1] + [row]
        write_metrics(self.path, rows)
