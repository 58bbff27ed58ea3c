"""Tests for gan_helpers.classifier: the model's shape, the shipped weights, and the extractor's checks.

The accuracy test reads the real test sets; it skips when their folders are absent. Folders:
``GAN_MNIST_DIR`` (default ``<repo>/../shared/data/mnist``), ``GAN_FASHION_MNIST_DIR`` (default
``/usr/share/datasets/fashion-mnist``) and ``GAN_CIFAR10_DIR`` (default ``<repo>/../shared/data/cifar10``,
which holds the JPEG copy the shipped CIFAR-10 weights were trained and measured on).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from gan_helpers import classifier
from gan_helpers.classifier import WEIGHTS_DIR, Extractor, build_classifier, load_classifier
from gan_helpers.colour_data import load_cifar10
from gan_helpers.data import load_mnist_family

REPO = Path(__file__).resolve().parent.parent
REAL_DATA_DIRS = {
    "mnist": Path(os.environ.get("GAN_MNIST_DIR", REPO.parent / "shared" / "data" / "mnist")),
    "fashion_mnist": Path(os.environ.get("GAN_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")),
    "cifar10": Path(os.environ.get("GAN_CIFAR10_DIR", REPO.parent / "shared" / "data" / "cifar10")),
}
REQUIRED_TEST_ACCURACY = {"mnist": 0.993, "fashion_mnist": 0.91, "cifar10": 0.85}
DATASETS = ["mnist", "fashion_mnist", "cifar10"]


def scaled(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [-1, 1]."""
    return (images_uint8.astype(np.float32) / 127.5 - 1.0)[..., np.newaxis]


@pytest.fixture(scope="module")
def mnist_extractor() -> Extractor:
    return load_classifier("mnist")


@pytest.fixture(scope="module")
def tiny_test_images(tiny_mnist_dir) -> np.ndarray:
    """The 64 synthetic test images of the tiny fixture set, scaled to [-1, 1]."""
    images, _ = load_mnist_family("mnist", "test", cache_dir=tiny_mnist_dir, data_dir=tiny_mnist_dir)
    return scaled(images)


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------

def test_build_classifier_shapes_and_named_layers():
    model = build_classifier()
    assert tuple(model.input_shape) == (None, 28, 28, 1)
    assert tuple(model.output_shape) == (None, 10)
    features = model.get_layer("features")
    assert features.units == 128
    assert features.activation.__name__ == "relu"
    logits = model.get_layer("logits")
    assert logits.units == 10 and logits.activation.__name__ == "linear"
    assert model.layers[-1] is logits
    assert model(np.zeros((3, 28, 28, 1), np.float32), training=False).shape == (3, 10)


def test_the_cifar10_classifier_takes_colour_images_and_refuses_grey_ones():
    model = build_classifier("cifar10")
    assert tuple(model.input_shape) == (None, 32, 32, 3) and tuple(model.output_shape) == (None, 10)
    assert model.get_layer("features").units == 128
    extractor = Extractor(model, "cifar10", weights_sha256="untrained", test_accuracy=None)
    features, probabilities = extractor.features_and_probabilities(
        np.random.default_rng(0).uniform(-1, 1, (5, 32, 32, 3)).astype(np.float32))
    assert features.shape == (5, 128) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert extractor.describe()["name"] == "cifar10-cifar-cnn-v1"
    with pytest.raises(ValueError, match=r"expected \(N, 32, 32, 3\)\."):
        extractor.features_and_probabilities(np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(ValueError, match="Unknown dataset 'svhn'"):
        build_classifier("svhn")


def test_colour_images_of_another_size_are_measured_at_the_classifiers_own_size():
    extractor = Extractor(build_classifier("cifar10"), "cifar10", weights_sha256="untrained", test_accuracy=None)
    large = np.random.default_rng(1).uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)
    averaged = large.reshape(4, 32, 2, 32, 2, 3).mean(axis=(2, 4))  # each 2x2 block of pixels: one pixel
    for got, expected in zip(extractor.features_and_probabilities(large), extractor.features_and_probabilities(averaged)):
        np.testing.assert_allclose(got, expected, atol=1e-4)
    with pytest.raises(ValueError, match=r"expected \(N, 28, 28, 1\)"):  # grey classifiers resize nothing
        Extractor(build_classifier("mnist"), "mnist", "untrained", None).features_and_probabilities(
            np.zeros((2, 32, 32, 1), np.float32))


def test_two_builds_have_the_same_layer_names():
    """Weights files address layers by name: a second build in the same process must not rename them."""
    first, second = build_classifier(), build_classifier()
    assert [layer.name for layer in first.layers] == [layer.name for layer in second.layers]


# --------------------------------------------------------------------------------------------------
# Loading the shipped weights
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dataset", DATASETS)
def test_load_classifier_describes_the_weights_file(dataset):
    extractor = load_classifier(dataset)
    weights_file = WEIGHTS_DIR / f"{dataset}_classifier.weights.h5"
    description = extractor.describe()
    assert description["weights_sha256"] == hashlib.sha256(weights_file.read_bytes()).hexdigest()
    assert description["name"] == extractor.name == f"{dataset}-{classifier.ARCHITECTURES[dataset]}"
    assert description["dataset"] == extractor.dataset == dataset
    record = json.loads((WEIGHTS_DIR / "classifiers.json").read_text())[dataset]
    assert description["test_accuracy"] == record["test_accuracy"] >= REQUIRED_TEST_ACCURACY[dataset]
    assert record["weights_sha256"] == description["weights_sha256"]
    assert weights_file.stat().st_size < 2 * 1024 * 1024


def test_the_shipped_classifiers_differ():
    extractors = [load_classifier(dataset) for dataset in DATASETS]
    assert len({extractor.weights_sha256 for extractor in extractors}) == len(DATASETS)
    assert len({extractor.name for extractor in extractors}) == len(DATASETS)


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match=r"'svhn'.*'mnist', 'fashion_mnist', 'cifar10'"):
        load_classifier("svhn")


@pytest.fixture
def weights_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the weights folder that load_classifier reads instead of the shipped one."""
    copy = tmp_path / "weights"
    shutil.copytree(WEIGHTS_DIR, copy)
    monkeypatch.setattr(classifier, "WEIGHTS_DIR", copy)
    return copy


def test_missing_weights_file_says_how_to_reproduce(weights_copy):
    (weights_copy / "mnist_classifier.weights.h5").unlink()
    with pytest.raises(FileNotFoundError, match=r"benchmarks/train_classifiers\.py --dataset mnist"):
        load_classifier("mnist")


def test_weights_not_matching_the_record_are_refused(weights_copy):
    shutil.copy(weights_copy / "fashion_mnist_classifier.weights.h5", weights_copy / "mnist_classifier.weights.h5")
    with pytest.raises(ValueError, match=r"sha256.*train_classifiers\.py --dataset mnist"):
        load_classifier("mnist")


# --------------------------------------------------------------------------------------------------
# features_and_probabilities
# --------------------------------------------------------------------------------------------------

def test_features_and_probabilities_shapes_and_sums(mnist_extractor, tiny_test_images):
    features, probabilities = mnist_extractor.features_and_probabilities(tiny_test_images)
    assert features.shape == (64, 128) and features.dtype == np.float32
    assert probabilities.shape == (64, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all() and (features >= 0).all()  # softmax; ReLU features
    assert features.std(axis=0).max() > 0  # different images give different features

    without_channel, _ = mnist_extractor.features_and_probabilities(tiny_test_images[..., 0])
    np.testing.assert_array_equal(without_channel, features)


def test_predictions_are_deterministic_and_batch_size_independent(mnist_extractor, tiny_test_images):
    first = mnist_extractor.features_and_probabilities(tiny_test_images, batch_size=1000)
    again = mnist_extractor.features_and_probabilities(tiny_test_images, batch_size=1000)
    by_seven = mnist_extractor.features_and_probabilities(tiny_test_images, batch_size=7)
    for expected, repeated, batched in zip(first, again, by_seven):
        np.testing.assert_array_equal(repeated, expected)
        np.testing.assert_allclose(batched, expected, atol=1e-5, rtol=0)


def test_inference_mode_dropout_is_off(mnist_extractor, tiny_test_images):
    """Training-mode calls would differ run to run (dropout); the extractor must match a training=False call."""
    _, probabilities = mnist_extractor.features_and_probabilities(tiny_test_images)
    logits = np.asarray(mnist_extractor.model(tiny_test_images, training=False))
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probabilities, expected / expected.sum(axis=1, keepdims=True), atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_classifier_loaded_under_a_mixed_policy_measures_in_float32(mnist_extractor, tiny_test_images, policy):
    """A notebook training in mixed precision loads the classifier after set_precision: the metrics must
    not change with the training precision (in bfloat16 the probabilities would not even sum to 1)."""
    import keras

    reference = mnist_extractor.features_and_probabilities(tiny_test_images)
    try:
        keras.mixed_precision.set_global_policy(policy)
        extractor = load_classifier("mnist")
        assert keras.mixed_precision.global_policy().name == policy  # the training policy is left in force
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert {layer.dtype_policy.name for layer in extractor.model.layers} == {"float32"}
    for expected, measured in zip(reference, extractor.features_and_probabilities(tiny_test_images)):
        np.testing.assert_allclose(measured, expected, atol=1e-5, rtol=0)


def test_empty_input_gives_empty_outputs(mnist_extractor):
    features, probabilities = mnist_extractor.features_and_probabilities(np.zeros((0, 28, 28, 1), np.float32))
    assert features.shape == (0, 128) and probabilities.shape == (0, 10)


def test_images_out_of_range_are_refused(mnist_extractor, tiny_test_images):
    too_bright = tiny_test_images.copy()
    too_bright[3, 10, 10, 0] = 1.5
    with pytest.raises(ValueError, match=r"1\.5.*scaled to \[-1, 1\]"):
        mnist_extractor.features_and_probabilities(too_bright)
    # within the loose tolerance: accepted
    mnist_extractor.features_and_probabilities(np.clip(tiny_test_images * 1.005, -1.005, 1.005))


def test_uint8_range_images_are_refused(mnist_extractor, tiny_mnist_dir):
    images, _ = load_mnist_family("mnist", "test", cache_dir=tiny_mnist_dir, data_dir=tiny_mnist_dir)
    with pytest.raises(ValueError, match=r"uint8.*images / 127\.5 - 1"):
        mnist_extractor.features_and_probabilities(images)
    with pytest.raises(ValueError, match=r"255.*scaled to \[-1, 1\]"):  # the same values as floats
        mnist_extractor.features_and_probabilities(images.astype(np.float32))
    # Integer images are refused by their dtype, even when all their values happen to lie in [-1, 1].
    with pytest.raises(ValueError, match=r"dtype uint8.*images / 127\.5 - 1"):
        mnist_extractor.features_and_probabilities((images > 127).astype(np.uint8))


@pytest.mark.parametrize("shape", [(4, 28, 28, 3), (4, 32, 32, 1), (28, 28), (4, 784)])
def test_wrong_shapes_are_refused(mnist_extractor, shape):
    with pytest.raises(ValueError, match=r"shape .*\(N, 28, 28, 1\)"):
        mnist_extractor.features_and_probabilities(np.zeros(shape, np.float32))


def test_nan_images_are_refused(mnist_extractor, tiny_test_images):
    broken = tiny_test_images.copy()
    broken[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mnist_extractor.features_and_probabilities(broken)


@pytest.mark.parametrize("batch_size", [0, -5, 2.5, True])
def test_bad_batch_size_is_refused(mnist_extractor, tiny_test_images, batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        mnist_extractor.features_and_probabilities(tiny_test_images, batch_size=batch_size)


# --------------------------------------------------------------------------------------------------
# Accuracy of the shipped weights on the real test sets
# --------------------------------------------------------------------------------------------------

def real_cifar10_test_split(data_dir: Path, unpack_into: Path) -> tuple[np.ndarray, np.ndarray]:
    """The CIFAR-10 test split from ``data_dir``: the official archive, a train/ test/ layout, or the JPEG
    copy ``cifar10-jpg.tar.gz`` of ../shared/data/cifar10, whose test/ folder is unpacked into ``unpack_into``."""
    archive = data_dir / "cifar10-jpg.tar.gz"
    if archive.is_file() and not (data_dir / "test").is_dir():
        with tarfile.open(archive) as tar:
            tar.extractall(unpack_into, members=[m for m in tar if m.name.startswith("test/")], filter="data")
        data_dir = unpack_into
    return load_cifar10("test", cache_dir=data_dir, data_dir=data_dir)


def real_test_split(dataset: str, unpack_into: Path) -> tuple[np.ndarray, np.ndarray]:
    """The real test images of ``dataset`` scaled to [-1, 1] and their labels; skips when they are absent."""
    data_dir = REAL_DATA_DIRS[dataset]
    variable = {"mnist": "GAN_MNIST_DIR", "fashion_mnist": "GAN_FASHION_MNIST_DIR", "cifar10": "GAN_CIFAR10_DIR"}[dataset]
    if dataset == "cifar10":
        if not data_dir.is_dir():
            pytest.skip(f"real CIFAR-10 not found in {data_dir}; set {variable} to the folder holding it")
        images, labels = real_cifar10_test_split(data_dir, unpack_into)
        return images.astype(np.float32) / 127.5 - 1.0, labels
    if not (data_dir / "t10k-images-idx3-ubyte.gz").exists() and not (data_dir / "t10k-images-idx3-ubyte").exists():
        pytest.skip(f"real {dataset} test set not found in {data_dir}; set {variable} to the folder holding it")
    images, labels = load_mnist_family(dataset, "test", cache_dir=data_dir, data_dir=data_dir)
    return scaled(images), labels


@pytest.mark.parametrize("dataset", DATASETS)
def test_shipped_weights_reach_the_recorded_test_accuracy(dataset, tmp_path):
    images, labels = real_test_split(dataset, tmp_path)
    extractor = load_classifier(dataset)
    _, probabilities = extractor.features_and_probabilities(images)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == labels))
    assert accuracy >= REQUIRED_TEST_ACCURACY[dataset]
    assert accuracy == pytest.approx(extractor.describe()["test_accuracy"], abs=5e-4)
