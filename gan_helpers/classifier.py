"""A small CNN classifier per dataset, shipped with the package, used as the feature extractor of GAN metrics.

GAN metrics (FID-style distances, precision/recall, classifier score) need a network that turns images
into features and class probabilities. For the MNIST family (and CIFAR-10, with a deeper CNN of its own)
a small CNN trained on the real training set does that well and needs no download: its weights live in
``gan_helpers/weights/``, next to
``classifiers.json``, which records for each dataset the test accuracy, epochs, seed, training time,
library versions and the sha256 of the weights file. ``benchmarks/train_classifiers.py`` reproduces them.

Typical use::

    extractor = load_classifier("mnist")
    features, probabilities = extractor.features_and_probabilities(images)  # images in [-1, 1]
    extractor.describe()  # name, dataset, weights_sha256, test_accuracy: store it with the metric

Images are float arrays of the dataset's shape (``IMAGE_SHAPES``: (N, 28, 28, 1) or (N, 28, 28) for the
MNIST family, (N, 32, 32, 3) for CIFAR-10) scaled to [-1, 1], the range the GAN generators produce; real
uint8 images are scaled with ``images / 127.5 - 1``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .performance import float32_policy

WEIGHTS_DIR = Path(__file__).parent / "weights"
TRAINING_RECORD_FILE = "classifiers.json"  # inside WEIGHTS_DIR
DATASETS = ("mnist", "fashion_mnist", "cifar10")
IMAGE_SHAPES = {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
# Change a dataset's name whenever its network changes: its old weights no longer fit.
ARCHITECTURES = {"mnist": "cnn-v1", "fashion_mnist": "cnn-v1", "cifar10": "cifar-cnn-v1"}
ARCHITECTURE = ARCHITECTURES["mnist"]
IMAGE_SHAPE = IMAGE_SHAPES["mnist"]
NUM_FEATURES = 128
NUM_CLASSES = 10
# Images may overshoot [-1, 1] a little (float rounding, tanh outputs); beyond this they are mis-scaled.
IMAGE_RANGE_TOLERANCE = 0.01
REPRODUCE_COMMAND = "python benchmarks/train_classifiers.py --dataset {dataset}"


def build_classifier(dataset: str = "mnist") -> keras.Model:
    """Return the untrained CNN of ``dataset``: images in [-1, 1], a 128-unit "features" layer, 10 "logits".

    MNIST family: input (28, 28, 1).
    Three convolution blocks, each a 3x3 convolution, ReLU and 2x2 max-pooling (28 -> 14 -> 7 -> 3
    pixels; 24, 48 and 96 channels), the last two with BatchNorm before the ReLU. Then dropout, the
    ReLU "features" layer, dropout, and the "logits" layer (no activation). About 165k parameters and
    4.3M multiply-adds per image: sized to train in minutes on a 2-core CPU. The first block has no
    BatchNorm because at 28x28 pixels it is slow on CPU (about 12% more training time, measured).
    Every layer has a fixed name, so saved weights load into a model built at any time.
    CIFAR-10: `build_cifar_classifier`.
    """
    check_dataset_name(dataset)
    if dataset == "cifar10":
        return build_cifar_classifier()
    inputs = keras.Input(shape=IMAGE_SHAPE, name="images")
    x = keras.layers.Conv2D(24, 3, padding="same", name="conv1")(inputs)
    x = keras.layers.ReLU(name="relu1")(x)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    for block, filters in ((2, 48), (3, 96)):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}")(x)
        x = keras.layers.BatchNormalization(name=f"batchnorm{block}")(x)
        x = keras.layers.ReLU(name=f"relu{block}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(0.2, name="dropout_flat")(x)
    return keras.Model(inputs, _features_and_logits(x, 0.2), name=f"classifier_{ARCHITECTURE.replace('-', '_')}")


def _features_and_logits(x, dropout: float):
    """The head both networks share: the ReLU "features" layer, dropout, the "logits" layer."""
    features = keras.layers.Dense(NUM_FEATURES, activation="relu", name="features")(x)
    return keras.layers.Dense(NUM_CLASSES, name="logits")(keras.layers.Dropout(dropout, name="dropout_features")(features))


def build_cifar_classifier() -> keras.Model:
    """The CIFAR-10 CNN: input (32, 32, 3) in [-1, 1]; three blocks of two 3×3 convolutions (BatchNorm,
    ReLU) and 2×2 max-pooling (32, 64, 128 channels: 32 -> 16 -> 8 -> 4 pixels), global average pooling,
    dropout, the ReLU "features" layer (128), dropout, "logits" (10). About 306k parameters."""
    inputs = keras.Input(shape=IMAGE_SHAPES["cifar10"], name="images")
    x = inputs
    for block, filters in ((1, 32), (2, 64), (3, 128)):
        for conv in (1, 2):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}_{conv}")(x)
            x = keras.layers.BatchNormalization(name=f"batchnorm{block}_{conv}")(x)
            x = keras.layers.ReLU(name=f"relu{block}_{conv}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="average")(x)
    x = keras.layers.Dropout(0.3, name="dropout_average")(x)
    return keras.Model(inputs, _features_and_logits(x, 0.3),
                       name=f"classifier_{ARCHITECTURES['cifar10'].replace('-', '_')}")


def weights_path(dataset: str) -> Path:
    """Path of the shipped weights file of ``dataset`` (which may not exist yet)."""
    check_dataset_name(dataset)
    return WEIGHTS_DIR / f"{dataset}_classifier.weights.h5"


def check_dataset_name(dataset: str) -> None:
    """Raise ValueError unless ``dataset`` is one of DATASETS."""
    if dataset not in DATASETS:
        raise ValueError(f"Unknown dataset {dataset!r} for the classifier; choose one of {list(DATASETS)}.")


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_training_record() -> dict:
    """Return ``WEIGHTS_DIR/classifiers.json`` (dataset -> training facts), or {} if it does not exist."""
    record_path = WEIGHTS_DIR / TRAINING_RECORD_FILE
    if not record_path.exists():
        return {}
    return json.loads(record_path.read_text())


class Extractor:
    """A trained classifier used as a feature extractor, with what identifies it.

    Attributes:
        name: e.g. ``"mnist-cnn-v1"`` (dataset + architecture).
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        weights_sha256: hex sha256 of the weights file the model was loaded from.
        test_accuracy: accuracy on the real test set, as recorded at training time (None if unknown).
        model: the keras classifier (input images in [-1, 1], output logits).
    """

    def __init__(self, model: keras.Model, dataset: str, weights_sha256: str, test_accuracy: float | None):
        check_dataset_name(dataset)
        self.model = model
        self.dataset = dataset
        self.name = f"{dataset}-{ARCHITECTURES[dataset]}"
        self.image_shape = IMAGE_SHAPES[dataset]
        self.weights_sha256 = weights_sha256
        self.test_accuracy = test_accuracy
        features_and_logits = keras.Model(model.inputs, [model.get_layer("features").output, model.outputs[0]])

        # One compiled graph for every batch size: no retracing, and far faster than model.predict.
        @tf.function(input_signature=[tf.TensorSpec((None, *self.image_shape), tf.float32)])
        def run_batch(batch: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            features, logits = features_and_logits(batch, training=False)
            return features, tf.nn.softmax(logits)

        self._run_batch = run_batch

    def features_and_probabilities(self, images: np.ndarray, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """Return float32 features (N, 128) and softmax probabilities (N, 10) of ``images``.

        Args:
            images: float array of ``image_shape`` (N, 28, 28, 1) or (N, 28, 28) for the MNIST family,
                (N, 32, 32, 3) for CIFAR-10 (colour images of other sizes are resized: `fit_to_input`),
                with values in [-1, 1].
            batch_size: images per forward pass (only memory and speed depend on it, not the results).

        Runs in inference mode (dropout off, BatchNorm uses its trained statistics).
        Raises ValueError for a wrong shape, integer images, non-finite values or values outside
        [-1.01, 1.01] (images not scaled to [-1, 1]).
        """
        images = check_images(self.fit_to_input(images), self.image_shape)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r} is not a positive integer; pass e.g. batch_size=1000.")
        features = np.empty((len(images), NUM_FEATURES), dtype=np.float32)
        probabilities = np.empty((len(images), NUM_CLASSES), dtype=np.float32)
        for start in range(0, len(images), batch_size):
            batch_features, batch_probabilities = self._run_batch(tf.constant(images[start : start + batch_size]))
            features[start : start + batch_size] = batch_features.numpy()
            probabilities[start : start + batch_size] = batch_probabilities.numpy()
        return features, probabilities

    def fit_to_input(self, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Colour images of another size, resized (area averaging) to the classifier's input, e.g. 64 px
        images to CIFAR-10's 32; anything else unchanged (`check_images` then says what is wrong)."""
        images = np.asarray(images)
        side = self.image_shape[:2]
        if (self.image_shape[-1] != 3 or images.ndim != 4 or images.shape[-1] != 3 or images.shape[1:3] == side
                or not np.issubdtype(images.dtype, np.floating)):
            return images
        return np.concatenate([tf.image.resize(images[start:start + batch_size], side, method="area").numpy()
                               for start in range(0, len(images), batch_size)])

    def describe(self) -> dict:
        """What identifies this extractor, to store with every metric it produced."""
        return {
            "name": self.name,
            "dataset": self.dataset,
            "weights_sha256": self.weights_sha256,
            "test_accuracy": self.test_accuracy,
        }

    def __repr__(self) -> str:
        return f"Extractor(name={self.name!r}, weights_sha256={self.weights_sha256[:12]}..., test_accuracy={self.test_accuracy})"


def check_images(images: np.ndarray, shape: tuple[int, int, int] = IMAGE_SHAPE) -> np.ndarray:
    """Return ``images`` as float32 (N, *shape), or raise ValueError if they are not such images in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim == 3 and shape[-1] == 1:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[1:] != tuple(shape):
        grey = f" or (N, {shape[0]}, {shape[1]})" if shape[-1] == 1 else ""
        raise ValueError(
            f"images have shape {images.shape}; expected (N, {', '.join(map(str, shape))}){grey}. "
            "For a single image pass image[np.newaxis]."
        )
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"images have dtype {images.dtype}; expected floats scaled to [-1, 1]. "
            "Scale uint8 images with images / 127.5 - 1."
        )
    images = images.astype(np.float32, copy=False)
    if images.size and not np.isfinite(images).all():
        raise ValueError("images contain NaN or infinite values; the generator output is broken, check it first.")
    if images.size:
        low, high = float(images.min()), float(images.max())
        if low < -1 - IMAGE_RANGE_TOLERANCE or high > 1 + IMAGE_RANGE_TOLERANCE:
            raise ValueError(
                f"images range over [{low:g}, {high:g}]; they must be scaled to [-1, 1] "
                "(uint8 images: images / 127.5 - 1; images in [0, 1]: images * 2 - 1)."
            )
    return images


def load_classifier(dataset: str) -> Extractor:
    """Load the shipped classifier of ``dataset`` (one of ``DATASETS``) as an Extractor.

    Raises ValueError for an unknown dataset, FileNotFoundError if the weights file is missing, and
    ValueError if the weights file is not the one ``classifiers.json`` describes. Both files are
    written by ``benchmarks/train_classifiers.py``.
    """
    path = weights_path(dataset)
    reproduce = REPRODUCE_COMMAND.format(dataset=dataset)
    if not path.exists():
        raise FileNotFoundError(
            f"No classifier weights for {dataset!r} at {path} (gan_helpers ships them once trained). Reinstall "
            f"the package, or make them from the repository root with: {reproduce}"
        )
    record = read_training_record().get(dataset)
    if record is None:
        raise FileNotFoundError(
            f"{WEIGHTS_DIR / TRAINING_RECORD_FILE} has no entry for {dataset!r}, so the weights' test accuracy "
            f"is unknown. Reproduce weights and record with: {reproduce}"
        )
    sha256 = file_sha256(path)
    if record.get("weights_sha256") != sha256:
        raise ValueError(
            f"{path} has sha256 {sha256} but {TRAINING_RECORD_FILE} records {record.get('weights_sha256')}: "
            f"the weights are not the ones whose accuracy was recorded. Reproduce both with: {reproduce}"
        )
    if record.get("architecture") != ARCHITECTURES[dataset]:
        raise ValueError(
            f"The {dataset!r} weights were trained for architecture {record.get('architecture')!r}, but "
            f"build_classifier builds {ARCHITECTURES[dataset]!r}. Retrain with: {reproduce}"
        )
    with float32_policy():  # a measuring instrument: the same numbers under any training precision
        model = build_classifier(dataset)
    model.load_weights(path)
    return Extractor(model, dataset, weights_sha256=sha256, test_accuracy=record["test_accuracy"])


def extractor_for(dataset: str) -> Extractor:
    """The shipped classifier that measures generated images of ``dataset``: its own for the MNIST family
    and CIFAR-10, CIFAR-10's for any other colour dataset (CelebA, a folder of images), which sees them
    resized to 32 px. Its features are what the distances compare; for faces or paintings its classes
    (CIFAR-10's) say little, so read the classifier score and class coverage there with care."""
    return load_classifier(dataset if dataset in DATASETS else "cifar10")
