"""A tiny GAN trained with the gan_helpers plumbing: the Simple GAN notebook's model class and train
step, with small networks, trained the way the notebooks train.

Used by the resume tests in-process (`train`) and as a separate process that the tests kill
with SIGKILL (`python tests/tiny_gan.py ...`). The options --delay-per-batch,
--die-while-writing-epoch and --die-after-checkpoint-epoch belong to the tests only: they make
an epoch slow enough to be killed in the middle, and kill the process itself half-way through
copying a checkpoint, or just after a checkpoint is in place.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
from keras import layers  # noqa: E402

import gan_helpers as gh  # noqa: E402
from gan_helpers.notebook_code import notebook_definitions  # noqa: E402

LATENT_DIM = 8


# The Simple GAN notebook's own model class (its train step), with networks small enough for tests.
GAN = notebook_definitions("simple_gan_mnist.ipynb").GAN


def TinyGAN(seed: int) -> keras.Model:
    """The notebook's GAN around a generator and a discriminator of one small hidden layer each
    (BatchNorm in G and dropout in D, so their statistics and random state are part of a resume)."""
    generator = keras.Sequential([
        keras.Input((LATENT_DIM,)), layers.Dense(32), layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.Dense(28 * 28, activation="tanh"), layers.Reshape((28, 28, 1))])
    discriminator = keras.Sequential([
        keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(32), layers.LeakyReLU(0.2),
        layers.Dropout(0.3), layers.Dense(1)])
    return GAN(generator, discriminator, LATENT_DIM, seed)


class StepClock(keras.callbacks.Callback):
    """Test aid: a clock for `Run.fit` (``clock=``) that moves one minute per training step, so
    minutes of time budget or checkpoint interval are steps. `train` adds it to the callbacks."""

    def __init__(self):
        super().__init__()
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds

    def on_train_batch_end(self, batch, logs=None):
        self.seconds += 60.0


class SlowBatches(keras.callbacks.Callback):
    """Test aid: before each step, print how many steps of the run are done (``STEP <n>``; every
    callback of step n has run) and sleep, so that a test can kill the process mid-epoch."""

    def __init__(self, delay: float, steps_per_epoch: int):
        super().__init__()
        self.delay, self.steps_per_epoch = delay, steps_per_epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        print(f"EPOCH_BEGIN {epoch + 1}", flush=True)

    def on_train_batch_begin(self, batch, logs=None):
        done_before = self.epoch * self.steps_per_epoch + self.steps_per_epoch - self.params["steps"]
        print(f"STEP {done_before + batch}", flush=True)
        time.sleep(self.delay)


def train(home: Path, data_dir: Path, run_name: str, epochs: int, seed: int = 3,
          batch_size: int = 32, delay_per_batch: float = 0.0, clock=time.monotonic,
          extra_callbacks: list | None = None, sample_every: int = 1, **session) -> gh.Run:
    """Train (or resume) the tiny GAN for `epochs` epochs under `home`; return the run.
    ``session``: the parameters time_budget, checkpoint_every and train_minutes (minutes of ``clock``)."""
    old_home, os.environ["GAN_HOME"] = os.environ.get("GAN_HOME"), str(home)
    try:
        env = gh.setup(data_dir=data_dir, quiet=True)
    finally:
        if old_home is None:
            del os.environ["GAN_HOME"]
        else:
            os.environ["GAN_HOME"] = old_home
    gh.seed_everything(seed, deterministic=True)
    params = {"dataset": "mnist", "epochs": epochs, "batch_size": batch_size, "seed": seed, **session}
    images, labels = gh.load_mnist_family("mnist", "train", cache_dir=env.cache_dir, data_dir=env.data_dir)
    gan = TinyGAN(seed)
    gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5))
    run = gh.Run(env, "tiny_gan", run_name, params, code=gan)
    run.resume(gan)
    grid = gh.SampleGrid(gan.generator, gh.fixed_noise(16, LATENT_DIM, seed), run.samples_dir, every=sample_every,
                        show=False)
    callbacks = run.callbacks(images_per_step=batch_size, samples=grid)
    steps_per_epoch = gh.batches_per_epoch(len(images), batch_size)
    if delay_per_batch:
        callbacks.insert(0, SlowBatches(delay_per_batch, steps_per_epoch))
    if isinstance(clock, StepClock):
        callbacks.insert(0, clock)
    callbacks.extend(extra_callbacks or [])
    run.fit(gan, lambda epoch, step: gh.make_dataset(images, labels, batch_size, seed=seed, start_epoch=epoch,
                                                     start_step=step),
            steps_per_epoch, callbacks, clock=clock)
    run.finish(gan.generator)
    return run


def die_while_writing(epoch: int) -> None:
    """Test aid: SIGKILL this process after copying half of checkpoint `epoch` to its folder."""
    real_copyfile = shutil.copyfile

    def half_copy_then_die(src, dst, *args, **kwargs):
        if f"epoch_{epoch:04d}.npz" in str(dst):
            data = Path(src).read_bytes()
            with open(dst, "wb") as f:
                f.write(data[: len(data) // 2])
                f.flush()
                os.fsync(f.fileno())
            print(f"DYING_IN_CHECKPOINT_WRITE {epoch}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return real_copyfile(src, dst, *args, **kwargs)

    shutil.copyfile = half_copy_then_die


def die_after_checkpoint(epoch: int) -> None:
    """Test aid: SIGKILL this process as soon as checkpoint `epoch` is in place (before anything
    that comes after it at the end of that epoch)."""
    real_replace = os.replace

    def replace_then_die(src, dst, *args, **kwargs):
        real_replace(src, dst, *args, **kwargs)
        if Path(dst).name == f"epoch_{epoch:04d}.npz":
            print(f"DYING_AFTER_CHECKPOINT {epoch}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace_then_die


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--run-name", default="run")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--delay-per-batch", type=float, default=0.0)
    parser.add_argument("--die-while-writing-epoch", type=int, default=0)
    parser.add_argument("--die-after-checkpoint-epoch", type=int, default=0)
    parser.add_argument("--checkpoint-every-steps", type=int, default=0,
                        help="a mid-epoch checkpoint every N steps (on a StepClock: a minute per step)")
    args = parser.parse_args()
    if args.die_while_writing_epoch:
        die_while_writing(args.die_while_writing_epoch)
    if args.die_after_checkpoint_epoch:
        die_after_checkpoint(args.die_after_checkpoint_epoch)
    session = {"checkpoint_every": args.checkpoint_every_steps, "clock": StepClock()} if args.checkpoint_every_steps else {}
    run = train(args.home, args.data_dir, args.run_name, args.epochs, delay_per_batch=args.delay_per_batch, **session)
    print(f"FINISHED {run.folder}", flush=True)
