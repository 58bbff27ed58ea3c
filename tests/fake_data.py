"""Fake datasets the tests and the notebook smoke runs train on (no download, no real data)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

TINY_TRAIN_EXAMPLES = 256
TINY_TEST_EXAMPLES = 64
IDX_FILE_NAMES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def idx_bytes(array: np.ndarray) -> bytes:
    """Uncompressed IDX encoding of a uint8 array: magic 0x0000 08 <ndim>, big-endian dims, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx_gz(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` (uint8) as a gzipped IDX file. The bytes are reproducible (no timestamp)."""
    path = Path(path)
    path.write_bytes(gzip.compress(idx_bytes(array), mtime=0))
    return path


def tiny_digits(num_examples: int) -> tuple[np.ndarray, np.ndarray]:
    """28x28 uint8 images of a bright horizontal bar whose row is 2 + 2*label; labels cycle 0..9.

    The bar's left edge moves with the example index, so no two neighbouring examples are identical.
    """
    labels = (np.arange(num_examples) % 10).astype(np.uint8)
    images = np.zeros((num_examples, 28, 28), dtype=np.uint8)
    for index, label in enumerate(labels):
        top = 2 + 2 * int(label)
        left = 2 + index % 7
        images[index, top : top + 3, left : left + 18] = 255
        images[index, top + 3, left : left + 18] = 128  # a soft lower edge
    return images, labels



def write_tiny_mnist(folder: str | Path) -> Path:
    """Write the four MNIST-named .gz IDX files (256 train, 64 test examples) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", TINY_TRAIN_EXAMPLES), ("test", TINY_TEST_EXAMPLES)):
        images, labels = tiny_digits(count)
        images_file, labels_file = IDX_FILE_NAMES[split]
        write_idx_gz(folder / images_file, images)
        write_idx_gz(folder / labels_file, labels)
    return folder


# Tiny unpaired dataset in the official CycleGAN layout (trainA/trainB/testA/testB).
TINY_UNPAIRED_COUNTS = {"trainA": 6, "trainB": 10, "testA": 3, "testB": 4}
TINY_UNPAIRED_SIDE = 48


def tiny_painting(index: int, side: int = TINY_UNPAIRED_SIDE) -> np.ndarray:
    """A smooth "painting": a diagonal colour gradient with a soft blob whose place depends on ``index``."""
    y, x = np.mgrid[0:side, 0:side] / side
    cy, cx = 0.3 + 0.4 * ((index * 0.37) % 1), 0.3 + 0.4 * ((index * 0.61) % 1)
    blob = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) * 20)
    rgb = np.stack([0.6 * x + 0.4 * blob, 0.5 * y + 0.2, 0.8 - 0.5 * blob], axis=-1)
    return np.clip(rgb * 255, 0, 255).astype(np.uint8)


def tiny_photo(index: int, side: int = TINY_UNPAIRED_SIDE) -> np.ndarray:
    """A hard-edged "photo": stripes whose period and colours depend on ``index``."""
    y, x = np.mgrid[0:side, 0:side]
    period = 4 + index % 5
    stripes = ((x + y * (index % 3)) // period) % 2
    colour_a = np.array([30 + 20 * (index % 4), 120, 200], dtype=np.float64)
    colour_b = np.array([220, 200 - 15 * (index % 5), 60], dtype=np.float64)
    return np.where(stripes[..., None] == 1, colour_a, colour_b).astype(np.uint8)


def write_tiny_unpaired(folder: str | Path, name: str = "monet2photo") -> Path:
    """Write ``folder/<name>/{trainA,trainB,testA,testB}`` of small JPEGs; return ``folder/<name>``.

    A holds paintings, B photos named like the official ones (``2013-11-08 16:45:24.jpg``: spaces
    and colons).
    """
    from PIL import Image

    root = Path(folder) / name
    for split, count in TINY_UNPAIRED_COUNTS.items():
        (root / split).mkdir(parents=True, exist_ok=True)
        offset = 0 if split.startswith("train") else 100
        for index in range(count):
            if split.endswith("A"):
                image, file_name = tiny_painting(index + offset), f"{index + offset:05d}.jpg"
            else:
                image, file_name = tiny_photo(index + offset), f"2013-11-08 16:{index // 60:02d}:{index % 60 + offset % 60:02d}.jpg"
            Image.fromarray(image).save(root / split / file_name, quality=95)
    return root


# Tiny CIFAR-10 in the train/<class>/ test/<class>/ layout of many copies (and of ../shared/data/cifar10).
TINY_CIFAR_PER_CLASS = {"train": 12, "test": 4}


def tiny_colour_image(label: int, index: int, side: int = 32) -> np.ndarray:
    """A class-coloured gradient: the class sets the hue, ``index`` shifts the gradient a little."""
    y, x = np.mgrid[0:side, 0:side] / side
    hue = np.array([(label * 0.37) % 1, (label * 0.61) % 1, (label * 0.83) % 1])
    rgb = hue * (0.6 + 0.4 * x[..., None]) + 0.1 * y[..., None] * ((index % 4) / 3)
    return np.clip(rgb * 255, 0, 255).astype(np.uint8)


def write_tiny_cifar_folder(folder: str | Path, classes: tuple[str, ...] | None = None) -> Path:
    """Write ``folder/{train,test}/<class>/<n>.png`` for the CIFAR-10 classes; return ``folder``."""
    from PIL import Image

    from gan_helpers.colour_data import CIFAR10_CLASSES

    folder = Path(folder)
    for split, count in TINY_CIFAR_PER_CLASS.items():
        for label, name in enumerate(classes or CIFAR10_CLASSES):
            (folder / split / name).mkdir(parents=True, exist_ok=True)
            for index in range(count):
                Image.fromarray(tiny_colour_image(label, index)).save(folder / split / name / f"{index:04d}.png")
    return folder
