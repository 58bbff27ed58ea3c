"""Tests for gan_helpers.image_data: real zips, real downloads from a local HTTP server, real images, real tf.data."""

from __future__ import annotations

import io
import stat
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from fake_data import TINY_UNPAIRED_COUNTS, tiny_painting, tiny_photo, write_tiny_unpaired
from PIL import Image

import gan_helpers.image_data as image_data
from gan_helpers.data import DatasetUnavailableError
from gan_helpers.image_data import (
    COMPLETE_MARKER,
    SPLIT_FOLDERS,
    UnreadableImagesWarning,
    UnsafeArchiveError,
    find_unpaired_dataset,
    load_images,
    make_unpaired_dataset,
    write_images,
    write_images_zip,
)


def jpeg_bytes(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="JPEG", quality=95)
    return out.getvalue()


def dataset_zip(top: str | None = "monet2photo") -> bytes:
    """A zip of the tiny dataset in the official layout (entries under ``top/`` like the official zip)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for split, count in TINY_UNPAIRED_COUNTS.items():
            for index in range(count):
                image = tiny_painting(index) if split.endswith("A") else tiny_photo(index)
                name = f"{index:05d}.jpg" if split.endswith("A") else f"2013-11-08 16:45:{index:02d}.jpg"
                archive.writestr("/".join(filter(None, [top, split, name])), jpeg_bytes(image))
    return out.getvalue()


def zip_with_entry(name: str, symlink: bool = False) -> bytes:
    """A valid dataset zip plus one extra entry ``name`` (a symlink entry if ``symlink``)."""
    out = io.BytesIO(dataset_zip())
    with zipfile.ZipFile(out, "a") as archive:
        info = zipfile.ZipInfo(name)
        if symlink:
            info.create_system = 3  # Unix
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "../../../etc/passwd")
        else:
            archive.writestr(info, b"evil")
    return out.getvalue()


def assert_complete(folder: Path) -> None:
    assert (folder / COMPLETE_MARKER).exists()
    for split, count in TINY_UNPAIRED_COUNTS.items():
        assert len(image_data.list_images(folder / split)) == count, split


NO_SOURCES = dict(official_url=None, use_tfds=False)


# --------------------------------------------------------------------------------------------------
# Safe extraction
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("entry, symlink, problem", [
    ("../evil.jpg", False, "contains '..'"),
    ("monet2photo/trainA/../../../evil.jpg", False, "contains '..'"),
    ("..\\evil.jpg", False, "contains '..'"),
    ("/tmp/evil.jpg", False, "absolute path"),
    ("C:/evil.jpg", False, "absolute path"),
    ("monet2photo/trainA/link.jpg", True, "symbolic link"),
])
def test_extraction_refuses_entries_that_could_escape(tmp_path, entry, symlink, problem):
    archive = tmp_path / "uploads" / "monet2photo.zip"
    archive.parent.mkdir()
    archive.write_bytes(zip_with_entry(entry, symlink))
    cache = tmp_path / "deep" / "cache"

    with pytest.raises(UnsafeArchiveError) as caught:
        find_unpaired_dataset(cache_dir=cache, source=archive, **NO_SOURCES)

    assert repr(entry) in str(caught.value) and problem in str(caught.value)
    assert "Nothing was extracted" in str(caught.value)
    assert not (cache / "monet2photo").exists()
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p != archive]
    assert leftovers == []  # nothing written anywhere, neither inside nor outside the cache


def test_zip_from_a_path_is_extracted_once_and_reused(tmp_path):
    archive = tmp_path / "monet2photo.zip"
    archive.write_bytes(dataset_zip())

    folder = find_unpaired_dataset(cache_dir=tmp_path / "cache", source=archive, **NO_SOURCES)

    assert folder == tmp_path / "cache" / "monet2photo"
    assert_complete(folder)
    assert "2013-11-08 16:45:03.jpg" in {p.name for p in (folder / "trainB").iterdir()}
    assert not list((tmp_path / "cache").glob(".*"))  # no temporary folder left
    archive.unlink()
    assert find_unpaired_dataset(cache_dir=tmp_path / "cache", source=archive, **NO_SOURCES) == folder


def test_zip_without_a_top_folder_is_accepted(tmp_path):
    archive = tmp_path / "flat.zip"
    archive.write_bytes(dataset_zip(top=None))
    assert_complete(find_unpaired_dataset(cache_dir=tmp_path / "cache", source=archive, **NO_SOURCES))


def test_extraction_interrupted_half_way_is_detected_and_redone(tmp_path, monkeypatch, capsys):
    archive = tmp_path / "monet2photo.zip"
    archive.write_bytes(dataset_zip())
    real_copy, copied = image_data.shutil.copyfileobj, []

    def copy_then_die(*args, **kwargs):
        if len(copied) == 5:
            raise KeyboardInterrupt("runtime disconnected")  # like a Colab disconnect mid-extraction
        copied.append(1)
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(image_data.shutil, "copyfileobj", copy_then_die)
    with pytest.raises(KeyboardInterrupt):
        find_unpaired_dataset(cache_dir=tmp_path / "cache", source=archive, **NO_SOURCES)
    monkeypatch.setattr(image_data.shutil, "copyfileobj", real_copy)
    assert not (tmp_path / "cache" / "monet2photo" / COMPLETE_MARKER).exists()
    # An older layout of an unfinished extraction: the folder in place, without its marker.
    (tmp_path / "cache" / "monet2photo" / "trainA").mkdir(parents=True)
    (tmp_path / "cache" / "monet2photo" / "trainA" / "half.jpg").write_bytes(b"\xff\xd8\xff")

    folder = find_unpaired_dataset(cache_dir=tmp_path / "cache", source=archive, **NO_SOURCES)

    assert "unfinished extraction" in capsys.readouterr().out
    assert_complete(folder)
    assert not (folder / "trainA" / "half.jpg").exists()
    assert not list((tmp_path / "cache").glob(".*extracting"))


# --------------------------------------------------------------------------------------------------
# Sources: official zip, user URL, TFDS, local folder
# --------------------------------------------------------------------------------------------------

def test_download_tries_sources_in_order_and_caches(http_server, tmp_path, capsys):
    broken = http_server.add_mirror("broken", {"monet2photo.zip": b"<html>503 Service Unavailable</html>"})
    official = http_server.add_mirror("official", {"monet2photo.zip": dataset_zip()})
    cache = tmp_path / "cache"
    arguments = dict(cache_dir=cache, source=broken + "monet2photo.zip", official_url=official + "{name}.zip",
                     use_tfds=False)

    folder = find_unpaired_dataset(**arguments)

    assert http_server.requests == ["/broken/monet2photo.zip", "/official/monet2photo.zip"]
    assert "BadZipFile" in capsys.readouterr().err  # the user's source served no zip: reported, skipped
    assert_complete(folder)
    assert sorted(p.name for p in cache.iterdir()) == ["monet2photo"]  # no zip, .part or temporary folder kept
    http_server.clear_requests()
    assert find_unpaired_dataset(**arguments) == folder
    assert http_server.requests == []


def test_offline_error_lists_every_source_and_the_fix(http_server, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # not installed
    source = http_server.failing_url(404) + "mine.zip"
    official = http_server.refused_url() + "{name}.zip"

    with pytest.raises(DatasetUnavailableError) as caught:
        find_unpaired_dataset(cache_dir=tmp_path / "cache", source=source, official_url=official)

    message = str(caught.value)
    assert source in message and "404" in message
    assert official.format(name="monet2photo") in message
    assert "TFDS cycle_gan/monet2photo" in message and "tensorflow_datasets is not installed" in message
    assert "data_dir" in message and "GAN_DATA_DIR" in message and "data_source" in message
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []  # no .part, no zip, no folder


def test_tfds_is_used_when_installed_and_written_in_the_official_layout(tmp_path, monkeypatch):
    loaded = {}

    def load(name, data_dir):
        loaded.update(name=name, data_dir=data_dir)
        make = lambda count, draw: tf.data.Dataset.from_tensor_slices(  # noqa: E731
            {"image": np.stack([draw(i) for i in range(count)]), "label": np.zeros(count, np.int64)})
        return {split: make(count, tiny_painting if split.endswith("A") else tiny_photo)
                for split, count in TINY_UNPAIRED_COUNTS.items()}

    fake_tfds = types.SimpleNamespace(load=load, as_numpy=lambda dataset: dataset.as_numpy_iterator())
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake_tfds)

    folder = find_unpaired_dataset(cache_dir=tmp_path / "cache", official_url=None, use_tfds=True)

    assert loaded["name"] == "cycle_gan/monet2photo"
    assert_complete(folder)
    images, _ = load_images(folder / "trainA", 48)
    assert np.abs(images[2].astype(int) - tiny_painting(2).astype(int)).mean() < 3  # JPEG, quality 95


def test_local_folder_is_used_in_place(tmp_path):
    root = write_tiny_unpaired(tmp_path / "drive")
    cache = tmp_path / "cache"
    assert find_unpaired_dataset(cache_dir=cache, data_dir=root, **NO_SOURCES) == root
    assert find_unpaired_dataset(cache_dir=cache, data_dir=tmp_path / "drive", **NO_SOURCES) == root  # parent
    assert find_unpaired_dataset(cache_dir=cache, source=str(root), **NO_SOURCES) == root
    assert not cache.exists()


@pytest.mark.parametrize("name", ["horse2zebra", "maps"])
def test_a_published_pair_comes_from_its_own_official_url_into_its_own_folder(http_server, tmp_path, name):
    official = http_server.add_mirror(f"pairs-{name}", {f"{name}.zip": dataset_zip(top=name)})
    folder = find_unpaired_dataset(name, cache_dir=tmp_path / "cache", official_url=official + "{name}.zip",
                                   use_tfds=False)
    assert http_server.requests[-1] == f"/pairs-{name}/{name}.zip"
    assert folder == tmp_path / "cache" / name
    assert_complete(folder)
    assert name in image_data.CYCLEGAN_PAIRS and image_data.domain_names(name) != ("A", "B")


def test_every_pair_has_two_names_and_an_own_folder_is_called_a_and_b():
    assert image_data.domain_names("monet2photo") == ("Monet", "photo")
    assert image_data.domain_names("horse2zebra") == ("horse", "zebra")
    assert image_data.domain_names("folder") == ("A", "B")
    for name, (a, b) in image_data.CYCLEGAN_PAIRS.items():
        assert a and b and a != b, name


def test_an_own_folder_is_used_in_place_and_without_data_dir_is_a_clear_error(tmp_path):
    root = write_tiny_unpaired(tmp_path / "mine", "my_pictures")
    assert find_unpaired_dataset("folder", cache_dir=tmp_path / "cache", data_dir=root, **NO_SOURCES) == root
    with pytest.raises(ValueError, match="no data_dir was given: set data_dir .*horse2zebra"):
        find_unpaired_dataset("folder", cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_local_folder_missing_a_split_is_reported(tmp_path):
    root = write_tiny_unpaired(tmp_path / "drive")
    for image in (root / "testB").iterdir():
        image.unlink()
    (root / "testB").rmdir()
    with pytest.raises(FileNotFoundError, match="lacks the folder\\(s\\) testB"):
        find_unpaired_dataset(cache_dir=tmp_path / "cache", data_dir=root, **NO_SOURCES)


# --------------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------------

def test_folder_with_odd_files_loads_the_right_count_with_one_warning(tmp_path):
    folder = tmp_path / "trainB"
    folder.mkdir()
    Image.fromarray(tiny_photo(0)).save(folder / "2013-11-08 16:45:24.jpg")           # spaces and colons
    Image.fromarray(tiny_photo(1)).save(folder / "lossless.PNG")                      # PNG, upper-case suffix
    Image.fromarray(tiny_painting(2)[..., 0]).save(folder / "grey.jpg")               # mode L
    rgba = np.dstack([tiny_painting(3), np.full((48, 48), 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(folder / "with alpha.png")                     # mode RGBA
    Image.fromarray(tiny_photo(4)).convert("P").save(folder / "palette.png")          # mode P
    (folder / "truncated.jpg").write_bytes(jpeg_bytes(tiny_photo(5))[:300])           # corrupt JPEG
    (folder / "not an image.jpeg").write_text("<html>403 Forbidden</html>")
    (folder / "README.txt").write_text("not an image, not counted")

    with pytest.warns(UnreadableImagesWarning) as warned:
        images, names = load_images(folder, 32)

    assert len(warned) == 1
    message = str(warned[0].message)
    assert message.startswith("Skipped 2 unreadable image file(s) of 7")
    assert "'truncated.jpg'" in message and "'not an image.jpeg'" in message
    assert images.shape == (5, 32, 32, 3) and images.dtype == np.uint8
    assert sorted(names) == sorted(["2013-11-08 16:45:24.jpg", "lossless.PNG", "grey.jpg", "with alpha.png", "palette.png"])
    grey = images[names.index("grey.jpg")]
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])


def test_folder_with_no_readable_image_is_an_error(tmp_path):
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    with pytest.warns(UnreadableImagesWarning), pytest.raises(ValueError, match="None of the 1 image"):
        load_images(tmp_path, 32)


# --------------------------------------------------------------------------------------------------
# tf.data pipeline
# --------------------------------------------------------------------------------------------------

def index_images(count: int, side: int, start: int) -> np.ndarray:
    """Images whose every pixel holds their index (start + i), so a batch tells which image it came from."""
    return np.broadcast_to((start + np.arange(count, dtype=np.uint8))[:, None, None, None], (count, side, side, 3)).copy()


def image_indices(batch: tf.Tensor, start: int) -> list[int]:
    return [int(round((float(v) + 1) * 127.5)) - start for v in batch.numpy()[:, 0, 0, 0]]


def test_pipeline_draws_a_and_b_independently_each_epoch_and_resumes_exactly():
    images_a, images_b = index_images(3, 40, start=0), index_images(5, 40, start=100)
    steps = 5
    data = make_unpaired_dataset(images_a, images_b, 32, batch_size=1, steps_per_epoch=steps, seed=7)
    epochs = [[next(it) for _ in range(steps)] for it in [iter(data)] for _ in range(3)]
    for epoch in epochs:
        a = [image_indices(batch_a, 0)[0] for batch_a, _ in epoch]
        b = [image_indices(batch_b, 100)[0] for _, batch_b in epoch]
        assert sorted(b) == [0, 1, 2, 3, 4]                     # B: every photo once per epoch
        assert sorted(a[:3]) == [0, 1, 2] and set(a[3:]) <= {0, 1, 2}  # A: smaller, gone through again
        for batch_a, batch_b in epoch:
            assert batch_a.shape == (1, 32, 32, 3) and batch_b.dtype == tf.float32
    orders = [tuple(image_indices(b, 100)[0] for _, b in epoch) for epoch in epochs]
    assert len(set(orders)) == 3  # a new order every epoch
    pairs = [tuple((image_indices(a, 0)[0], image_indices(b, 100)[0]) for a, b in epoch) for epoch in epochs]
    assert len(set(pairs)) == 3  # and A and B are not paired

    resumed = iter(make_unpaired_dataset(images_a, images_b, 32, batch_size=1, steps_per_epoch=steps, seed=7,
                                         start_epoch=2))
    for batch_a, batch_b in epochs[2]:
        again_a, again_b = next(resumed)
        np.testing.assert_array_equal(batch_a.numpy(), again_a.numpy())
        np.testing.assert_array_equal(batch_b.numpy(), again_b.numpy())


def test_pipeline_crops_flips_and_scales_to_minus_one_one():
    gradient = np.tile(np.arange(40, dtype=np.uint8)[None, :, None] * 6, (40, 1, 3))[None]  # left dark, right bright
    data = make_unpaired_dataset(gradient, gradient, 32, batch_size=4, steps_per_epoch=10, seed=1)
    batches = [a.numpy() for a, _ in data.take(10)]
    all_images = np.concatenate(batches)
    assert all_images.min() >= -1.0 and all_images.max() <= 1.0
    left_columns = {round(float(image[0, 0, 0]), 4) for image in all_images}
    flipped = [image[0, 0, 0] > image[0, -1, 0] for image in all_images]
    assert len(left_columns) > 3             # crops start at different places
    assert 0 < sum(flipped) < len(flipped)   # some images flipped, some not


def test_pipeline_rejects_images_smaller_than_the_crop():
    small = index_images(2, 24, 0)
    with pytest.raises(ValueError, match="smaller than image_size=32"):
        make_unpaired_dataset(small, small, 32, batch_size=1, steps_per_epoch=1, seed=0)


# --------------------------------------------------------------------------------------------------
# Writing images and images.zip
# --------------------------------------------------------------------------------------------------

def test_write_images_keeps_odd_names(tmp_path):
    images = np.stack([tiny_painting(0), tiny_painting(1)])
    paths = write_images(images, ["2013-11-08 16:45:24.jpg", "x.png"], tmp_path / "out")
    assert [p.name for p in paths] == ["2013-11-08 16:45:24.jpg", "x.jpg"]
    assert np.abs(np.asarray(Image.open(paths[0])).astype(int) - tiny_painting(0)).mean() < 3


def test_images_zip_holds_count_jpegs_in_the_kaggle_format(tmp_path):
    batches = (np.stack([np.full((256, 256, 3), 10 * (i + j), np.uint8) for j in range(3)]) for i in range(3))
    path = write_images_zip(batches, tmp_path / "images.zip", count=7)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == [f"{i:05d}.jpg" for i in range(7)]
        with archive.open(names[-1]) as entry, Image.open(entry) as picture:
            assert picture.format == "JPEG" and picture.size == (256, 256) and picture.mode == "RGB"

    with pytest.raises(ValueError, match="Only 7 images"):
        write_images_zip((np.zeros((7, 256, 256, 3), np.uint8) for _ in range(1)), tmp_path / "short.zip", count=8)
    assert not (tmp_path / "short.zip").exists()
