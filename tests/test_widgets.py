"""Play with it: the widgets' handlers, their headless pictures, and the live training view.

The handlers are called directly (as a slider, a button or an upload calls them) on small real
Keras generators; what they show is compared with what the generator gives for the same input.
"""

from __future__ import annotations

import io

import keras
import nbformat
import numpy as np
import papermill as pm
import pytest
from PIL import Image

import gan_helpers as gh
from gan_helpers.translate import translate_with
from gan_helpers.widgets import ClassPicker, LatentExplorer, TranslateWidget, headless, png_bytes, seed_noise, uploaded_files

LATENT = 6


def unconditional_generator(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    noise = keras.Input((LATENT,))
    x = keras.layers.Dense(7 * 7, activation="tanh")(noise)
    return keras.Model(noise, keras.layers.Reshape((7, 7, 1))(x), name="tiny_generator")


def conditional_generator(classes: int = 4) -> keras.Model:
    keras.utils.set_random_seed(1)
    noise, label = keras.Input((LATENT,)), keras.Input((), dtype="int32")
    x = keras.layers.Concatenate()([noise, keras.layers.Embedding(classes, 3)(label)])
    x = keras.layers.Dense(7 * 7, activation="tanh")(x)
    return keras.Model([noise, label], keras.layers.Reshape((7, 7, 1))(x), name="tiny_conditional")


def generate(generator, noise, labels=None) -> np.ndarray:
    return keras.ops.convert_to_numpy(generator(noise if labels is None else [noise, labels], training=False))


def test_slerp_runs_along_the_great_circle_from_z0_to_z1():
    z0, z1 = seed_noise(0, LATENT)[0], seed_noise(1, LATENT)[0]
    np.testing.assert_allclose(gh.slerp(z0, z1, 0.0), z0, rtol=1e-6)
    np.testing.assert_allclose(gh.slerp(z0, z1, 1.0), z1, rtol=1e-6)
    angle = lambda a, b: np.arccos(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    z0, z1 = 2.5 * z0 / np.linalg.norm(z0), 2.5 * z1 / np.linalg.norm(z1)  # on one sphere: the path stays on it
    middle = gh.slerp(z0, z1, 0.3)
    np.testing.assert_allclose(np.linalg.norm(middle), 2.5, rtol=1e-5)
    np.testing.assert_allclose(angle(z0, middle), 0.3 * angle(z0, z1), rtol=1e-4)
    np.testing.assert_allclose(angle(middle, z1), 0.7 * angle(z0, z1), rtol=1e-4)


def test_moving_the_slider_shows_the_generators_output_at_slerp_z0_z1_t(tmp_path):
    generator = unconditional_generator()
    explorer = LatentExplorer(generator, seeds=(3, 8), save_dir=tmp_path)
    view = explorer.widget()  # the controls, as a notebook shows them
    assert view.children
    before = explorer.controls["image"].value
    explorer.controls["slider"].value = 0.3  # what dragging the slider does
    expected = generate(generator, gh.slerp(seed_noise(3, LATENT)[0], seed_noise(8, LATENT)[0], 0.3)[None])[0]
    np.testing.assert_array_equal(explorer.move(0.3), expected)
    shown = np.asarray(Image.open(io.BytesIO(explorer.controls["image"].value)))
    assert explorer.controls["image"].value != before
    enlarged = np.asarray(Image.open(io.BytesIO(png_bytes(gh.grid_image(expected[None])))))
    assert shown.shape[0] >= enlarged.shape[0]  # the same picture, enlarged for the screen

    strip_path = explorer.save("strip")
    image_path = explorer.save("image")
    assert strip_path.parent == tmp_path / "explorer" and image_path.name == "seeds_3_8_t0.30.png"
    with Image.open(strip_path) as strip:
        assert strip.width > 7 * 8  # eight tiles side by side


def test_seeds_can_be_random_and_a_bad_seed_is_named(tmp_path):
    explorer = LatentExplorer(unconditional_generator(), seeds=("random", 5), save_dir=tmp_path)
    assert isinstance(explorer.seeds[0], int) and explorer.seeds[1] == 5
    with pytest.raises(ValueError, match="seed='five'"):
        explorer.set_seeds("five", 1)
    grid = explorer.fresh_grid(9)
    assert grid.width > 3 * 7
    with pytest.raises(ValueError, match="unconditional"):
        LatentExplorer(unconditional_generator(), label=3)
    with pytest.raises(ValueError, match="no classes to pick"):
        ClassPicker(unconditional_generator())


def test_picking_class_k_asks_the_generator_for_label_k(tmp_path):
    generator = conditional_generator(classes=4)
    picker = ClassPicker(generator, label=0, seed=2, per_class=6, save_dir=tmp_path)
    picker.widget()
    picker.controls["classes"].value = 3  # what clicking the button "3" does
    noise = seed_noise(2, LATENT, 6)
    np.testing.assert_array_equal(picker.class_grid(), generate(generator, noise, np.full(6, 3, np.int32)))
    assert not np.array_equal(picker.pick(1), generate(generator, noise, np.full(6, 3, np.int32)))  # labels matter

    row = picker.vary(0.5)  # the noise slider: the class grid's first image and the row of every class move
    style = gh.slerp(seed_noise(2, LATENT)[0], seed_noise(3, LATENT)[0], 0.5)
    np.testing.assert_array_equal(row, generate(generator, np.repeat(style[None], 4, axis=0), np.arange(4, dtype=np.int32)))
    with pytest.raises(ValueError, match="out of range"):
        picker.pick(4)
    assert picker.save().name == "class_1_seed_2.png"


def cyclegan_run(tmp_path) -> object:
    """A run folder with two tiny image-to-image generators (16 px, different weights)."""
    folder = tmp_path / "cyclegan_run"
    folder.mkdir()
    for direction, seed in (("AtoB", 0), ("BtoA", 1)):
        keras.utils.set_random_seed(seed)
        inputs = keras.Input((16, 16, 3))
        keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(inputs)).save(
            folder / f"generator_{direction}.keras")
    return folder


def encoded(picture: Image.Image, format: str) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=format)
    return buffer.getvalue()


def test_an_uploaded_jpeg_and_png_come_back_translated_both_ways(tmp_path):
    folder = cyclegan_run(tmp_path)
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    drawing = Image.fromarray(rng.integers(0, 256, (24, 24), dtype=np.uint8))  # grey, square
    widget = TranslateWidget(folder)
    view = widget.widget()
    assert view.children
    # what ipywidgets 8's FileUpload holds after an upload
    uploads = ({"name": "holiday.jpg", "content": memoryview(encoded(photo, "JPEG"))},
               {"name": "sketch.png", "content": memoryview(encoded(drawing, "PNG"))})
    results = widget.translate_files(uploaded_files(uploads))
    assert [r.name for r in results] == ["holiday.jpg", "sketch.png"]
    for result, (name, content) in zip(results, uploaded_files(uploads).items()):
        original = Image.open(io.BytesIO(content))
        for direction in ("AtoB", "BtoA"):
            assert result.translated[direction].shape == (16, 16, 3)
            np.testing.assert_array_equal(result.translated[direction],
                                          translate_with(gh.load_generator(folder, direction), original))
            assert result.paths[direction] == folder / "my_translations" / f"{name.split('.')[0]}_{direction}.png"
            np.testing.assert_array_equal(np.asarray(Image.open(result.paths[direction])), result.translated[direction])
        assert not np.array_equal(result.translated["AtoB"], result.translated["BtoA"])
    assert widget.picture().size == (3 * 16, 2 * 16)
    assert widget.controls["view"].value == png_bytes(widget.picture())
    assert widget.controls["links"].value.count('download="') == 4
    with pytest.raises(ValueError, match="notes.txt is not a picture"):
        widget.translate_files({"notes.txt": b"not an image"})


def test_the_translate_widget_names_the_runs_pair(tmp_path):
    folder = cyclegan_run(tmp_path)

    def legend() -> str:
        return next(child.value for child in TranslateWidget(folder).widget().children if "each row" in str(
            getattr(child, "value", "")))

    assert legend() == "each row: your picture · as B (A→B) · as A (B→A)"  # a run that does not say
    (folder / "config.json").write_text('{"params": {"dataset": "horse2zebra"}}')
    assert legend() == "each row: your picture · as zebra (A→B) · as horse (B→A)"


def test_headless_calls_show_a_static_picture_and_return(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_HEADLESS", "1")
    assert headless()
    explorer = gh.latent_explorer(unconditional_generator(), save_dir=tmp_path)
    assert explorer.controls == {}  # no widget was made
    assert isinstance(explorer.show(), Image.Image)
    assert isinstance(gh.class_picker(conditional_generator()).show(), Image.Image)
    folder = cyclegan_run(tmp_path)
    (tmp_path / "photo.png").write_bytes(encoded(Image.new("RGB", (20, 20), "red"), "PNG"))
    widget = gh.translate_widget(folder, examples=[tmp_path / "photo.png"])
    assert [r.name for r in widget.results] == ["photo.png"]
    assert gh.translate_widget(folder).show() is None
    assert "headless" in capsys.readouterr().out


NOTEBOOK_CELLS = [
    """
import keras, numpy as np
import gan_helpers as gh
from pathlib import Path
noise = keras.Input((4,))
generator = keras.Model(noise, keras.layers.Reshape((2, 2, 1))(keras.layers.Dense(4, activation="tanh")(noise)))
folder = Path("run"); folder.mkdir(exist_ok=True)
""",
    # the live view during a 3-epoch fit: the metrics row and the grid come first, as in the notebooks
    """
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
log = gh.runs.EpochMetricsLog(folder / "metrics.csv", images_per_step=2)
grid = gh.SampleGrid(generator, np.zeros((4, 4), "float32"), folder / "samples", show=False)
view = gh.LiveTrainingView(folder / "metrics.csv", folder / "samples")
model.fit(np.zeros((8, 3), "float32"), np.zeros((8, 1), "float32"), epochs=3, verbose=0, callbacks=[log, grid, view])
""",
    "print('updates', view.updates)",
    "explorer = gh.latent_explorer(generator, save_dir=folder)",
]


def test_in_an_executed_notebook_the_live_view_is_one_replaced_picture_and_widgets_are_static(tmp_path, monkeypatch):
    """papermill's kernel keeps no history: that alone makes the widgets headless (no smoke mode, no GAN_HEADLESS)."""
    monkeypatch.delenv("GAN_SMOKE", raising=False)
    monkeypatch.delenv("GAN_HEADLESS", raising=False)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK_CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "in.ipynb")
    pm.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), cwd=str(tmp_path), progress_bar=False)
    cells = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells
    fit_outputs = [o for o in cells[1].outputs if "image/png" in o.get("data", {})]
    assert len(fit_outputs) == 1  # three updates, one picture
    assert "updates 3" in cells[2].outputs[0]["text"]
    explorer_outputs = cells[3].outputs
    assert [o for o in explorer_outputs if "image/png" in o.get("data", {})]  # a static picture ...
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in explorer_outputs)  # ... no widget


def test_the_live_view_draws_the_newest_grid_the_losses_and_the_quality(tmp_path):
    gh.runs.write_metrics(tmp_path / "metrics.csv", [
        {"epoch": 1, "d_loss": 1.2, "g_loss": 0.8, "q_frechet_distance": 90.0, "seconds": 3.0},
        {"epoch": 2, "d_loss": 1.1, "g_loss": 0.9, "q_frechet_distance": 40.0, "seconds": 3.0}])
    gh.save_grid(np.zeros((4, 7, 7, 1)), tmp_path / "samples" / "epoch_0001.png")
    gh.save_grid(np.ones((4, 7, 7, 1)), tmp_path / "samples" / "epoch_0002.png")
    grid_axes, losses, quality = gh.LiveTrainingView(tmp_path / "metrics.csv", tmp_path / "samples").figure().axes
    assert grid_axes.get_title() == "epoch 0002" and grid_axes.images[0].get_array().min() == 255  # the newest (white) grid
    assert sorted(line.get_label() for line in losses.lines) == ["d_loss", "g_loss"]
    assert list(quality.lines[0].get_ydata()) == [90.0, 40.0] and quality.get_yscale() == "log"
    assert len(gh.LiveTrainingView(tmp_path / "metrics.csv", tmp_path / "samples", quality=None).figure().axes) == 2
