"""Tests for gan_helpers.colour_data: CIFAR-10's official archive format made here and served from
127.0.0.1, its folder layout, and any folder of images with odd files."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_helpers.colour_data import (
    CIFAR10_ARCHIVE,
    CIFAR10_CLASSES,
    InvalidArchiveError,
    load_cifar10,
    load_image_folder,
)
from gan_helpers.data import DatasetUnavailableError
from gan_helpers.image_data import UnreadableImagesWarning

TRAIN_PER_BATCH, TEST_COUNT = 4, 6


def tiny_images(count: int, offset: int) -> np.ndarray:
    """Distinct RGB images (count, 32, 32, 3): each channel its own ramp, so a mixed-up axis shows."""
    rows, cols = np.mgrid[0:32, 0:32]
    return np.stack([np.stack([(rows * 7 + k + offset) % 256, (cols * 5 + 2 * k) % 256,
                               (rows + cols + 3 * k + offset) % 256], axis=-1) for k in range(count)]).astype(np.uint8)


def batch_bytes(images: np.ndarray, labels: list[int]) -> bytes:
    """A batch as the official archive pickles it (Python 2 era: bytes keys, rows of R, G, B planes)."""
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    return pickle.dumps({b"batch_label": b"training batch", b"labels": labels, b"data": rows,
                         b"filenames": [b"x.png"] * len(images)}, protocol=2)


def cifar_archive(path: Path, poisoned: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Write a small archive in the official layout; return the expected (images, labels) per split."""
    expected = {"train": ([], []), "test": ([], [])}
    with tarfile.open(path, "w:gz") as tar:
        def add(name: str, content: bytes) -> None:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))

        for index in range(1, 6):
            images = tiny_images(TRAIN_PER_BATCH, offset=10 * index)
            labels = [(index + k) % 10 for k in range(TRAIN_PER_BATCH)]
            add(f"data_batch_{index}", batch_bytes(images, labels))
            expected["train"][0].append(images), expected["train"][1].append(labels)
        images = tiny_images(TEST_COUNT, offset=99)
        add("test_batch", batch_bytes(images, list(range(TEST_COUNT))) if not poisoned
            else pickle.dumps(Evil(), protocol=2))
        expected["test"][0].append(images), expected["test"][1].append(list(range(TEST_COUNT)))
        add("batches.meta", pickle.dumps({b"label_names": [c.encode() for c in CIFAR10_CLASSES]}, protocol=2))
    return {split: (np.concatenate(images), np.concatenate(labels).astype(np.uint8))
            for split, (images, labels) in expected.items()}


class Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_the_official_archive_is_downloaded_after_a_failing_source_verified_cached_and_read(http_server, tmp_path,
                                                                                            capsys):
    made = tmp_path / "made" / CIFAR10_ARCHIVE
    made.parent.mkdir()
    expected = cifar_archive(made)
    official = http_server.add_mirror("cifar", {CIFAR10_ARCHIVE: made.read_bytes()}) + CIFAR10_ARCHIVE
    failing = http_server.failing_url(404) + "mine.tar.gz"
    arguments = dict(cache_dir=tmp_path / "cache", source=failing, official_url=official, use_tfds=False,
                     md5=md5_of(made))

    images, labels = load_cifar10("train", **arguments)

    assert "404" in capsys.readouterr().err  # the user's source failed: reported, skipped
    np.testing.assert_array_equal(images, expected["train"][0])  # rows of R, G, B planes -> (32, 32, 3)
    np.testing.assert_array_equal(labels, expected["train"][1])
    assert images.shape == (5 * TRAIN_PER_BATCH, 32, 32, 3) and images.dtype == np.uint8
    http_server.clear_requests()
    test_images, test_labels = load_cifar10("test", **arguments)  # from the cache, no request
    assert http_server.requests == []
    np.testing.assert_array_equal(test_images, expected["test"][0])
    assert sorted(p.name for p in (tmp_path / "cache" / "cifar10").iterdir()) == [CIFAR10_ARCHIVE]


def test_a_corrupt_download_is_refused_and_the_error_lists_every_source_and_the_fix(http_server, tmp_path,
                                                                                   monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # not installed
    made = tmp_path / CIFAR10_ARCHIVE
    cifar_archive(made)
    corrupt = made.read_bytes()[:-100] + b"x" * 100
    official = http_server.add_mirror("corrupt", {CIFAR10_ARCHIVE: corrupt}) + CIFAR10_ARCHIVE
    refused = http_server.refused_url() + CIFAR10_ARCHIVE

    with pytest.raises(DatasetUnavailableError) as caught:
        load_cifar10("train", cache_dir=tmp_path / "cache", source=refused, official_url=official, md5=md5_of(made))

    message = str(caught.value)
    assert refused in message and official in message and "not the official" in message
    assert "TFDS cifar10" in message and "data_source" in message and "data_dir" in message
    assert list((tmp_path / "cache" / "cifar10").iterdir()) == []  # nothing half-downloaded or unverified kept


def test_a_pickle_that_asks_for_code_is_refused(tmp_path):
    cifar_archive(tmp_path / CIFAR10_ARCHIVE, poisoned=True)
    with pytest.raises(InvalidArchiveError, match="refused a pickle that asks for .*system"):
        load_cifar10("test", cache_dir=tmp_path / "cache", data_dir=tmp_path)


def test_a_local_archive_or_its_unpacked_batches_are_read_in_place(tmp_path):
    (tmp_path / "drive").mkdir()
    expected = cifar_archive(tmp_path / "drive" / CIFAR10_ARCHIVE)
    images, labels = load_cifar10("test", cache_dir=tmp_path / "cache", data_dir=tmp_path / "drive")
    np.testing.assert_array_equal(images, expected["test"][0])
    with tarfile.open(tmp_path / "drive" / CIFAR10_ARCHIVE) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    images, labels = load_cifar10("train", cache_dir=tmp_path / "cache", data_dir=tmp_path / "unpacked")
    np.testing.assert_array_equal(labels, expected["train"][1])
    assert not (tmp_path / "cache").exists()


def write_png(path: Path, image: np.ndarray, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = Image.fromarray(image)
    (picture.convert(mode) if mode else picture).save(path)


def test_the_cifar10_folder_layout_gives_labels_in_the_official_class_order(tmp_path):
    for label, name in ((0, "airplane"), (9, "truck"), (3, "cat")):
        for k in range(2):
            write_png(tmp_path / "test" / name / f"{k:04d}.png", np.full((32, 32, 3), 20 * label + k, np.uint8))
    images, labels = load_cifar10("test", cache_dir=tmp_path / "cache", data_dir=tmp_path)
    assert sorted(labels.tolist()) == [0, 0, 3, 3, 9, 9]
    for image, label in zip(images, labels):
        assert image[0, 0, 0] in (20 * label, 20 * label + 1)  # each image under its own class's label
    write_png(tmp_path / "test" / "unicorn" / "0.png", np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="class folder\\(s\\) unicorn"):
        load_cifar10("test", cache_dir=tmp_path / "cache", data_dir=tmp_path)


def test_a_folder_of_class_folders_with_odd_files_nested_folders_and_odd_names(tmp_path):
    root = tmp_path / "pictures"
    wide = np.zeros((20, 60, 3), np.uint8)
    wide[:, 20:40] = 200  # the centre square is bright, the sides dark
    write_png(root / "cats" / "wide one.png", wide)
    write_png(root / "cats" / "sub" / "deeper" / "2013-11-08 16:45:24.png", np.full((8, 8, 3), 50, np.uint8))
    write_png(root / "cats" / "grey.png", np.full((16, 16), 90, np.uint8), mode="L")
    write_png(root / "dogs" / "alpha.png", np.full((16, 16, 4), 120, np.uint8), mode="RGBA")
    write_png(root / "dogs" / "palette.png", np.full((16, 16, 3), 30, np.uint8), mode="P")
    Image.new("CMYK", (16, 16), (0, 0, 0, 0)).save(root / "dogs" / "cmyk.JPG")
    (root / "dogs" / "broken.jpg").write_bytes(b"not a jpeg")
    (root / "dogs" / ".hidden.png").write_bytes(b"junk")
    (root / "dogs" / "notes.txt").write_text("ignored")
    (root / "empty").mkdir()

    with pytest.warns(UnreadableImagesWarning, match="Skipped 1 unreadable"):
        images, labels, classes = load_image_folder(root, 16)

    assert classes == ["cats", "dogs"]  # "empty" holds no image: no class
    assert images.shape == (6, 16, 16, 3) and images.dtype == np.uint8
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]  # the broken file skipped, and its label with it
    assert (images[labels == 0] == 200).all(axis=(1, 2, 3)).any()  # the wide image: its centre square only

    images, labels, classes = load_image_folder(root / "cats", 16)  # images directly in it: unlabelled, recursive
    assert labels is None and classes == [] and len(images) == 3


def test_a_limit_takes_images_from_every_class(tmp_path):
    for name in ("a", "b", "c"):
        for k in range(5):
            write_png(tmp_path / name / f"{k}.png", np.full((4, 4, 3), k, np.uint8))
    images, labels, _ = load_image_folder(tmp_path, 4, limit=6)
    assert sorted(labels.tolist()) == [0, 0, 1, 1, 2, 2]
    (tmp_path / "nothing").mkdir()
    with pytest.raises(ValueError, match="holds no image file at any depth"):
        load_image_folder(tmp_path / "nothing", 4)
