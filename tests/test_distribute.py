"""tf.distribute: every notebook's train step on two replicas makes the update one device makes on the whole
batch; checkpoints resume across replica counts; each training notebook runs with strategy = "mirrored".

The CPU is split into two logical devices, in processes of their own (tests/replica_check.py, papermill
kernels with GAN_CPU_REPLICAS=2): the same code runs MirroredStrategy over two GPUs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import papermill as pm
import pytest
import tensorflow as tf

import gan_helpers as gh

TESTS = Path(__file__).resolve().parent
NOTEBOOKS = TESTS.parent / "notebooks"
NETWORKS = ("generator", "discriminator", "critic", "ema_generator", "generator_ab", "generator_ba",
            "discriminator_a", "discriminator_b")
TOLERANCE = 1e-5  # float32 sums in another order; a mis-scaled loss or other noise is off by ~1e-2


def replica_check(model: str, mode: str) -> dict:
    done = subprocess.run([sys.executable, str(TESTS / "replica_check.py"), model, mode], capture_output=True,
                          text=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def assert_same_state(groups: dict) -> None:
    networks = [name for name in groups if name in NETWORKS]
    assert networks, groups
    for name, group in groups.items():
        if name in NETWORKS:
            assert group["moved"] > 1e-3, f"{name} did not train: {group}"  # else equality would prove nothing
        assert group["difference"] < TOLERANCE, f"{name}: {group}"
    assert groups["random_state"]["arrays"] >= 1 and groups["random_state"]["difference"] == 0


@pytest.mark.parametrize("model", ["simple_gan", "dcgan", "wgan_gp", "cgan", "acgan", "cyclegan"])
def test_two_replicas_make_the_update_one_device_makes_on_the_whole_batch(model):
    result = replica_check(model, "same")
    assert result["replicas"] == 2
    assert_same_state(result["groups"])  # weights, BatchNorm statistics, averages, optimizer steps, random state
    one, two = result["losses"]["one_device"], result["losses"]["two_replicas"]
    assert one.keys() == two.keys()
    for name in one:  # the losses are logged unscaled: the mean over the global batch, as on one device
        assert two[name] == pytest.approx(one[name], rel=1e-4, abs=1e-5), name


@pytest.mark.parametrize("model", ["dcgan", "wgan_gp", "cyclegan"])
def test_a_checkpoint_resumes_with_another_replica_count(model):
    result = replica_check(model, "resume")
    assert set(result["resumes"]) == {"2_then_1", "1_then_2"}
    for groups in result["resumes"].values():  # a step on one count, a checkpoint, a step on the other
        assert_same_state(groups)  # = two steps straight on one device


def test_on_one_device_the_replica_helpers_change_nothing():
    values = tf.constant(np.arange(12, dtype="float32").reshape(6, 2))
    assert gh.replicas() == 1
    assert int(gh.global_batch(6)) == 6
    for helper in (gh.replica_share, gh.all_replicas, gh.replica_loss):
        np.testing.assert_array_equal(helper(values).numpy(), values.numpy())


def test_strategy_choices_and_bad_values_are_explained(capsys):
    strategy = gh.choose_strategy("none", batch_size=64)
    assert strategy.num_replicas_in_sync == 1 and "1 replica" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"strategy='gpus'.*'auto', 'mirrored', 'tpu', 'none'"):
        gh.choose_strategy("gpus")
    if not gh.distribute.tpu_attached():
        with pytest.raises(RuntimeError, match="no TPU.*Runtime > Change runtime type > TPU"):
            gh.choose_strategy("tpu")


def test_a_batch_that_does_not_split_across_replicas_is_refused():
    code = ("import gan_helpers as gh\n"
            "try:\n    gh.choose_strategy('mirrored', batch_size=5)\n"
            "except ValueError as error:\n    print('REFUSED', error)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GAN_CPU_REPLICAS": "2", "CUDA_VISIBLE_DEVICES": ""})
    assert "REFUSED batch_size=5 does not split evenly across the 2 replicas" in done.stdout, done.stderr[-2000:]
    assert "use a multiple of 2 (e.g. 6)" in done.stdout


# Each training notebook in smoke mode on two replicas (two logical CPUs). The DCGAN also takes float16 with
# loss scaling (keras-team/keras#18666: LossScaleOptimizer under MirroredStrategy) and asks for two steps
# per execution, which Keras 3.15 cannot run under MirroredStrategy (gh.usable_steps_per_execution falls
# back to 1 and says so); the WGAN-GP's nested gradient tape is keras-team/keras#20164's case.
MIRRORED_RUNS = {
    "simple_gan_mnist.ipynb": {},
    "dcgan_mnist.ipynb": {"precision": "mixed_float16", "steps_per_execution": 2},
    "wgan_gp_mnist.ipynb": {},
    "conditional_gan_mnist.ipynb": {"conditioning": "acgan"},
    "cyclegan_monet2photo.ipynb": {"batch_size": 2},
}


@pytest.mark.parametrize("notebook", sorted(MIRRORED_RUNS))
def test_each_notebook_trains_with_the_mirrored_strategy(notebook, tmp_path, monkeypatch, tiny_mnist_dir):
    from fake_data import write_tiny_unpaired

    if not (tiny_mnist_dir / "monet2photo").exists():
        write_tiny_unpaired(tiny_mnist_dir, "monet2photo")
    for name, value in {"GAN_SMOKE": "1", "GAN_HOME": str(tmp_path / "home"), "GAN_DATA_DIR": str(tiny_mnist_dir),
                        "GAN_CPU_REPLICAS": "2", "CUDA_VISIBLE_DEVICES": "", "GAN_HEADLESS": "1"}.items():
        monkeypatch.setenv(name, value)
    output = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / notebook), str(output), cwd=str(NOTEBOOKS), kernel_name="python3",
                        parameters={"strategy": "mirrored", "run_name": "mirrored", **MIRRORED_RUNS[notebook]},
                        progress_bar=False)
    text = "".join(str(item.get("text", "")) for cell in json.loads(output.read_text())["cells"]
                   for item in cell.get("outputs", []))
    assert "strategy: MirroredStrategy · 2 replica(s)" in text
    if MIRRORED_RUNS[notebook].get("steps_per_execution", 1) > 1:  # Keras's multi-step loop fails under it
        assert "training with 1 step per execution" in text
    summaries = list((tmp_path / "home" / "runs").glob("*/mirrored/summary.json"))
    assert len(summaries) == 1
    assert json.loads(summaries[0].read_text())["epochs"] >= 1
    assert json.loads((summaries[0].parent / "config.json").read_text())["params"]["strategy"] == "mirrored"
