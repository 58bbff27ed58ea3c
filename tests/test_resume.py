"""Exact resume, atomic checkpoints, and runs killed with SIGKILL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

import gan_helpers as gh
from tiny_gan import TinyGAN, train

TINY_GAN_SCRIPT = Path(__file__).with_name("tiny_gan.py")


def checkpoint_arrays(path: Path) -> list[np.ndarray]:
    with np.load(path) as archive:
        return [archive[k] for k in sorted(archive.files) if k != "meta"]


def assert_same_state(a: Path, b: Path) -> None:
    arrays_a, arrays_b = checkpoint_arrays(a), checkpoint_arrays(b)
    assert len(arrays_a) == len(arrays_b)
    for x, y in zip(arrays_a, arrays_b):
        np.testing.assert_array_equal(x, y)


def test_resume_equals_uninterrupted_run(tmp_path, tiny_mnist_dir):
    """k + m epochs in one go == k epochs, stop, resume for m: every weight and optimizer slot."""
    straight = train(tmp_path / "a", tiny_mnist_dir, "run", epochs=3)
    train(tmp_path / "b", tiny_mnist_dir, "run", epochs=2)
    resumed = train(tmp_path / "b", tiny_mnist_dir, "run", epochs=3)

    assert resumed.checkpoints.epochs()[-1] == 3
    assert_same_state(straight.checkpoints.path(3), resumed.checkpoints.path(3))
    # The training really moved the weights (otherwise equality would prove nothing).
    first, last = checkpoint_arrays(straight.checkpoints.path(2)), checkpoint_arrays(straight.checkpoints.path(3))
    assert any(not np.array_equal(x, y) for x, y in zip(first, last))
    # The metrics log has each epoch once, in order.
    assert [r["epoch"] for r in resumed.metrics()] == [1, 2, 3]


def test_finished_run_is_not_trained_again(tmp_path, tiny_mnist_dir, capsys):
    run = train(tmp_path, tiny_mnist_dir, "run", epochs=2)
    before = run.checkpoints.path(2).stat().st_mtime_ns
    capsys.readouterr()
    train(tmp_path, tiny_mnist_dir, "run", epochs=2)
    assert "complete" in capsys.readouterr().out
    assert run.checkpoints.path(2).stat().st_mtime_ns == before
    assert json.loads(run.summary_path.read_text())["status"] == "complete"


def test_keeps_only_the_last_k_checkpoints(tmp_path, tiny_mnist_dir):
    run = train(tmp_path, tiny_mnist_dir, "run", epochs=5)
    assert run.checkpoints.epochs() == [4, 5]  # the default: keep_checkpoints = 2


def test_damaged_newest_checkpoint_falls_back_to_previous(tmp_path, tiny_mnist_dir, capsys):
    run = train(tmp_path, tiny_mnist_dir, "run", epochs=3)
    newest = run.checkpoints.path(3)
    newest.write_bytes(newest.read_bytes()[:1000])  # e.g. a Drive upload cut off
    gan = TinyGAN(seed=3)
    gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    assert run.checkpoints.restore_latest(gan) == (2, 0)
    assert "damaged" in capsys.readouterr().out


def test_checkpoint_that_does_not_fit_the_model_is_refused(tmp_path, tiny_mnist_dir):
    run = train(tmp_path, tiny_mnist_dir, "run", epochs=1)
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="model"):
        gh.load_checkpoint(run.checkpoints.path(1), other)


def test_unbuilt_optimizer_is_reported(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.my_optimizer = keras.optimizers.Adam()
    with pytest.raises(RuntimeError, match="my_optimizer.build"):
        gh.save_checkpoint(tmp_path / "x.npz", model, epoch=1)


def run_tiny_gan(home: Path, data_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(TINY_GAN_SCRIPT), "--home", str(home), "--data-dir", str(data_dir), "--epochs", "4", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def test_sigkill_mid_epoch_then_rerun_resumes_and_matches(tmp_path, tiny_mnist_dir):
    reference = run_tiny_gan(tmp_path / "reference", tiny_mnist_dir)
    assert reference.wait(timeout=300) == 0, reference.stdout.read()

    victim = run_tiny_gan(tmp_path / "killed", tiny_mnist_dir, "--delay-per-batch", "0.05")
    for line in victim.stdout:  # wait until epoch 3 is under way (epochs 1 and 2 checkpointed)
        if line.strip() == "EPOCH_BEGIN 3":
            break
    time.sleep(0.2)  # a few batches into epoch 3
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL
    checkpoints = gh.CheckpointFolder(tmp_path / "killed" / "runs" / "tiny_gan" / "run" / "checkpoints")
    assert checkpoints.epochs() == [1, 2]

    rerun = run_tiny_gan(tmp_path / "killed", tiny_mnist_dir)
    output = rerun.communicate(timeout=300)[0]
    assert rerun.returncode == 0, output
    assert "Resuming after epoch 2 of 4" in output
    assert_same_state(tmp_path / "reference/runs/tiny_gan/run/checkpoints/epoch_0004.npz", checkpoints.path(4))
    metrics = gh.read_metrics(tmp_path / "killed/runs/tiny_gan/run/metrics.csv")
    assert [r["epoch"] for r in metrics] == [1, 2, 3, 4]


def test_sigkill_while_writing_a_checkpoint_leaves_the_last_good_one(tmp_path, tiny_mnist_dir):
    victim = run_tiny_gan(tmp_path, tiny_mnist_dir, "--die-while-writing-epoch", "3")
    output = victim.communicate(timeout=300)[0]
    assert victim.returncode == -signal.SIGKILL, output
    assert "DYING_IN_CHECKPOINT_WRITE 3" in output
    folder = tmp_path / "runs" / "tiny_gan" / "run" / "checkpoints"
    assert sorted(p.name for p in folder.glob("epoch_*.npz")) == ["epoch_0001.npz", "epoch_0002.npz"]
    assert list(folder.glob(".*.partial")), "the half-written copy should be lying there, under a temporary name"

    rerun = run_tiny_gan(tmp_path, tiny_mnist_dir)
    output = rerun.communicate(timeout=300)[0]
    assert rerun.returncode == 0, output
    assert "Resuming after epoch 2 of 4" in output
    assert not list(folder.glob(".*.partial"))
    assert gh.CheckpointFolder(folder).epochs() == [3, 4]
    assert (tmp_path / "runs" / "tiny_gan" / "run" / "generator.keras").exists()
