"""Colab survival: checkpoints inside an epoch, the time budget, the stop button, edited code.

Every test compares with an uninterrupted run of the same tiny GAN (the Simple GAN notebook's
own model class, tests/tiny_gan.py): a stopped and continued run must end with identical weights.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import gan_helpers as gh
from tiny_gan import GAN, StepClock, TinyGAN, train

TINY_GAN_SCRIPT = Path(__file__).with_name("tiny_gan.py")
STEPS_PER_EPOCH = 8  # 256 fixture images in batches of 32


def final_state(run: gh.Run, epoch: int) -> list[np.ndarray]:
    with np.load(run.checkpoints.path(epoch)) as archive:
        return [archive[k] for k in sorted(archive.files) if k != "meta"]


def assert_same_final_state(a: gh.Run, b: gh.Run, epoch: int) -> None:
    for x, y in zip(final_state(a, epoch), final_state(b, epoch), strict=True):
        np.testing.assert_array_equal(x, y)


class InterruptAt(keras.callbacks.Callback):
    """Sends this process SIGINT (what Colab's stop button does) after step ``step`` of the run."""

    def __init__(self, step: int, times: int = 1):
        super().__init__()
        self.step, self.times, self.done = step, times, 0

    def on_train_batch_end(self, batch, logs=None):
        self.done += 1
        if self.done == self.step:
            for _ in range(self.times):
                os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_mnist_dir) -> gh.Run:
    """3 epochs in one go, with a checkpoint every 3 steps (checkpoints change nothing trained)."""
    return train(tmp_path_factory.mktemp("reference"), tiny_mnist_dir, "run", epochs=3, clock=StepClock(),
                 checkpoint_every=3)


def test_checkpoints_inside_epochs_are_kept_as_promised(reference):
    # 24 steps, a checkpoint every 3 and at each epoch's end; the newest two (keep_checkpoints) remain
    assert reference.checkpoints.positions() == [(2, 6), (3, 0)]
    assert [row["epoch"] for row in reference.metrics()] == [1, 2, 3]


def test_time_budget_stops_at_the_first_step_past_it_and_resumes_exactly(tmp_path, tiny_mnist_dir, reference):
    with pytest.raises(gh.TrainingPaused, match=r"time budget of 5 minutes reached\) after 5.0 minutes of training, at step 5 of epoch 1 \(of 3\)"):
        train(tmp_path, tiny_mnist_dir, "run", epochs=3, clock=StepClock(), time_budget=5)
    folder = tmp_path / "runs" / "tiny_gan" / "run"
    assert gh.CheckpointFolder(folder / "checkpoints").positions()[-1] == (0, 5)
    session = json.loads((folder / "config.json").read_text())["sessions"][-1]
    assert session["stopped"] == "time budget of 5 minutes reached" and session["at"] == "step 5 of epoch 1"
    assert not (folder / "summary.json").exists()  # not complete

    with pytest.raises(gh.TrainingPaused, match="at step 2 of epoch 2"):  # 5 more steps: 3 + 2
        train(tmp_path, tiny_mnist_dir, "run", epochs=3, clock=StepClock(), time_budget=5)
    resumed = train(tmp_path, tiny_mnist_dir, "run", epochs=3, clock=StepClock(), time_budget=0)
    assert_same_final_state(reference, resumed, 3)
    rows = resumed.metrics()
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    assert json.loads(resumed.summary_path.read_text())["status"] == "complete"


def test_a_budget_reached_at_an_epochs_end_stops_after_its_checkpoint(tmp_path, tiny_mnist_dir):
    with pytest.raises(gh.TrainingPaused, match="at the end of epoch 1 \\(of 3\\)"):
        train(tmp_path, tiny_mnist_dir, "run", epochs=3, clock=StepClock(), time_budget=STEPS_PER_EPOCH)
    checkpoints = gh.CheckpointFolder(tmp_path / "runs" / "tiny_gan" / "run" / "checkpoints")
    assert checkpoints.positions() == [(1, 0)]
    assert [p.name for p in sorted((checkpoints.folder.parent / "samples").glob("epoch_*.png"))] == ["epoch_0001.png"]


def test_train_minutes_end_the_run_inside_an_epoch_and_raising_them_continues_it_exactly(tmp_path, tiny_mnist_dir,
                                                                                        reference):
    ended = train(tmp_path, tiny_mnist_dir, "run", epochs=3, clock=StepClock(), train_minutes=5,
                  sample_every=2)  # returns: no pause
    summary = json.loads(ended.summary_path.read_text())
    assert summary["ended_at"] == "step 5 of epoch 1" and summary["train_minutes"] == 5
    assert summary["epochs"] == 0 and summary["epochs_trained"] == 5 / STEPS_PER_EPOCH
    assert summary["images_trained"] == 5 * 32 and summary["train_seconds"] == 5 * 60  # one StepClock minute per step
    assert ended.checkpoints.positions() == [(0, 5)]  # no end-of-epoch checkpoint for the part epoch
    # the part epoch is the run's last: its metrics row and its grid (though sample_every is 2) are written
    rows = ended.metrics()
    assert [row["epoch"] for row in rows] == [1] and summary["final_metrics"] == rows[-1]
    assert 0 < rows[0]["images_per_sec"] and "d_loss" in rows[0]
    assert [p.name for p in ended.samples_dir.glob("epoch_*.png")] == ["epoch_0001.png"]
    session = json.loads(ended.config_path.read_text())["sessions"][-1]
    assert session["ended"] == "train_minutes of 5 reached" and session["at"] == "step 5 of epoch 1"

    again = train(tmp_path, tiny_mnist_dir, "run", epochs=3, clock=StepClock(), train_minutes=5)
    assert again.checkpoints.positions()[-1] == (0, 5)  # complete: not trained further
    assert json.loads(again.summary_path.read_text())["ended_at"] == "step 5 of epoch 1"
    assert again.metrics() == rows  # the part epoch's row is kept

    resumed = train(tmp_path, tiny_mnist_dir, "run", epochs=3, clock=StepClock(), train_minutes=0)  # no limit now
    assert_same_final_state(reference, resumed, 3)
    assert "ended_at" not in json.loads(resumed.summary_path.read_text())
    assert [row["epoch"] for row in resumed.metrics()] == [1, 2, 3]


def test_train_minutes_used_up_at_an_epochs_end_end_the_run_after_its_checkpoint(tmp_path, tiny_mnist_dir):
    run = train(tmp_path, tiny_mnist_dir, "run", epochs=3, clock=StepClock(), train_minutes=STEPS_PER_EPOCH)
    assert run.checkpoints.positions() == [(1, 0)]
    summary = json.loads(run.summary_path.read_text())
    assert summary["ended_at"] == "the end of epoch 1" and summary["epochs"] == 1 and summary["epochs_trained"] == 1


def test_the_stop_button_checkpoints_at_the_step_and_resumes_exactly(tmp_path, tiny_mnist_dir, reference, capsys):
    before = signal.getsignal(signal.SIGINT)  # Python's default handler, or SIG_IGN in a background job
    with pytest.raises(gh.TrainingPaused, match=r"\(interrupted\) .* at step 3 of epoch 2"):
        train(tmp_path, tiny_mnist_dir, "run", epochs=3, clock=StepClock(), checkpoint_every=3,
              extra_callbacks=[InterruptAt(STEPS_PER_EPOCH + 3)])
    assert "saving a checkpoint at the end of this step" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is before  # the stop button works as before
    checkpoints = gh.CheckpointFolder(tmp_path / "runs" / "tiny_gan" / "run" / "checkpoints")
    assert checkpoints.positions()[-1] == (1, 3)

    resumed = train(tmp_path, tiny_mnist_dir, "run", epochs=3, clock=StepClock(), checkpoint_every=3)
    assert_same_final_state(reference, resumed, 3)
    assert [row["epoch"] for row in resumed.metrics()] == [1, 2, 3]


def test_interrupting_twice_stops_at_once(tmp_path, tiny_mnist_dir):
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt) as stopped:
        train(tmp_path, tiny_mnist_dir, "run", epochs=3, extra_callbacks=[InterruptAt(4, times=2)])
    assert not isinstance(stopped.value, gh.TrainingPaused)
    assert gh.CheckpointFolder(tmp_path / "runs" / "tiny_gan" / "run" / "checkpoints").positions() == []
    assert signal.getsignal(signal.SIGINT) is before


def test_sigkill_at_ten_random_steps_then_rerun_until_done_matches_an_uninterrupted_run(tmp_path, tiny_mnist_dir,
                                                                                       reference):
    """Killed at ten random steps inside epochs (never at an epoch's end), each time run again."""
    kill_after = sorted(random.Random(7).sample([s for s in range(1, 3 * STEPS_PER_EPOCH) if s % STEPS_PER_EPOCH], 10))
    command = [sys.executable, str(TINY_GAN_SCRIPT), "--home", str(tmp_path), "--data-dir", str(tiny_mnist_dir),
               "--epochs", "3", "--checkpoint-every-steps", "3", "--delay-per-batch", "0.1"]
    for target in kill_after:
        victim = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in victim.stdout:
            if line.strip() == f"STEP {target}":
                break
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=60) == -signal.SIGKILL
        newest = (gh.CheckpointFolder(tmp_path / "runs" / "tiny_gan" / "run" / "checkpoints").positions()
                  or [gh.Position(0, 0)])[-1]
        assert 0 <= target - (newest.epoch * STEPS_PER_EPOCH + newest.step) < 3  # at most 2 steps lost
    done = subprocess.run(command[:-2], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    resumed = gh.CheckpointFolder(tmp_path / "runs" / "tiny_gan" / "run" / "checkpoints")
    for x, y in zip(final_state(reference, 3), [np.load(resumed.path(3))[k] for k in
                                                sorted(np.load(resumed.path(3)).files) if k != "meta"], strict=True):
        np.testing.assert_array_equal(x, y)


def edited_gan_class() -> type:
    """The notebook's GAN with its train step edited (one more line), as a student might."""
    namespace = {"GAN": GAN, "keras": keras, "__name__": "__main__"}  # as in a notebook
    source = ("class EditedGAN(GAN):\n"
              "    def train_step(self, data):\n"
              "        logs = super().train_step(data)\n"
              "        return logs\n")
    path = "<edited cell>"
    import linecache
    linecache.cache[path] = (len(source), None, source.splitlines(True), path)
    exec(compile(source, path, "exec"), namespace)
    return namespace["EditedGAN"]


def test_edited_code_is_noticed_refused_by_default_and_accepted_with_the_override(tmp_path, tiny_mnist_dir, monkeypatch):
    env = gh.Environment(root=tmp_path, data_dir=None, in_colab=False, smoke=False, device="CPU")
    params = {"dataset": "mnist", "epochs": 2, "seed": 3, "resume_changed_code": False}
    run = gh.Run(env, "exp", "", params, code=TinyGAN(3))
    assert run.folder.name.startswith("mnist-")
    run.checkpoints.save(TinyGAN(3), 1)  # as if it had trained an epoch
    again = gh.Run(env, "exp", "", params, code=TinyGAN(3))  # same code: the same run (resumable)
    assert again.folder == run.folder

    edited = TinyGAN(3)
    edited.__class__ = edited_gan_class()
    assert gh.Run(env, "exp", "", params, code=edited).folder != run.folder  # automatic name: a new run
    with pytest.raises(ValueError, match=r"code changed .*class EditedGAN \(new\).*resume_changed_code = True"):
        gh.Run(env, "exp", run.folder.name, params, code=edited)
    with pytest.raises(ValueError, match=r"network generator \(changed\)"):
        wider = GAN(keras.Sequential([keras.Input((8,)), keras.layers.Dense(33), keras.layers.Dense(28 * 28),
                                      keras.layers.Reshape((28, 28, 1))]), TinyGAN(3).discriminator, 8, 3)
        gh.Run(env, "exp", run.folder.name, params, code=wider)
    accepted = gh.Run(env, "exp", run.folder.name, {**params, "resume_changed_code": True}, code=edited)
    config = json.loads(accepted.config_path.read_text())
    assert config["code"]["parts"] == gh.fingerprint.code_fingerprint(edited) and len(config["code"]["earlier"]) == 1
    assert config["params"]["resume_changed_code"] is True


def test_comments_layer_names_and_precision_do_not_change_the_fingerprint():
    from gan_helpers.fingerprint import code_fingerprint

    first = code_fingerprint(TinyGAN(3))
    assert code_fingerprint(TinyGAN(3)) == first  # new layer names (dense_7 ...), same code
    try:
        gh.set_precision("mixed_bfloat16")
        assert code_fingerprint(TinyGAN(3)) == first
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert set(first) == {"class GAN", "network generator", "network discriminator"}
