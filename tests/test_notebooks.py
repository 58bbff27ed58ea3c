"""The Simple GAN notebook run by papermill with injected parameters, as a batch user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import papermill as pm
import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "simple_gan_mnist.ipynb"


@pytest.fixture
def papermill_env(monkeypatch, tmp_path, tiny_mnist_dir):
    """A real (not smoke) run, small through its parameters, under a throwaway GAN_HOME."""
    monkeypatch.setenv("GAN_SMOKE", "0")
    monkeypatch.setenv("GAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    return tmp_path


def execute(tmp_path: Path, name: str, **parameters) -> dict:
    output = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(output), parameters=parameters, kernel_name="python3",
                        cwd=str(NOTEBOOK.parent), progress_bar=False)
    return json.loads(output.read_text())


def summary_best(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())["best"]


def all_output_text(notebook: dict) -> str:
    return "".join("".join(o.get("text", "")) for c in notebook["cells"] for o in c.get("outputs", []))


def test_papermill_run_leaves_the_documented_run_folder(papermill_env, tiny_mnist_dir):
    parameters = dict(data_dir=str(tiny_mnist_dir), epochs=3, batch_size=16, latent_dim=16,
                      sample_every=2, run_name="papermill-test", seed=7)
    notebook = execute(papermill_env, "first", **parameters)
    folder = papermill_env / "home" / "runs" / "simple_gan_mnist" / "papermill-test"

    config = json.loads((folder / "config.json").read_text())
    for name, value in parameters.items():
        if name != "data_dir":
            assert config["params"][name] == value  # the injected values, with their types
    assert config["provenance"]["data_dir"] == str(tiny_mnist_dir)
    assert {"versions", "git_commit", "device", "seed", "started_at"} <= set(config["provenance"])
    assert [p.name for p in sorted((folder / "samples").glob("epoch_*.png"))] == ["epoch_0002.png", "epoch_0003.png"]
    assert (folder / "samples" / "samples.gif").exists() and (folder / "losses.png").exists()
    # keep_checkpoints = 2 by default; no checkpoint inside an epoch (checkpoint_every: 10 minutes)
    assert sorted(p.name for p in (folder / "checkpoints").glob("epoch_*.npz")) == ["epoch_0002.npz", "epoch_0003.npz"]
    assert config["code"]["parts"].keys() == {"class GAN", "network generator", "network discriminator"}
    assert (folder / "checkpoints" / "best.npz").exists() and summary_best(folder)["metric"] == "frechet_distance"
    assert (folder / "class_histogram.png").exists()
    metrics = (folder / "metrics.csv").read_text().splitlines()
    header = metrics[0].split(",")
    assert header[:3] == ["epoch", "d_loss", "g_loss"] and header[-2:] == ["seconds", "images_per_sec"]
    assert "q_frechet_distance" in header and len(metrics) == 4
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["epochs"] == 3
    for part in ("evaluation", "floor"):
        assert summary[part]["classes_covered"] >= 1 and summary[part]["extractor"]["name"] == "mnist-cnn-v1"
    generator = keras.models.load_model(folder / "generator.keras")  # no notebook code needed
    images = keras.ops.convert_to_numpy(generator(np.zeros((2, 16), "float32")))
    assert images.shape == (2, 28, 28, 1) and np.abs(images).max() <= 1.0
    assert str(folder / "samples" / "epoch_0003.png") in all_output_text(notebook)

    # The same parameters again: the run is complete, nothing is trained.
    again = execute(papermill_env, "second", **parameters)
    assert "Run is complete (3/3 epochs); not training again" in all_output_text(again)
    assert len((folder / "metrics.csv").read_text().splitlines()) == 4


@pytest.mark.parametrize("name, value, expected", [
    ("epochs", -1, "epochs=-1"),
    ("dataset", "cifar10", "'mnist', 'fashion_mnist'"),
    ("batch_size", 0, "batch_size=0"),
    ("latent_dim", 2.5, "latent_dim=2.5 must be a whole number"),
    ("run_name", "../../etc", "run_name='../../etc' must be a plain folder name"),
    ("data_dir", 123, "data_dir=123 must be a string"),
])
def test_bad_parameter_stops_the_notebook_before_download_or_training(papermill_env, name, value, expected):
    # No data_dir and no reachable mirror: had the check come after loading, the error would be a download error.
    with pytest.raises(pm.PapermillExecutionError) as error:
        execute(papermill_env, "bad", **{name: value})
    assert error.value.ename == "ValueError" and expected in error.value.evalue
    home = papermill_env / "home"
    assert not (home / "runs").exists() and not (home / "datasets").exists()
