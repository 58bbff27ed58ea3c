"""Evaluating generators: the floor, noise makes things worse, the during-training callback, Inception."""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers.quality import compare

REPO = Path(__file__).resolve().parent.parent
MNIST_DIR = Path(os.environ.get("GAN_MNIST_DIR", REPO.parent / "shared" / "data" / "mnist"))
needs_real_mnist = pytest.mark.skipif(not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(),
                                      reason=f"needs the real MNIST files in {MNIST_DIR} (set GAN_MNIST_DIR)")


@pytest.fixture(scope="module")
def real_mnist():
    train = gh.load_mnist_family("mnist", "train", cache_dir="/nonexistent", data_dir=MNIST_DIR, limit=4000)[0]
    test = gh.load_mnist_family("mnist", "test", cache_dir="/nonexistent", data_dir=MNIST_DIR)[0]
    return gh.to_model_range(train), gh.to_model_range(test)


@needs_real_mnist
def test_real_vs_real_is_at_the_floor_and_noise_moves_away_from_it(real_mnist):
    train, test = real_mnist
    extractor = gh.load_classifier("mnist")
    floor = gh.quality_floor(train, test, extractor, num_samples=2000)
    assert floor["classes_covered"] == 10 and floor["classifier_score"] > 9.0 and floor["precision"] > 0.6
    rng = np.random.default_rng(0)
    distances = []
    for sigma in (0.0, 0.2, 0.4, 0.8):
        noisy = np.clip(train[2000:4000] + sigma * rng.standard_normal(train[2000:4000].shape).astype("float32"), -1, 1)
        distances.append(compare(noisy, test[:2000], extractor, kid_subsets=20)["frechet_distance"])
    # Another real sample lands near the floor; added noise moves it away, monotonically.
    assert distances[0] < 2 * floor["frechet_distance"] + 0.5
    assert all(a < b for a, b in zip(distances, distances[1:])), distances


@needs_real_mnist
def test_single_class_generator_is_caught(real_mnist):
    _, test = real_mnist
    extractor = gh.load_classifier("mnist")
    _, probabilities = extractor.features_and_probabilities(test[:2000])
    ones = test[:2000][probabilities.argmax(1) == 1]
    result = compare(ones, test[:2000], extractor, kid_subsets=10)
    assert result["classes_covered"] <= 2 and result["kl_from_uniform"] > 1.5 and result["recall"] < 0.3


class ConstantishGenerator(keras.Model):
    """A 'generator' whose quality we control: it returns stored images, picked by the noise."""

    def __init__(self, images):
        super().__init__()
        self.images = keras.ops.convert_to_tensor(images)

    def call(self, noise, training=False):
        index = keras.ops.cast(keras.ops.abs(noise[:, 0]) * 1000, "int32") % self.images.shape[0]
        return keras.ops.take(self.images, index, axis=0)


def test_quality_callback_logs_metrics_and_keeps_the_best_checkpoint(tmp_path, tiny_mnist_dir):
    images = gh.to_model_range(gh.load_mnist_family("mnist", "test", cache_dir=tmp_path, data_dir=tiny_mnist_dir)[0])
    extractor = gh.load_classifier("mnist")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    good, bad = ConstantishGenerator(images), ConstantishGenerator(np.zeros_like(images))
    callback = gh.QualityDuringTraining(good, 8, images, extractor, tmp_path, every=2, num_samples=64)
    callback.set_model(model)
    callback.set_params({"epochs": 5})

    logs = {}
    callback.on_epoch_end(0, logs)  # epoch 1: not an evaluation epoch
    assert logs == {} and not (tmp_path / "best.npz").exists()
    callback.on_epoch_end(1, logs)  # epoch 2: evaluated, first best
    assert {"q_frechet_distance", "q_classifier_score", "q_classes_covered"} <= set(logs)
    assert gh.QualityDuringTraining.best_record(tmp_path)["epoch"] == 2
    callback.generator = bad
    callback.on_epoch_end(3, {})  # epoch 4: worse, best stays at 2
    assert gh.QualityDuringTraining.best_record(tmp_path)["epoch"] == 2
    callback.generator = good
    resumed = gh.QualityDuringTraining(good, 8, images, extractor, tmp_path, every=2, num_samples=64)
    resumed.set_model(model)
    resumed.set_params({"epochs": 5})
    assert resumed.best_so_far()["epoch"] == 2  # survives a resume
    resumed.on_epoch_end(4, {})  # the final epoch is always evaluated; equal value is not "better"
    assert gh.QualityDuringTraining.best_record(tmp_path)["epoch"] == 2
    assert gh.load_checkpoint(tmp_path / "best.npz", good) == 2  # the generator's weights ...
    with pytest.raises(ValueError, match="holds 0 variables"):
        gh.load_checkpoint(tmp_path / "best.npz", model)  # ... not the whole training state (Drive footprint)
    with pytest.raises(ValueError, match="best_metric"):
        gh.QualityDuringTraining(good, 8, images, extractor, tmp_path, best_metric="accuracy")


def test_the_reference_images_keep_every_class_of_a_class_sorted_test_set(tmp_path, tiny_mnist_dir):
    """A test split read from <class>/ folders is sorted by class: its first 2,000 CIFAR-10 images are two
    classes. The during-training reference must hold every class in its share, not the first images."""
    images, labels = gh.load_mnist_family("mnist", "test", cache_dir=tmp_path, data_dir=tiny_mnist_dir)
    order = np.argsort(labels, kind="stable")
    images, labels = gh.to_model_range(images)[order], labels[order]
    callback = gh.QualityDuringTraining(ConstantishGenerator(images), 8, images, gh.load_classifier("mnist"), tmp_path,
                                        num_samples=len(images) // 2, test_labels=labels)
    expected = np.bincount(labels, minlength=10) / 2
    assert np.abs(np.bincount(callback.test_labels, minlength=10) - expected).max() <= 1
    assert len(callback.test_images) == len(images) // 2
    np.testing.assert_array_equal(gh.quality.spread_indices(5, 100), np.arange(5))  # fewer images: all of them


def test_metrics_table_shows_model_beside_floor(tiny_mnist_dir, tmp_path):
    images = gh.to_model_range(gh.load_mnist_family("mnist", "test", cache_dir=tmp_path, data_dir=tiny_mnist_dir)[0])
    extractor = gh.load_classifier("mnist")
    model_result = compare(images[:32], images[32:], extractor, kid_subsets=5)
    floor = compare(images[32:], images[:32], extractor, kid_subsets=5)
    table = gh.metrics_table(model_result, floor, model_name="G")
    assert "| metric | G | real train vs real test (floor) |" in table
    assert f"{model_result['frechet_distance']:.3f}" in table and f"{floor['frechet_distance']:.3f}" in table
    assert extractor.describe()["weights_sha256"][:12] in table
    path = gh.plot_class_histogram(model_result["class_histogram"], tmp_path / "hist.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_inception_metrics_skip_with_one_line_when_weights_cannot_be_loaded(capsys, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", "/nonexistent-keras-home")  # no cached weights
    images = np.zeros((4, 28, 28, 1), "float32")
    assert gh.inception_metrics(images, images, weights="/nonexistent/inception.weights.h5") is None
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Inception metrics skipped")]
    assert len(lines) == 1


def test_inception_is_not_built_when_its_imagenet_weights_cannot_be_fetched(capsys, monkeypatch, tmp_path,
                                                                           http_server):
    """Offline (the mirror answers 404 here), the one-line skip comes before the 24M-parameter network is built."""
    from gan_helpers import quality

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # no cached weights
    monkeypatch.setattr(quality, "INCEPTION_WEIGHTS_URL", http_server.failing_url(404) + "inception_notop.h5")
    built = []
    monkeypatch.setattr(keras.applications, "InceptionV3", lambda *args, **kwargs: built.append(kwargs))
    assert quality.load_inception("imagenet") is None
    assert built == []
    assert "Inception metrics skipped" in capsys.readouterr().out
    assert any(path.endswith("inception_notop.h5") for path in http_server.requests)  # it did try to fetch


def test_inception_metrics_compute_when_a_network_is_available():
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (6, 28, 28, 1)).astype("float32")
    result = gh.inception_metrics(a, a[::-1].copy(), weights=None)  # untrained: the numbers mean nothing
    assert result is not None and result["num_samples"] == 6
    assert abs(result["inception_fid"]) < 1e-3  # the same images, in another order


def test_inception_network_is_built_in_float32_under_a_mixed_policy():
    """The notebooks set their training precision before the evaluation loads InceptionV3."""
    from gan_helpers.quality import load_inception

    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        network = load_inception(weights=None)
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert {layer.dtype_policy.name for layer in network.layers} == {"float32"}
