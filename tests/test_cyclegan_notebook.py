"""The CycleGAN notebook run by papermill (smoke sizes, fake data), as a user runs it twice: train,
then the finished run again with evaluation options that must not start a new run."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import papermill as pm
import pytest
from fake_data import TINY_UNPAIRED_COUNTS, tiny_painting, tiny_photo, write_tiny_unpaired
from PIL import Image

import gan_helpers as gh  # noqa: F401 - registers the layers the saved generators use

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "cyclegan_monet2photo.ipynb"


@pytest.fixture
def smoke_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_SMOKE", "1")
    monkeypatch.setenv("GAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GAN_DATA_DIR", str(write_tiny_unpaired(tmp_path / "data")))
    return tmp_path


def execute(tmp_path: Path, name: str, **parameters) -> str:
    output = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(output), parameters=parameters, kernel_name="python3",
                        cwd=str(NOTEBOOK.parent), progress_bar=False)
    cells = json.loads(output.read_text())["cells"]
    return "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))


def test_run_folder_then_kaggle_zip_and_inception_without_training_again(smoke_env):
    output = execute(smoke_env, "first", run_name="pm")
    folder = smoke_env / "home" / "runs" / "cyclegan_monet2photo" / "pm"

    assert "Inception metrics skipped" in output  # offline here: one line, then the offline measures
    translated_a = sorted(p.name for p in (folder / "translated" / "testA_to_B").iterdir())
    translated_b = sorted(p.name for p in (folder / "translated" / "testB_to_A").iterdir())
    assert len(translated_a) == TINY_UNPAIRED_COUNTS["testA"]
    assert len(translated_b) == TINY_UNPAIRED_COUNTS["testB"] and all(":" in n and " " in n for n in translated_b)
    with Image.open(folder / "translated" / "testB_to_A" / translated_b[0]) as picture:
        assert picture.size == (32, 32) and picture.format == "JPEG"
    assert [p.name for p in gh.sample_paths(folder / "samples")] == ["epoch_0001.png", "epoch_0002.png"]
    assert (folder / "samples" / "samples.gif").exists() and (folder / "losses.png").exists()
    assert gh.CheckpointFolder(folder / "checkpoints").epochs() == [1, 2]
    rows = gh.read_metrics(folder / "metrics.csv")
    assert [r["learning_rate"] for r in rows] == pytest.approx([2e-4, 1e-4])
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["epochs"] == 2 and summary["generator"] is None
    assert summary["inception"] is None and summary["kaggle_images"] is None
    assert set(summary["evaluation"]) >= {"cycle_l1_a", "cycle_l1_b", "identity_l1_a", "identity_l1_b"}
    assert 0 < summary["evaluation"]["cycle_l1_b"] < 2
    assert summary["evaluation"]["two_sample_accuracy_b_to_a"] is None  # 3 and 4 test images: too few
    assert 0 <= summary["evaluation"]["checkerboard_energy_b_to_a"] <= 1
    config = json.loads((folder / "config.json").read_text())
    assert config["params"]["kaggle_images"] == 0 and config["params"]["image_size"] == 32
    assert "kaggle_images" in gh.BOOKKEEPING_PARAMS  # so asking for images.zip later resumes this run
    generator = keras.models.load_model(folder / "generator_BtoA.keras")
    assert generator(np.zeros((1, 32, 32, 3), "float32")).shape == (1, 32, 32, 3)

    # The finished run again, now asking for images.zip and Inception metrics (untrained weights from a
    # local file stand in for the ImageNet download): nothing is trained, the end is redone.
    weights = smoke_env / "inception_notop.weights.h5"
    keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg",
                                   input_shape=(299, 299, 3)).save_weights(weights)
    output = execute(smoke_env, "second", run_name="pm", kaggle_images=3, inception_weights=str(weights))

    assert "Run is complete (2/2 epochs); not training again" in output
    assert len(gh.read_metrics(folder / "metrics.csv")) == 2
    with zipfile.ZipFile(folder / "images.zip") as archive:
        assert archive.namelist() == ["00000.jpg", "00001.jpg", "00002.jpg"]
        with archive.open("00002.jpg") as entry, Image.open(entry) as picture:
            assert picture.size == (256, 256) and picture.mode == "RGB"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["kaggle_images"] == "images.zip"
    inception = summary["inception"]
    assert inception["num_fake"] == TINY_UNPAIRED_COUNTS["testB"] and inception["num_test_a"] == TINY_UNPAIRED_COUNTS["testA"]
    assert inception["num_train_a"] == TINY_UNPAIRED_COUNTS["trainA"]
    for key in ("kid_vs_test_a", "fid_vs_test_a", "mifid_vs_train_a", "fid_vs_train_a", "memorization_distance_vs_train_a"):
        assert np.isfinite(inception[key]), key
    assert inception["mifid_vs_train_a"] >= inception["fid_vs_train_a"]


def test_bad_parameter_stops_the_notebook_before_download_or_training(smoke_env):
    with pytest.raises(pm.PapermillExecutionError) as error:
        execute(smoke_env, "bad", image_size=250)
    assert error.value.ename == "ValueError" and "image_size=250 must be a multiple of 4" in error.value.evalue
    assert not (smoke_env / "home" / "runs").exists()


def test_another_pair_with_averages_and_resize_conv_named_in_grids_and_tables_with_a_two_sample_test(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_SMOKE", "1")
    monkeypatch.setenv("GAN_HOME", str(tmp_path / "home"))
    data = write_tiny_unpaired(tmp_path / "data", "horse2zebra")
    for index in range(12):  # enough test images for the two-sample test (2 per fold) and its floor (4)
        Image.fromarray(tiny_painting(200 + index)).save(data / "testA" / f"extra{index}.jpg", quality=95)
        Image.fromarray(tiny_photo(200 + index)).save(data / "testB" / f"extra{index}.jpg", quality=95)
    monkeypatch.setenv("GAN_DATA_DIR", str(data))
    output = tmp_path / "horses.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(output), parameters={"dataset": "horse2zebra", "run_name": "hz",
                                                                     "ema_decay": 0.9, "upsample": "resize_conv"},
                        kernel_name="python3", cwd=str(NOTEBOOK.parent), progress_bar=False)
    cells = json.loads(output.read_text())["cells"]
    shown = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/markdown", ""))
                    for c in cells for o in c.get("outputs", []))
    assert "A = horse (trainA/testA)" in shown and "B = zebra (trainB/testB)" in shown
    assert "| A (horse, " in shown and "| B (zebra, " in shown and "Monet" not in shown
    folder = tmp_path / "home" / "runs" / "cyclegan_monet2photo" / "hz"
    assert gh.run_domain_names(folder) == ("horse", "zebra")
    summary = json.loads((folder / "summary.json").read_text())
    evaluation = summary["evaluation"]
    assert summary["evaluation_without_ema"]["cycle_l1_a"] != evaluation["cycle_l1_a"]  # averages and trained differ
    for direction in ("a_to_b", "b_to_a"):  # translations after a few steps: easy to tell from real images
        assert 0.5 <= evaluation[f"two_sample_accuracy_{direction}"] <= 1.0
        assert 0 <= evaluation[f"two_sample_floor_{direction}"] <= 1
        assert evaluation[f"two_sample_images_{direction}"] == 12 + TINY_UNPAIRED_COUNTS["testA"]
    with Image.open(gh.sample_paths(folder / "samples")[-1]) as grid:
        pixels = np.asarray(grid)
    plain = np.asarray(gh.grid_image(np.zeros((4 * 6, 32, 32, 3), "float32"), ncols=6))
    assert pixels.shape[1] == plain.shape[1] and pixels.shape[0] > plain.shape[0]  # a band of titles on top
    band = pixels[:pixels.shape[0] - plain.shape[0]]
    assert (band < 128).any() and (band > 200).mean() > 0.6  # dark text on white

    assert list(gh.sweep.parameter_specs(NOTEBOOK)["dataset"].choices) == [*gh.CYCLEGAN_PAIRS, "folder"]
