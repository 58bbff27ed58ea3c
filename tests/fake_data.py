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
