"""gh.sample / gh.save_samples on saved generators, and the conditional quality metrics."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

import gan_helpers as gh
from gan_helpers import metrics

NOISE = 4
CLASSES = 10


def conditional_generator(ignore_label: bool = False) -> keras.Model:
    """Noise and label in; every pixel of the image is (label / 10) * 2 - 1 (plus a trace of noise),
    or, with ``ignore_label``, a value set by the noise alone."""
    noise, label = keras.Input((NOISE,), name="noise"), keras.Input((), dtype="int32", name="label")
    one_hot = layers.CategoryEncoding(CLASSES, output_mode="one_hot")(label)
    level = layers.Dense(1, kernel_initializer=keras.initializers.Constant(np.arange(CLASSES)[:, None] / 5 - 1),
                         use_bias=False)(one_hot)
    if ignore_label:  # the label still goes in, with no weight
        level = layers.Add()([layers.Dense(1, activation="tanh")(noise), layers.Dense(1, kernel_initializer="zeros")(one_hot)])
    wiggle = layers.Dense(28 * 28, kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3))(noise)
    image = layers.Reshape((28, 28, 1))(layers.Add()([wiggle, layers.RepeatVector(28 * 28)(level)[..., 0]]))
    return keras.Model([noise, label], image, name="conditional")


def unconditional_generator() -> keras.Model:
    return keras.Sequential([keras.Input((NOISE,)), layers.Dense(28 * 28, activation="tanh"), layers.Reshape((28, 28, 1))],
                            name="unconditional")


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("conditional_run")
    conditional_generator().save(folder / "generator.keras")
    return folder


@pytest.fixture(scope="module")
def unconditional_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unconditional_run")
    unconditional_generator().save(folder / "generator.keras")
    return folder


def test_sample_with_a_label_gives_that_many_images_of_that_class(conditional_run):
    sevens = gh.sample(conditional_run, n=5, label=7)
    assert sevens.shape == (5, 28, 28) and sevens.dtype == np.uint8
    np.testing.assert_allclose(sevens.mean(axis=(1, 2)), (7 / 5 - 1 + 1) * 127.5, atol=1.5)  # the level of class 7
    twos = gh.sample(conditional_run, n=5, label=2)
    assert abs(float(twos.mean()) - (2 / 5) * 127.5) < 1.5
    mixed = gh.sample(conditional_run, n=3, label=[0, 9, 4])  # one label per image
    np.testing.assert_allclose(mixed.mean(axis=(1, 2)), [0, 9 / 5 * 127.5, 4 / 5 * 127.5], atol=1.5)
    np.testing.assert_array_equal(gh.sample(conditional_run, n=5, label=7, seed=3),
                                  gh.sample(conditional_run, n=5, label=7, seed=3))  # the seed fixes the noise


@pytest.mark.parametrize("bad, message", [(10, "label=10 is out of range: this generator knows classes 0..9"),
                                          (-1, "label=-1 is out of range"),
                                          (2.5, "must be a whole class number 0..9"),
                                          (True, "must be a whole class number"),
                                          ([1, 2], r"give one class for all 5 images, or exactly 5 labels")])
def test_sample_rejects_bad_labels(conditional_run, bad, message):
    with pytest.raises(ValueError, match=message):
        gh.sample(conditional_run, n=5, label=bad)


def test_a_label_for_an_unconditional_run_is_refused(unconditional_run):
    assert gh.sample(unconditional_run, n=4).shape == (4, 28, 28)
    with pytest.raises(ValueError, match="unconditional.*without label"):
        gh.sample(unconditional_run, n=4, label=3)


def test_missing_generator_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="generator.keras does not exist"):
        gh.sample(tmp_path, n=1)


def test_save_samples_of_a_conditional_run_has_one_row_per_class(conditional_run, tmp_path):
    path = gh.save_samples(conditional_run, tmp_path / "grid.png", n=30)  # 3 per class
    with Image.open(path) as grid:
        pixels = np.asarray(grid)
    # rows of tiles: the grey level of class c is c / 5 * 127.5; the borders are white (255)
    row_levels = [np.median(row[row < 250]) for row in np.array_split(pixels[2:-2], CLASSES) if (row < 250).any()]
    np.testing.assert_allclose(row_levels, np.arange(CLASSES) / 5 * 127.5, atol=2)
    assert pixels.shape[0] > 3 * pixels.shape[1]  # 10 rows of 3 columns
    single = gh.save_samples(conditional_run, tmp_path / "fours.png", n=4, label=4, ncols=2)
    assert Image.open(single).size[0] == Image.open(single).size[1]


def test_sample_works_in_a_fresh_process(conditional_run):
    code = textwrap.dedent(f"""
        import gan_helpers as gh
        images = gh.sample({str(conditional_run)!r}, n=3, label=8)
        print("RESULT", images.shape, images.dtype, int(images.mean()))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True).stdout
    result = out[out.index("RESULT"):].split()
    assert result[1:5] == ["(3,", "28,", "28)", "uint8"]
    assert abs(int(result[5]) - 8 / 5 * 127.5) <= 2


# ---- the conditional metrics

def test_conditional_accuracy_counts_the_requested_class():
    probabilities = np.eye(3)[[0, 1, 2, 2]] * 0.9 + 0.1 / 3
    assert metrics.conditional_accuracy(probabilities, np.array([0, 1, 2, 0])) == 0.75
    with pytest.raises(ValueError, match="outside 0..2"):
        metrics.conditional_accuracy(probabilities, np.array([0, 1, 2, 3]))


def test_intra_class_frechet_distance_is_the_mean_of_the_per_class_distances():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 200)
    centres = np.array([[0, 0], [5, 0], [0, 5]], dtype=float)
    real = centres[labels] + rng.normal(size=(600, 2))
    fake = centres[labels] + rng.normal(size=(600, 2))
    mean, per_class = metrics.intra_class_frechet_distance(real, labels, fake, labels)
    expected = [metrics.frechet_distance(real[labels == c], fake[labels == c]) for c in range(3)]
    np.testing.assert_allclose(per_class, expected)
    assert mean == pytest.approx(np.mean(expected)) and mean < 0.1
    # The same images under the wrong labels: the overall distribution is unchanged, the per-class one is not.
    shuffled, _ = metrics.intra_class_frechet_distance(real, labels, fake, (labels + 1) % 3)
    assert shuffled > 20
    assert metrics.frechet_distance(real, fake) < 0.1
    with pytest.raises(ValueError, match="class 2 has 200 real and 1 fake"):
        metrics.intra_class_frechet_distance(real, labels, fake[:401], labels[:401])


class LevelExtractor:
    """A stand-in classifier for tests: predicts the class whose grey level (c / 5 - 1) is nearest to
    an image's mean pixel; its features are the mean and the spread of the pixels."""

    def features_and_probabilities(self, images):
        images = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
        level = images.mean(axis=1)
        features = np.stack([level, images.std(axis=1), images[:, :10].mean(axis=1)], axis=1)
        nearest = np.clip(np.rint((level + 1) * 5), 0, CLASSES - 1).astype(int)
        probabilities = np.full((len(images), CLASSES), 0.01 / (CLASSES - 1))
        probabilities[np.arange(len(images)), nearest] = 0.99
        return features, probabilities

    def describe(self):
        return {"name": "levels", "weights_sha256": "0" * 64}


def real_levels(n: int, seed: int):
    labels = np.arange(n) % CLASSES
    images = np.zeros((n, 28, 28, 1), np.float32) + (labels / 5 - 1)[:, None, None, None]
    return images + np.random.default_rng(seed).normal(0, 0.01, images.shape).astype(np.float32), labels


def test_evaluate_generator_measures_whether_a_conditional_generator_obeys_its_label():
    test_images, test_labels = real_levels(400, 1)
    obeys = gh.evaluate_generator(conditional_generator(), NOISE, test_images, LevelExtractor(), 400,
                                  test_labels=test_labels)
    assert obeys["conditional_accuracy"] == 1.0 and obeys["classes_covered"] == 10
    keras.utils.set_random_seed(0)
    ignores = gh.evaluate_generator(conditional_generator(ignore_label=True), NOISE, test_images, LevelExtractor(), 400,
                                    test_labels=test_labels)
    assert ignores["conditional_accuracy"] < 0.5
    assert ignores["intra_class_frechet_distance"] > 10 * obeys["intra_class_frechet_distance"]
    with pytest.raises(ValueError, match="pass test_labels="):
        gh.evaluate_generator(conditional_generator(), NOISE, test_images, LevelExtractor(), 400)
    train_images, train_labels = real_levels(400, 2)
    floor = gh.quality_floor(train_images, test_images, LevelExtractor(), 400, train_labels=train_labels,
                             test_labels=test_labels)
    assert floor["conditional_accuracy"] == 1.0
    table = gh.metrics_table(obeys, floor)
    assert "conditional accuracy ↑ | 1.000 | 1.000" in table and "intra-class Fréchet distance" in table


def test_unconditional_results_carry_the_conditional_names_as_none():
    test_images, _ = real_levels(200, 1)
    result = gh.evaluate_generator(unconditional_generator(), NOISE, test_images, LevelExtractor(), 200)
    assert result["conditional_accuracy"] is None and result["intra_class_frechet_distance"] is None
    assert "conditional accuracy" not in gh.metrics_table(result, result)


def test_sample_grid_callback_draws_one_row_per_class(tmp_path):
    noise, labels = gh.class_grid_inputs(NOISE, CLASSES, 2, seed=0)
    assert noise.shape == (20, NOISE) and labels.tolist() == [c for c in range(CLASSES) for _ in range(2)]
    np.testing.assert_array_equal(noise[0], noise[2])  # a column keeps its noise from row to row
    grid = gh.SampleGrid(conditional_generator(), noise, tmp_path, labels=labels, ncols=2, show=False)
    grid.on_epoch_end(0)
    with Image.open(tmp_path / "epoch_0001.png") as picture:
        assert picture.size[1] > 4 * picture.size[0]
