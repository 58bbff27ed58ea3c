"""The DCGAN-family notebooks on colour images, run by papermill in smoke mode on a tiny CIFAR-10-layout
folder and on a folder of paintings: what a user gets with -p dataset cifar10 / folder."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import papermill as pm
import pytest
from fake_data import tiny_painting, write_tiny_cifar_folder
from PIL import Image

import gan_helpers as gh

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
RUNS = {  # notebook: its parameters (besides data_dir), the image side and whether it is conditional
    "dcgan_mnist": ({"dataset": "cifar10"}, 32),
    "wgan_gp_mnist": ({"dataset": "folder", "image_size": 64}, 64),
    "conditional_gan_mnist": ({"dataset": "cifar10", "conditioning": "acgan"}, 32),
}


@pytest.fixture
def smoke_home(monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("GAN_SMOKE", "1")
    monkeypatch.setenv("GAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    return tmp_path / "home"


PAINTINGS = 48  # WGAN-GP in smoke mode takes n_critic x batch_size = 32 images per generator step


def write_paintings(folder: Path, count: int = PAINTINGS) -> Path:
    folder.mkdir(parents=True)
    for index in range(count):
        Image.fromarray(tiny_painting(index, side=80)).save(folder / f"{index:05d}.jpg", quality=95)
    return folder


@pytest.mark.parametrize("notebook", sorted(RUNS))
def test_each_notebook_trains_on_colour_images_and_measures_them(notebook, smoke_home, tmp_path):
    parameters, side = RUNS[notebook]
    data_dir = (write_paintings(tmp_path / "paintings") if parameters["dataset"] == "folder"
                else write_tiny_cifar_folder(tmp_path / "cifar"))
    output = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / f"{notebook}.ipynb"), str(output), cwd=str(NOTEBOOKS), kernel_name="python3",
                        parameters={**parameters, "data_dir": str(data_dir), "run_name": "colour"}, progress_bar=False)
    text = "".join(str(item.get("text", "")) for cell in json.loads(output.read_text())["cells"]
                   for item in cell.get("outputs", []))
    folder = smoke_home / "runs" / notebook / "colour"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "complete"
    for part in ("evaluation", "floor"):
        assert summary[part]["extractor"]["name"] == "cifar10-cifar-cnn-v1"  # colour images: CIFAR-10's classifier
        assert np.isfinite(summary[part]["frechet_distance"])
    assert summary["floor"]["frechet_distance"] < summary["evaluation"]["frechet_distance"]  # two epochs: far off
    generator = keras.models.load_model(folder / "generator.keras")
    noise = np.zeros((2, generator.inputs[0].shape[-1]), "float32")
    inputs = [noise, np.array([1, 9], "int32")] if len(generator.inputs) == 2 else noise
    assert keras.ops.convert_to_numpy(generator(inputs)).shape == (2, side, side, 3)
    with Image.open(gh.sample_paths(folder / "samples")[-1]) as grid:
        assert grid.mode == "RGB"
    if notebook == "conditional_gan_mnist":
        assert 0 <= summary["evaluation"]["conditional_accuracy"] <= 1  # the CIFAR-10 classes asked for
    if parameters["dataset"] == "folder":
        assert f"every second one of the {PAINTINGS} images in {data_dir}" in text
