"""gan_helpers.datasets (what a DCGAN-family notebook trains on and measures against) and CelebA's loader."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from fake_data import TINY_CIFAR_PER_CLASS, tiny_colour_image, write_tiny_cifar_folder
from PIL import Image

import gan_helpers as gh
from gan_helpers.colour_data import CIFAR10_CLASSES, InvalidArchiveError, load_celeba
from gan_helpers.data import DatasetUnavailableError


@pytest.mark.parametrize("dataset, asked, size", [
    ("mnist", 0, 28), ("fashion_mnist", 28, 28), ("cifar10", 0, 32), ("cifar10", 64, 64),
    ("celeba", 0, 64), ("celeba", 32, 32), ("folder", 0, 64)])
def test_each_dataset_trains_at_its_own_size_or_an_allowed_one(dataset, asked, size):
    assert gh.image_size_for(dataset, asked) == size


@pytest.mark.parametrize("dataset, asked, expected", [
    ("mnist", 32, "use 28, or 0 for its own size (28)"),
    ("cifar10", 28, "use 32 or 64, or 0 for its own size (32)"),
    ("folder", 128, "use 32 or 64"),
    ("imagenet", 0, "dataset='imagenet' is not one of")])
def test_a_size_the_networks_are_not_built_for_is_refused_with_the_fix(dataset, asked, expected):
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        gh.image_size_for(dataset, asked)


@pytest.mark.parametrize("size", [32, 64])
def test_cifar10_from_a_folder_gives_labelled_images_and_the_test_split_to_measure_against(tmp_path, size):
    folder = write_tiny_cifar_folder(tmp_path / "cifar")
    data = gh.load_training_data("cifar10", size, cache_dir=tmp_path / "cache", data_dir=folder)

    per_class = TINY_CIFAR_PER_CLASS
    assert data.images.shape == (10 * per_class["train"], size, size, 3) and data.images.dtype == np.uint8
    assert data.image_shape == (size, size, 3) and data.class_names == list(CIFAR10_CLASSES)
    assert np.bincount(data.labels).tolist() == [per_class["train"]] * 10
    assert data.test_images.shape == (10 * per_class["test"], size, size, 3)
    assert data.test_images.dtype == np.float32 and -1 <= data.test_images.min() and data.test_images.max() <= 1
    assert np.bincount(data.test_labels).tolist() == [per_class["test"]] * 10
    # Each image sits under its own class: a truck is the truck colour, at any size.
    truck = data.images[data.labels == 9][0].astype(float).mean(axis=(0, 1))
    assert np.abs(truck - tiny_colour_image(9, 0).astype(float).mean(axis=(0, 1))).max() < 25
    assert data.floor_images.shape[1:] == data.test_images.shape[1:] and "test images" in data.reference

    limited = gh.load_training_data("cifar10", size, cache_dir=tmp_path / "cache", data_dir=folder, limit=20)
    assert np.bincount(limited.labels).tolist() == [2] * 10  # a limit draws from every class
    assert len(limited.test_images) == len(data.test_images)  # the metrics' real images are not limited


def test_a_folder_is_measured_against_half_its_images_and_the_floor_uses_the_other_half(tmp_path):
    for index in range(7):
        Image.fromarray(tiny_colour_image(index, index, side=40)).save(tmp_path / f"painting {index}.jpg")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.warns(gh.UnreadableImagesWarning):
        data = gh.load_training_data("folder", 32, cache_dir=tmp_path / "cache", data_dir=tmp_path)
    assert data.images.shape == (7, 32, 32, 3) and data.labels is None and data.image_shape == (32, 32, 3)
    assert len(data.test_images) == 3 and len(data.floor_images) == 4  # odd and even images: disjoint halves
    as_float = gh.to_model_range(data.images)
    np.testing.assert_allclose(data.test_images, as_float[1::2])
    np.testing.assert_allclose(data.floor_images, as_float[0::2])

    with pytest.raises(ValueError, match="set data_dir to it"):
        gh.load_training_data("folder", cache_dir=tmp_path / "cache")


def test_a_folder_of_class_folders_keeps_its_labels_for_both_halves(tmp_path):
    folder = write_tiny_cifar_folder(tmp_path, classes=("apples", "pears"))
    data = gh.load_training_data("folder", 32, cache_dir=tmp_path / "cache", data_dir=folder / "train")
    assert data.class_names == ["apples", "pears"]
    assert sorted(data.labels.tolist()) == [0] * 12 + [1] * 12
    assert len(data.test_labels) == len(data.test_images) and len(data.floor_labels) == len(data.floor_images)


def faces_zip(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            picture = io.BytesIO()
            face = np.zeros((218, 178, 3), np.uint8)
            face[20:198, :] = 40 + 10 * index  # the centre 178x178 square is bright, the top and bottom rows black
            Image.fromarray(face).save(picture, format="JPEG", quality=95)
            archive.writestr(f"img_align_celeba/{index + 1:06d}.jpg", picture.getvalue())
    return buffer.getvalue()


def test_celeba_comes_from_a_zip_at_a_url_is_cropped_cached_and_held_out_for_the_metrics(http_server, tmp_path):
    url = http_server.add_mirror("celeba", {"img_align_celeba.zip": faces_zip(6)}) + "img_align_celeba.zip"
    faces = load_celeba(64, cache_dir=tmp_path, source=url)
    assert faces.shape == (6, 64, 64, 3)
    assert [int(face.mean()) for face in faces][:3] == pytest.approx([40, 50, 60], abs=2)  # in file order, cropped
    assert not (tmp_path / "celeba.zip").exists()  # the download is unpacked, then removed

    http_server.clear_requests()
    data = gh.load_training_data("celeba", 32, cache_dir=tmp_path)  # from the cache: no source, no request
    assert http_server.requests == []
    assert data.images.shape == (3, 32, 32, 3) and len(data.test_images) == 3 and data.labels is None
    assert "kept out of training" in data.reference
    np.testing.assert_allclose(data.floor_images, gh.to_model_range(data.images))  # the floor: training vs held out


def test_celeba_without_a_source_or_with_a_file_that_is_not_a_zip_says_what_to_do(http_server, tmp_path):
    with pytest.raises(DatasetUnavailableError, match="pass its path or a URL as source="):
        load_celeba(64, cache_dir=tmp_path)
    not_a_zip = tmp_path / "img_align_celeba.zip"
    not_a_zip.write_bytes(b"html page from a download quota")
    with pytest.raises(InvalidArchiveError, match="is not a zip file"):
        load_celeba(64, cache_dir=tmp_path, source=str(not_a_zip))
    assert not (tmp_path / "celeba").exists()  # nothing half-unpacked is left to be taken for the dataset
    quota_page = http_server.add_mirror("quota", {"img_align_celeba.zip": b"<html>quota exceeded</html>"})
    with pytest.raises(InvalidArchiveError, match="a download quota's web page"):
        load_celeba(64, cache_dir=tmp_path, source=quota_page + "img_align_celeba.zip")
    assert not (tmp_path / "celeba.zip").exists()  # the page is not kept

    good = tmp_path / "good.zip"
    good.write_bytes(faces_zip(2))
    assert load_celeba(32, cache_dir=tmp_path, source=str(good)).shape == (2, 32, 32, 3)  # a path (e.g. on Drive)
    assert good.exists()  # the user's own file is left alone


def test_unlabelled_images_make_batches_too(tmp_path):
    images = np.stack([tiny_colour_image(i, i) for i in range(8)])
    batch_images, batch_labels = next(iter(gh.make_dataset(images, None, batch_size=4, seed=0)))
    assert batch_images.shape == (4, 32, 32, 3) and batch_labels.numpy().tolist() == [0, 0, 0, 0]
