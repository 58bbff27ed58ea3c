"""Tests for gan_helpers.plots: every test reads back the files the functions write."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from gan_helpers.plots import (
    SampleGrid,
    fixed_noise,
    grid_image,
    make_gif,
    plot_losses,
    sample_paths,
    save_grid,
    show_image,
)

LATENT_DIM = 8


def read_pixels(path: Path) -> np.ndarray:
    with Image.open(path) as picture:
        return np.asarray(picture)


def tile_centre(index: int, ncols: int, tile_px: int, border_px: int = 2) -> tuple[int, int]:
    """(row, col) of the centre pixel of tile ``index`` in a grid written by save_grid."""
    top = border_px + (index // ncols) * (tile_px + border_px)
    left = border_px + (index % ncols) * (tile_px + border_px)
    return top + tile_px // 2, left + tile_px // 2


def tiny_generator(with_batch_norm: bool = False) -> keras.Model:
    """Dense -> (BatchNorm) -> tanh -> 28x28x1, small enough to run in milliseconds."""
    keras.utils.set_random_seed(0)
    layers = [keras.Input((LATENT_DIM,)), keras.layers.Dense(28 * 28)]
    if with_batch_norm:
        layers.append(keras.layers.BatchNormalization())
    layers += [keras.layers.Activation("tanh"), keras.layers.Reshape((28, 28, 1))]
    return keras.Sequential(layers)


def write_metrics(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as file:
        columns = ["epoch", "d_loss", "g_loss", "seconds", "images_per_sec"]
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- save_grid -------------------------------------------------------------------------


def test_save_grid_grey_has_expected_size_mode_and_pixel_values(tmp_path):
    images = np.zeros((16, 28, 28, 1), dtype=np.float32)
    images[0] = -1.0
    images[1] = 1.0
    path = save_grid(images, tmp_path / "grid.png")

    # 4 columns of 28 px -> 112 px, so tiles are upscaled x3 (84 px) to pass 256 px.
    tile_px, ncols = 84, 4
    side = ncols * tile_px + (ncols + 1) * 2
    assert path == tmp_path / "grid.png"
    with Image.open(path) as picture:
        assert picture.format == "PNG"
        assert picture.mode == "L"
        assert picture.size == (side, side)
    pixels = read_pixels(path)
    assert pixels[tile_centre(0, ncols, tile_px)] == 0
    assert pixels[tile_centre(1, ncols, tile_px)] == 255
    assert pixels[tile_centre(2, ncols, tile_px)] in (127, 128)
    # The whole first tile is black: upscaling is nearest-neighbour, not blurred.
    assert (pixels[2 : 2 + tile_px, 2 : 2 + tile_px] == 0).all()


def test_save_grid_colour_has_expected_size_mode_and_colours(tmp_path):
    images = -np.ones((6, 32, 32, 3), dtype=np.float32)
    images[0, ..., 0] = 1.0  # red
    images[4, ..., 2] = 1.0  # blue
    path = save_grid(images, tmp_path / "colour.png")

    # ceil(sqrt(6)) = 3 columns x 2 rows; 3 * 32 = 96 px -> upscaled x3 (96 px tiles).
    tile_px, ncols = 96, 3
    with Image.open(path) as picture:
        assert picture.mode == "RGB"
        assert picture.size == (ncols * tile_px + 4 * 2, 2 * tile_px + 3 * 2)
    pixels = read_pixels(path)
    assert tuple(pixels[tile_centre(0, ncols, tile_px)]) == (255, 0, 0)
    assert tuple(pixels[tile_centre(4, ncols, tile_px)]) == (0, 0, 255)
    assert tuple(pixels[tile_centre(5, ncols, tile_px)]) == (0, 0, 0)


def test_save_grid_keeps_large_images_at_native_size_and_honours_ncols(tmp_path):
    # 2 x 64 px is only 128 px wide, but 64 px tiles are not "small", so no upscaling.
    path = save_grid(np.zeros((4, 64, 64, 3), dtype=np.float32), tmp_path / "big.png", ncols=2)
    with Image.open(path) as picture:
        assert picture.size == (2 * 64 + 3 * 2, 2 * 64 + 3 * 2)
    path = save_grid(np.zeros((3, 64, 64, 3), dtype=np.float32), tmp_path / "row.png", ncols=3)
    with Image.open(path) as picture:
        assert picture.size == (3 * 64 + 4 * 2, 64 + 2 * 2)


def test_save_grid_accepts_three_dimensional_tensor(tmp_path):
    import tensorflow as tf

    images = tf.ones((4, 28, 28))
    path = save_grid(images, tmp_path / "tensor.png")
    with Image.open(path) as picture:
        assert picture.mode == "L"
    assert read_pixels(path)[tile_centre(3, 2, 28 * math.ceil(256 / 56))] == 255


def test_save_grid_creates_folders_overwrites_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "run" / "samples" / "grid.png"
    save_grid(-np.ones((4, 28, 28, 1)), target)
    save_grid(np.ones((4, 28, 28, 1)), target)
    assert list(target.parent.iterdir()) == [target]
    assert (read_pixels(target)[tile_centre(0, 2, 28 * 5)]) == 255


def test_save_grid_rejects_non_finite_values(tmp_path):
    images = np.zeros((4, 28, 28, 1), dtype=np.float32)
    images[2, 3, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        save_grid(images, tmp_path / "nan.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("shape", [(28, 28), (2, 28, 28, 2), (0, 28, 28, 1), (1, 2, 28, 28, 1)])
def test_save_grid_rejects_wrong_shapes(tmp_path, shape):
    with pytest.raises(ValueError, match=r"got shape \(" + ", ".join(map(str, shape))):
        save_grid(np.zeros(shape, dtype=np.float32), tmp_path / "bad.png")


def test_save_grid_rejects_ncols_below_one(tmp_path):
    with pytest.raises(ValueError, match="ncols must be >= 1"):
        save_grid(np.zeros((4, 28, 28, 1)), tmp_path / "grid.png", ncols=0)


def test_save_grid_titles_each_column_in_a_white_band_above_it(tmp_path):
    images = -np.ones((12, 64, 64, 3), dtype=np.float32)  # black tiles, 6 columns x 2 rows
    plain = np.asarray(grid_image(images, ncols=6))
    path = save_grid(images, tmp_path / "titled.png", ncols=6,
                     titles=["horse", "as zebra", "back to horse", "zebra", "as horse", "back to zebra"])
    titled = read_pixels(path)
    band = titled.shape[0] - plain.shape[0]
    assert titled.shape[1] == plain.shape[1] and 12 <= band <= 40
    np.testing.assert_array_equal(titled[band:], plain)  # the tiles are unchanged, below the band
    for column in range(6):
        left = 2 + column * (64 + 2)
        cell = titled[:band, left:left + 64].min(axis=-1)
        assert (cell < 128).sum() > 20, column  # some text in every column's title
        assert (cell > 200).mean() > 0.6  # on white
    with pytest.raises(ValueError, match="Got 2 titles for 6 columns"):
        grid_image(images, ncols=6, titles=["a", "b"])


# --- fixed_noise -----------------------------------------------------------------------


def test_fixed_noise_is_deterministic_per_seed_and_differs_across_seeds():
    first = fixed_noise(500, 16, seed=7)
    assert first.dtype == np.float32
    assert first.shape == (500, 16)
    np.testing.assert_array_equal(first, fixed_noise(500, 16, seed=7))
    assert not np.allclose(first, fixed_noise(500, 16, seed=8))
    assert abs(first.mean()) < 0.05 and abs(first.std() - 1.0) < 0.05


# --- plot_losses -----------------------------------------------------------------------


def test_plot_losses_draws_only_loss_columns_by_default(tmp_path):
    rows = [
        {"epoch": e, "d_loss": 1.4 - 0.1 * e, "g_loss": 0.7 + 0.2 * e, "seconds": 30 + e}
        for e in range(1, 6)
    ]
    metrics = write_metrics(tmp_path / "metrics.csv", rows)

    default = plot_losses(metrics, tmp_path / "plots" / "losses.png")
    explicit = plot_losses(metrics, tmp_path / "explicit.png", columns=["d_loss", "g_loss"])
    with_seconds = plot_losses(
        metrics, tmp_path / "seconds.png", columns=["d_loss", "g_loss", "seconds"]
    )

    with Image.open(default) as picture:
        assert picture.format == "PNG"
        assert picture.size[0] >= 300
    np.testing.assert_array_equal(read_pixels(default), read_pixels(explicit))
    assert not np.array_equal(read_pixels(default), read_pixels(with_seconds))


def test_plot_losses_says_nothing_to_plot_for_empty_or_missing_csv(tmp_path):
    empty = write_metrics(tmp_path / "metrics.csv", [])
    with pytest.raises(ValueError, match="nothing to plot yet"):
        plot_losses(empty, tmp_path / "losses.png")
    with pytest.raises(ValueError, match="nothing to plot yet"):
        plot_losses(tmp_path / "absent.csv", tmp_path / "losses.png")
    assert not (tmp_path / "losses.png").exists()


def test_plot_losses_names_unknown_columns(tmp_path):
    metrics = write_metrics(tmp_path / "metrics.csv", [{"epoch": 1, "d_loss": 1, "g_loss": 1}])
    with pytest.raises(ValueError, match="gp_loss"):
        plot_losses(metrics, tmp_path / "losses.png", columns=["gp_loss"])


# --- make_gif --------------------------------------------------------------------------


def test_make_gif_has_all_frames_loops_and_holds_the_last(tmp_path):
    frames = [
        save_grid(np.full((4, 28, 28, 1), value), tmp_path / f"epoch_{number:04d}.png")
        for number, value in enumerate([-1, 0, 1], start=1)
    ]
    path = make_gif(frames, tmp_path / "progress.gif", duration_ms=200)
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 3
        assert gif.info["loop"] == 0
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
    assert durations == [200, 200, 600]


def test_make_gif_without_frames_raises(tmp_path):
    with pytest.raises(ValueError, match="no frames"):
        make_gif([], tmp_path / "empty.gif")


# --- show_image ------------------------------------------------------------------------


def test_show_image_prints_path_outside_a_kernel(tmp_path, capsys):
    show_image(tmp_path / "grid.png")
    assert capsys.readouterr().out.strip() == f"saved {tmp_path / 'grid.png'}"


def test_show_image_works_without_ipython(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)  # makes `import IPython` raise ImportError
    show_image(tmp_path / "grid.png")
    assert "saved" in capsys.readouterr().out


# --- SampleGrid and sample_paths ------------------------------------------------------


def test_sample_grid_saves_every_n_epochs_and_the_last_during_fit(tmp_path):
    dummy = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    dummy.compile(optimizer="sgd", loss="mse")
    noise = fixed_noise(4, LATENT_DIM, seed=0)
    callback = SampleGrid(tiny_generator(), noise, tmp_path, every=2, show=False)
    dummy.fit(np.zeros((8, 1)), np.zeros((8, 1)), epochs=5, verbose=0, callbacks=[callback])
    saved = sorted(path.name for path in tmp_path.iterdir())
    assert saved == ["epoch_0002.png", "epoch_0004.png", "epoch_0005.png"]


@pytest.mark.parametrize("params", [None, {"verbose": 0}])
def test_sample_grid_without_epoch_count_uses_only_every(tmp_path, params):
    noise = fixed_noise(4, LATENT_DIM, seed=0)
    callback = SampleGrid(tiny_generator(), noise, tmp_path, every=2, show=False)
    if params is not None:
        callback.set_params(params)
    for epoch in range(5):
        callback.on_epoch_end(epoch)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["epoch_0002.png", "epoch_0004.png"]


def test_sample_grid_uses_inference_mode_and_shows_the_grid(tmp_path, capsys):
    generator = tiny_generator(with_batch_norm=True)
    noise = fixed_noise(16, LATENT_DIM, seed=3)
    callback = SampleGrid(generator, noise, tmp_path / "samples", every=1, show=True)
    callback.set_model(generator)
    callback.set_params({"epochs": 3})
    callback.on_epoch_end(0)

    saved = tmp_path / "samples" / "epoch_0001.png"
    assert capsys.readouterr().out.strip() == f"saved {saved}"
    inference = save_grid(generator(noise, training=False), tmp_path / "inference.png")
    training = save_grid(generator(noise, training=True), tmp_path / "training.png")
    np.testing.assert_array_equal(read_pixels(saved), read_pixels(inference))
    assert not np.array_equal(read_pixels(saved), read_pixels(training))


def test_sample_grid_rejects_every_below_one(tmp_path):
    with pytest.raises(ValueError, match="every must be >= 1"):
        SampleGrid(tiny_generator(), fixed_noise(4, LATENT_DIM, seed=0), tmp_path, every=0)


def test_sample_paths_sorts_by_epoch_number(tmp_path):
    names = ["epoch_0010.png", "epoch_0009.png", "epoch_0001.png", "epoch_100.png", "epoch_2.png"]
    for name in names + ["epoch_final.png", "losses.png", "epoch_0003.gif"]:
        (tmp_path / name).write_bytes(b"")
    # Numeric, not alphabetical: alphabetically epoch_100 < epoch_2 > epoch_0010.
    expected = ["epoch_0001.png", "epoch_2.png", "epoch_0009.png", "epoch_0010.png", "epoch_100.png"]
    assert [path.name for path in sample_paths(tmp_path)] == expected
    assert sample_paths(tmp_path / "missing") == []
