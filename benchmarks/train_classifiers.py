"""Train the classifiers that gan_helpers ships as GAN-metric feature extractors, and record them.

    python benchmarks/train_classifiers.py [--dataset mnist|fashion_mnist|cifar10|all] [--mnist-dir DIR]
                                           [--fashion-dir DIR] [--cifar-dir DIR] [--epochs N] [--seed S]

For each dataset: trains gan_helpers.classifier.build_classifier(dataset) on the real training set
(60,000 images, CIFAR-10 50,000, scaled to [-1, 1]) with a fixed seed, small random translations
(and for CIFAR-10 horizontal flips; training only), Adam with a cosine-decaying learning rate and
batches of 128; --cifar-dir is a folder for gan_helpers.load_cifar10 (the official archive, its
batches or train/<class>/ folders), or one holding ``cifar10-jpg.tar.gz`` (../shared/data/cifar10),
which is unpacked into a temporary folder first; saves the weights into gan_helpers/weights/; reloads
them from that file and measures the accuracy on the real test set (10,000 images); records accuracy,
epochs, seed, training seconds, sha256 and library versions in gan_helpers/weights/classifiers.json.
Prints a table and writes benchmarks/results/classifiers.json (the same facts plus per-epoch history).
Entries of datasets not trained in this run are kept in both JSON files.

Targets on the test set: >= 99.3% on MNIST, >= 91% on Fashion-MNIST, >= 85% on CIFAR-10.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import harness  # noqa: E402
from gan_helpers import classifier  # noqa: E402
from gan_helpers.data import DATASETS as DATA_SOURCES  # noqa: E402
from gan_helpers.colour_data import load_cifar10  # noqa: E402
from gan_helpers.data import load_mnist_family  # noqa: E402

RESULT = REPO / "benchmarks" / "results" / "classifiers.json"
DEFAULT_DATA_DIRS = {
    "mnist": REPO.parent / "shared" / "data" / "mnist",
    "fashion_mnist": Path("/usr/share/datasets/fashion-mnist"),
    "cifar10": REPO.parent / "shared" / "data" / "cifar10",
}
WHERE_TO_GET_DATA = {
    "mnist": "download the four IDX .gz files from one of " + ", ".join(DATA_SOURCES["mnist"]["mirrors"]),
    "fashion_mnist": "run `apt-get install -y dataset-fashion-mnist` (Debian/Ubuntu), or download the four IDX "
    ".gz files from " + DATA_SOURCES["fashion_mnist"]["mirrors"][-1],
    "cifar10": "download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html",
}
DEFAULT_EPOCHS = {"mnist": 8, "fashion_mnist": 9, "cifar10": 30}
# Largest random shift, as a fraction of the image side (0.1 = up to 2.8 pixels), training only.
TRANSLATION_FRACTION = {"mnist": 0.08, "fashion_mnist": 0.05, "cifar10": 0.1}
BATCH_SIZE = 128
PEAK_LEARNING_RATE = 2e-3
FINAL_LEARNING_RATE_FRACTION = 0.01  # the cosine decay ends at this fraction of the peak
TARGET_ACCURACY = {"mnist": 0.993, "fashion_mnist": 0.91, "cifar10": 0.85}


def scale_to_unit_range(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) or (N, H, W, 3) -> float32 (N, H, W, C) in [-1, 1], the range GAN generators produce."""
    images = images.astype(np.float32) / 127.5 - 1.0
    return images[..., np.newaxis] if images.ndim == 3 else images


def load_split(dataset: str, split: str, data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    if dataset == "cifar10":
        return load_cifar10(split, cache_dir=data_dir, data_dir=data_dir)
    return load_mnist_family(dataset, split, cache_dir=data_dir, data_dir=data_dir)


def check_data_dir(dataset: str, data_dir: Path) -> None:
    """Exit with a message saying where to get the files if ``data_dir`` lacks the training images."""
    if dataset == "cifar10":
        if not data_dir.is_dir():
            sys.exit(f"No CIFAR-10 in {data_dir}. To get it: {WHERE_TO_GET_DATA[dataset]}; pass --cifar-dir FOLDER.")
        return
    if not any((data_dir / name).is_file() for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte")):
        option = {"mnist": "--mnist-dir", "fashion_mnist": "--fashion-dir"}[dataset]
        sys.exit(
            f"No {dataset} IDX files in {data_dir}. To get them: {WHERE_TO_GET_DATA[dataset]}; "
            f"then put them in {data_dir} or pass {option} FOLDER."
        )


def make_trainer(model: keras.Model, dataset: str, seed: int) -> keras.Model:
    """Wrap ``model`` with random translations (and for CIFAR-10 horizontal flips) that act only in training;
    the wrapper shares its weights."""
    inputs = keras.Input(shape=classifier.IMAGE_SHAPES[dataset])
    fraction = TRANSLATION_FRACTION[dataset]
    shifted = keras.layers.RandomTranslation(
        fraction, fraction, fill_mode="constant" if dataset != "cifar10" else "reflect", fill_value=-1.0,
        interpolation="nearest", seed=seed)(inputs)
    if dataset == "cifar10":
        shifted = keras.layers.RandomFlip("horizontal", seed=seed)(shifted)
    return keras.Model(inputs, model(shifted))


def test_accuracy_of_weights_file(dataset: str, path: Path, test_images: np.ndarray, test_labels: np.ndarray) -> float:
    """Accuracy on the test set of a fresh model loaded from ``path``, the way load_classifier loads it."""
    model = classifier.build_classifier(dataset)
    model.load_weights(path)
    extractor = classifier.Extractor(model, dataset, weights_sha256=classifier.file_sha256(path), test_accuracy=None)
    _, probabilities = extractor.features_and_probabilities(test_images)
    return float(np.mean(probabilities.argmax(axis=1) == test_labels))


def train_classifier(dataset: str, data_dir: Path, epochs: int, seed: int) -> dict:
    """Train, save and evaluate the classifier of ``dataset``; return its record plus per-epoch history."""
    train_images, train_labels = load_split(dataset, "train", data_dir)
    test_images, test_labels = load_split(dataset, "test", data_dir)
    train_images, test_images = scale_to_unit_range(train_images), scale_to_unit_range(test_images)

    keras.utils.set_random_seed(seed)
    model = classifier.build_classifier(dataset)
    trainer = make_trainer(model, dataset, seed)
    steps = epochs * -(-len(train_images) // BATCH_SIZE)
    learning_rate = keras.optimizers.schedules.CosineDecay(
        PEAK_LEARNING_RATE, decay_steps=steps, alpha=FINAL_LEARNING_RATE_FRACTION
    )
    trainer.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    epoch_seconds: list[float] = []
    epoch_timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epoch_seconds.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: epoch_seconds.__setitem__(-1, time.perf_counter() - epoch_seconds[-1]),
    )
    print(f"\n{dataset}: {model.count_params():,} parameters, {epochs} epochs of {len(train_images):,} images")
    started = time.perf_counter()
    history = trainer.fit(
        train_images, train_labels, batch_size=BATCH_SIZE, epochs=epochs, shuffle=True, verbose=2,
        callbacks=[epoch_timer],
    )
    training_seconds = time.perf_counter() - started

    path = classifier.weights_path(dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_path = path.with_name(path.name.replace(".weights.h5", ".partial.weights.h5"))
    model.save_weights(partial_path)
    os.replace(partial_path, path)  # a crash never leaves a half-written file under the final name
    accuracy = test_accuracy_of_weights_file(dataset, path, test_images, test_labels)

    record = {
        "name": f"{dataset}-{classifier.ARCHITECTURES[dataset]}",
        "architecture": classifier.ARCHITECTURES[dataset],
        "weights_file": path.name,
        "weights_sha256": classifier.file_sha256(path),
        "weights_bytes": path.stat().st_size,
        "parameters": model.count_params(),
        "test_accuracy": round(accuracy, 4),
        "test_examples": len(test_images),
        "train_examples": len(train_images),
        "epochs": epochs,
        "seed": seed,
        "batch_size": BATCH_SIZE,
        "peak_learning_rate": PEAK_LEARNING_RATE,
        "translation_fraction": TRANSLATION_FRACTION[dataset],
        "training_seconds": round(training_seconds, 1),
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
    }
    history_rows = [
        {"epoch": epoch + 1, "seconds": round(epoch_seconds[epoch], 1),
         "loss": round(history.history["loss"][epoch], 4), "accuracy": round(history.history["accuracy"][epoch], 4)}
        for epoch in range(epochs)
    ]
    return {**record, "history": history_rows}


def update_json(path: Path, entries: dict) -> dict:
    """Merge ``entries`` into the JSON object stored at ``path`` (created if missing); return the result."""
    content = json.loads(path.read_text()) if path.exists() else {}
    content.update(entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_path = path.with_suffix(".json.tmp")
    partial_path.write_text(json.dumps(content, indent=2) + "\n")
    os.replace(partial_path, path)
    return content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=[*classifier.DATASETS, "all"], default="all")
    parser.add_argument("--mnist-dir", type=Path, default=DEFAULT_DATA_DIRS["mnist"])
    parser.add_argument("--fashion-dir", type=Path, default=DEFAULT_DATA_DIRS["fashion_mnist"])
    parser.add_argument("--cifar-dir", type=Path, default=DEFAULT_DATA_DIRS["cifar10"])
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs for every dataset trained (default per dataset: {DEFAULT_EPOCHS})")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs {args.epochs} is not a positive number of epochs; pass e.g. --epochs 5.")

    datasets = list(classifier.DATASETS) if args.dataset == "all" else [args.dataset]
    data_dirs = {"mnist": args.mnist_dir.expanduser(), "fashion_mnist": args.fashion_dir.expanduser(),
                 "cifar10": harness.unpacked_cifar10(args.cifar_dir.expanduser())}
    for dataset in datasets:  # all checks first: no training is wasted on a run that fails later
        check_data_dir(dataset, data_dirs[dataset])

    results = {}
    for dataset in datasets:
        epochs = args.epochs or DEFAULT_EPOCHS[dataset]
        results[dataset] = train_classifier(dataset, data_dirs[dataset], epochs, args.seed)
        record = {key: value for key, value in results[dataset].items() if key != "history"}
        update_json(classifier.WEIGHTS_DIR / classifier.TRAINING_RECORD_FILE, {dataset: record})

    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    update_json(RESULT, {"machine": machine, **results})

    print(f"\n{'dataset':<14} {'test accuracy':>13} {'target':>7} {'epochs':>6} {'seconds':>8} {'weights KB':>10}")
    for dataset, result in results.items():
        print(f"{dataset:<14} {result['test_accuracy']:>13.4f} {TARGET_ACCURACY[dataset]:>7.3f} "
              f"{result['epochs']:>6} {result['training_seconds']:>8.1f} {result['weights_bytes'] / 1024:>10.0f}")
    print(f"written {classifier.WEIGHTS_DIR} and {RESULT}", file=sys.stderr)
    missed = [dataset for dataset, result in results.items() if result["test_accuracy"] < TARGET_ACCURACY[dataset]]
    if missed:
        sys.exit(f"Below the target accuracy: {', '.join(missed)}. Train longer (--epochs) or check the data.")


if __name__ == "__main__":
    main()
