"""Can real and generated images be told apart? A classifier two-sample test, and a checkerboard measure.

``two_sample_test(real, fake)`` (Lopez-Paz & Oquab, 2017) trains a small CNN to separate the two sets
and reports its accuracy on images it did not train on: 0.5 means indistinguishable, 1.0 means every
generated image gives itself away. The protocol is fixed so numbers compare across runs:

- both sets are cut to the same size ``n`` (the smaller one's, at most ``max_images``), shuffled with
  ``seed``, and resized to at most ``TEST_SIDE`` px;
- ``folds``-fold cross-validation: the CNN (``_classifier``: three strided 3×3 convolutions, global
  average pooling, a logit) is trained from scratch on the other folds for ``epochs`` epochs (Adam
  1e-3, batch 32) and tested on the held-out fold;
- the result is the mean held-out accuracy, its standard deviation over folds, and ``n``. The floor
  is the same test between two halves of the real set (``two_sample_floor``).

``checkerboard_energy(images)`` is the share of each image's spectral energy (its mean removed) at the
three frequencies of a period-2 pattern, the artefact of stride-2 transposed convolutions; compare
generated images' value with real ones'.
"""

from __future__ import annotations

import numpy as np

TEST_SIDE = 64
FOLDS = 3
EPOCHS = 10
MAX_IMAGES = 1000


def _as_model_input(images: np.ndarray, side: int) -> np.ndarray:
    """uint8 or [-1, 1] images (N, H, W, C) as float32 in [-1, 1], at most ``side`` px (area-averaged)."""
    import tensorflow as tf

    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4:
        raise ValueError(f"Expected images shaped (N, H, W, C) or (N, H, W), got {images.shape}.")
    images = images.astype(np.float32) / 127.5 - 1.0 if images.dtype == np.uint8 else images.astype(np.float32)
    if max(images.shape[1:3]) > side:
        images = tf.image.resize(images, (side, side), method="area").numpy()
    return images


def _classifier(shape: tuple[int, ...], seed: int):
    import keras
    from keras import layers

    init = keras.initializers.GlorotUniform(seed)
    model = keras.Sequential([keras.Input(shape)] + [
        layer for filters in (32, 64, 128) for layer in (
            layers.Conv2D(filters, 3, strides=2, padding="same", kernel_initializer=init), layers.LeakyReLU(0.2))
    ] + [layers.GlobalAveragePooling2D(), layers.Dense(1, kernel_initializer=init)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])
    return model


def two_sample_test(real: np.ndarray, fake: np.ndarray, folds: int = FOLDS, epochs: int = EPOCHS,
                    max_images: int = MAX_IMAGES, seed: int = 0) -> dict:
    """Held-out accuracy of a CNN trained to tell ``fake`` from ``real`` (0.5 = indistinguishable).

    Returns ``{"accuracy", "accuracy_std", "fold_accuracies", "images_per_set", "folds", "epochs"}``.
    Raises ValueError when either set has fewer than ``2 * folds`` images. For repeatable numbers it
    seeds Python's, NumPy's and TensorFlow's global random generators (``seed`` + fold) before each fold.
    """
    import keras

    n = min(len(real), len(fake), max_images)
    if n < 2 * folds:
        raise ValueError(f"A two-sample test with {folds} folds needs at least {2 * folds} images per set; "
                         f"got {len(real)} real and {len(fake)} generated.")
    rng = np.random.default_rng(seed)
    real = _as_model_input(np.asarray(real)[rng.permutation(len(real))[:n]], TEST_SIDE)
    fake = _as_model_input(np.asarray(fake)[rng.permutation(len(fake))[:n]], TEST_SIDE)
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"Real images are {real.shape[1:]} and generated ones {fake.shape[1:]}: resize them alike.")
    fold_of = np.arange(n) % folds  # the same folds for both sets: balanced classes in every fold
    accuracies = []
    for fold in range(folds):
        train, test = fold_of != fold, fold_of == fold
        x_train = np.concatenate([real[train], fake[train]])
        y_train = np.concatenate([np.zeros(train.sum()), np.ones(train.sum())]).astype(np.float32)
        x_test = np.concatenate([real[test], fake[test]])
        y_test = np.concatenate([np.zeros(test.sum()), np.ones(test.sum())]).astype(np.float32)
        keras.utils.set_random_seed(seed + fold)
        model = _classifier(real.shape[1:], seed + fold)
        model.fit(x_train, y_train, batch_size=32, epochs=epochs, shuffle=True, verbose=0)
        accuracies.append(float(model.evaluate(x_test, y_test, batch_size=256, verbose=0, return_dict=True)
                                ["binary_accuracy"]))
    return {"accuracy": float(np.mean(accuracies)), "accuracy_std": float(np.std(accuracies)),
            "fold_accuracies": accuracies, "images_per_set": n, "folds": folds, "epochs": epochs}


def two_sample_floor(real: np.ndarray, **options) -> dict:
    """The test between two halves of the real set: what "indistinguishable" measures with this protocol."""
    order = np.random.default_rng(options.get("seed", 0) + 1).permutation(len(real))
    half = len(real) // 2
    return two_sample_test(np.asarray(real)[order[:half]], np.asarray(real)[order[half:2 * half]], **options)


def checkerboard_energy(images: np.ndarray) -> float:
    """Mean share of each image's spectral energy (mean removed, channels averaged) at the period-2
    frequencies (H/2, 0), (0, W/2), (H/2, W/2): 0 for smooth images, 1 for a pure checkerboard."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[1] % 2 or images.shape[2] % 2:
        raise ValueError(f"Expected images shaped (N, H, W, C) with even H and W, got {images.shape}.")
    images = images - images.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fft2(images, axes=(1, 2))) ** 2).mean(axis=-1)  # (N, H, W)
    h, w = images.shape[1] // 2, images.shape[2] // 2
    at_period_two = power[:, h, 0] + power[:, 0, w] + power[:, h, w]
    total = power.sum(axis=(1, 2))
    share = np.where(total > 0, at_period_two / np.maximum(total, 1e-30), 0.0)
    return float(share.mean())


def compare_with_real(real: np.ndarray, fake: np.ndarray, seed: int = 0) -> dict:
    """``fake`` against ``real``: the two-sample accuracy beside its floor (two halves of ``real``) and
    the checkerboard energy of both. A test that needs more images than there are gives None."""
    report = {"checkerboard_energy": checkerboard_energy(fake), "checkerboard_energy_real": checkerboard_energy(real),
              "two_sample_accuracy": None, "two_sample_accuracy_std": None, "two_sample_floor": None,
              "two_sample_images": None}
    if min(len(real), len(fake)) >= 2 * FOLDS:
        test = two_sample_test(real, fake, seed=seed)
        report.update(two_sample_accuracy=test["accuracy"], two_sample_accuracy_std=test["accuracy_std"],
                      two_sample_images=test["images_per_set"])
    if len(real) >= 4 * FOLDS:
        report["two_sample_floor"] = two_sample_floor(real, seed=seed)["accuracy"]
    return report
