"""Tests for gan_helpers.data: real IDX files, real downloads from a local HTTP server, real tf.data."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from fake_data import TINY_TEST_EXAMPLES, TINY_TRAIN_EXAMPLES, tiny_digits, write_idx_gz

from gan_helpers.data import (
    DATASETS,
    DatasetUnavailableError,
    InvalidIdxFileError,
    batches_per_epoch,
    load_mnist_family,
    make_dataset,
)

TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
ALL_FILES = TRAIN_FILES + ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def md5_of(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


@pytest.fixture
def tiny_files(tiny_mnist_dir) -> dict[str, bytes]:
    """The four tiny .gz files, by name."""
    return {name: (tiny_mnist_dir / name).read_bytes() for name in ALL_FILES}


@pytest.fixture
def tiny_md5s(tiny_files) -> dict[str, str]:
    """MD5s of the tiny files, to pass as checksums= in place of the official ones."""
    return {name: md5_of(content) for name, content in tiny_files.items()}


def load_tiny_train(cache_dir: Path, mirrors: list[str], checksums: dict[str, str]):
    """load_mnist_family for MNIST's train split, with the tiny files' MD5s instead of the official ones."""
    return load_mnist_family("mnist", "train", cache_dir=cache_dir, mirrors=mirrors, checksums=checksums)


# --------------------------------------------------------------------------------------------------
# DATASETS table
# --------------------------------------------------------------------------------------------------


def test_datasets_table_lists_official_md5s_and_several_mirrors():
    assert DATASETS["mnist"]["md5"]["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert DATASETS["mnist"]["md5"]["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    fashion_md5 = DATASETS["fashion_mnist"]["md5"]
    assert fashion_md5["train-images-idx3-ubyte.gz"] == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    assert fashion_md5["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"
    for name, spec in DATASETS.items():
        assert sorted(spec["md5"]) == sorted(ALL_FILES), name
        assert all(re.fullmatch(r"[0-9a-f]{32}", md5) for md5 in spec["md5"].values()), name
        assert len(spec["mirrors"]) >= 2, name
        assert all(url.startswith(("http://", "https://")) for url in spec["mirrors"]), name
    assert len({md5 for spec in DATASETS.values() for md5 in spec["md5"].values()}) == 8


# --------------------------------------------------------------------------------------------------
# Download and cache
# --------------------------------------------------------------------------------------------------


def test_download_skips_failing_and_corrupt_mirrors(http_server, tiny_files, tiny_md5s, tmp_path, capsys):
    refused = http_server.refused_url()
    not_found = http_server.failing_url(404)
    half_files = {name: content[: len(content) // 2] for name, content in tiny_files.items()}
    corrupt = http_server.add_mirror("corrupt", half_files)
    good = http_server.add_mirror("good", tiny_files)

    images, labels = load_tiny_train(tmp_path, [refused, not_found, corrupt, good], tiny_md5s)

    expected_images, expected_labels = tiny_digits(TINY_TRAIN_EXAMPLES)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    assert images.dtype == np.uint8 and labels.dtype == np.uint8
    cache_folder = tmp_path / "mnist"
    assert sorted(p.name for p in cache_folder.iterdir()) == sorted(TRAIN_FILES)  # no .part left behind
    for name in TRAIN_FILES:
        assert md5_of((cache_folder / name).read_bytes()) == tiny_md5s[name]
    # Mirrors were tried in order for each file: 404, corrupt, good (the refused one never reaches us).
    assert http_server.requests == [
        f"/status/404/{TRAIN_FILES[0]}", f"/corrupt/{TRAIN_FILES[0]}", f"/good/{TRAIN_FILES[0]}",
        f"/status/404/{TRAIN_FILES[1]}", f"/corrupt/{TRAIN_FILES[1]}", f"/good/{TRAIN_FILES[1]}",
    ]  # fmt: skip
    report = capsys.readouterr().err
    assert refused in report and "404" in report and "MD5" in report


def test_second_call_uses_cache_without_any_request(http_server, tiny_files, tiny_md5s, tmp_path):
    good = http_server.add_mirror("good", tiny_files)
    first = load_tiny_train(tmp_path, [good], tiny_md5s)
    assert len(http_server.requests) == 2
    http_server.clear_requests()

    second = load_tiny_train(tmp_path, [good], tiny_md5s)

    assert http_server.requests == []
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_truncated_cached_file_is_fetched_again(http_server, tiny_files, tiny_md5s, tmp_path, capsys):
    good = http_server.add_mirror("good", tiny_files)
    cached_images = tmp_path / "mnist" / TRAIN_FILES[0]
    cached_images.parent.mkdir()
    full_copy = tiny_files[TRAIN_FILES[0]]
    cached_images.write_bytes(full_copy[: len(full_copy) // 2])  # as if a download had been cut short

    images, _ = load_tiny_train(tmp_path, [good], tiny_md5s)

    assert f"/good/{TRAIN_FILES[0]}" in http_server.requests
    assert cached_images.read_bytes() == tiny_files[TRAIN_FILES[0]]
    np.testing.assert_array_equal(images, tiny_digits(TINY_TRAIN_EXAMPLES)[0])
    assert "deleting it" in capsys.readouterr().err


def test_truncated_cached_file_is_never_used_even_offline(http_server, tiny_files, tiny_md5s, tmp_path):
    cache_folder = tmp_path / "mnist"
    cache_folder.mkdir()
    # A structurally valid but different file under the right name: only the MD5 can tell it is wrong.
    write_idx_gz(cache_folder / TRAIN_FILES[0], tiny_digits(TINY_TRAIN_EXAMPLES)[0][:, ::-1])
    (cache_folder / TRAIN_FILES[1]).write_bytes(tiny_files[TRAIN_FILES[1]])

    with pytest.raises(DatasetUnavailableError) as caught:
        load_tiny_train(tmp_path, [http_server.failing_url(500)], tiny_md5s)

    assert not (cache_folder / TRAIN_FILES[0]).exists()
    assert TRAIN_FILES[0] in str(caught.value) and TRAIN_FILES[1] not in str(caught.value).split("Mirrors")[0]


def test_offline_error_names_missing_files_mirrors_and_folder(http_server, tiny_md5s, tmp_path):
    mirrors = [http_server.refused_url(), http_server.failing_url(500)]

    with pytest.raises(DatasetUnavailableError) as caught:
        load_tiny_train(tmp_path, mirrors, tiny_md5s)

    message = str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    for name in TRAIN_FILES:
        assert name in message
    for url in mirrors:
        assert url in message
    assert "500" in message
    assert str(tmp_path / "mnist") in message
    assert "data_dir" in message and "GAN_DATA_DIR" in message
    assert list((tmp_path / "mnist").iterdir()) == []


def test_mirror_serving_only_corrupt_files_leaves_nothing_under_final_name(
    http_server, tiny_files, tiny_md5s, tmp_path
):
    corrupt = http_server.add_mirror("corrupt", {name: b"<html>not found</html>" for name in tiny_files})

    with pytest.raises(DatasetUnavailableError, match="MD5"):
        load_tiny_train(tmp_path, [corrupt], tiny_md5s)

    assert list((tmp_path / "mnist").iterdir()) == []


def test_official_checksums_are_used_by_default(http_server, tiny_files, tmp_path):
    good = http_server.add_mirror("good", tiny_files)  # tiny files cannot have the official MD5s

    with pytest.raises(DatasetUnavailableError, match=DATASETS["mnist"]["md5"][TRAIN_FILES[0]]):
        load_mnist_family("mnist", "train", cache_dir=tmp_path, mirrors=[good])

    assert list((tmp_path / "mnist").iterdir()) == []


# --------------------------------------------------------------------------------------------------
# data_dir
# --------------------------------------------------------------------------------------------------


def test_data_dir_gz_files_are_used_instead_of_downloading(http_server, tiny_mnist_dir, tmp_path):
    mirrors = [http_server.failing_url(404)]

    train = load_mnist_family("mnist", "train", cache_dir=tmp_path, data_dir=tiny_mnist_dir, mirrors=mirrors)
    test = load_mnist_family(
        "fashion_mnist", "test", cache_dir=tmp_path, data_dir=tiny_mnist_dir, mirrors=mirrors
    )

    assert http_server.requests == []
    assert not (tmp_path / "mnist").exists()
    assert train[0].shape == (TINY_TRAIN_EXAMPLES, 28, 28) and train[1].shape == (TINY_TRAIN_EXAMPLES,)
    np.testing.assert_array_equal(test[0], tiny_digits(TINY_TEST_EXAMPLES)[0])
    np.testing.assert_array_equal(test[1], tiny_digits(TINY_TEST_EXAMPLES)[1])


def test_data_dir_uncompressed_files_are_accepted(http_server, tiny_mnist_dir, tmp_path):
    data_dir = tmp_path / "raw"
    data_dir.mkdir()
    for name in TRAIN_FILES:
        uncompressed = gzip.decompress((tiny_mnist_dir / name).read_bytes())
        (data_dir / name.removesuffix(".gz")).write_bytes(uncompressed)

    mirrors = [http_server.failing_url(404)]
    images, labels = load_mnist_family(
        "mnist", "train", cache_dir=tmp_path / "cache", data_dir=data_dir, mirrors=mirrors
    )

    assert http_server.requests == []
    expected_images, expected_labels = tiny_digits(TINY_TRAIN_EXAMPLES)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


def test_data_dir_missing_file_error_names_file_and_folder(tiny_mnist_dir, tmp_path):
    data_dir = tmp_path / "partial"
    data_dir.mkdir()
    (data_dir / TRAIN_FILES[0]).write_bytes((tiny_mnist_dir / TRAIN_FILES[0]).read_bytes())

    with pytest.raises(FileNotFoundError) as caught:
        load_mnist_family("mnist", "train", cache_dir=tmp_path / "cache", data_dir=data_dir)

    message = str(caught.value)
    assert TRAIN_FILES[1] in message and str(data_dir) in message
    assert TRAIN_FILES[0] not in message


def test_data_dir_that_does_not_exist_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_mnist_family("mnist", "train", cache_dir=tmp_path, data_dir=tmp_path / "nowhere")


def _corrupt_bad_magic(folder: Path, tiny: Path) -> None:
    labels_content = (tiny / TRAIN_FILES[1]).read_bytes()
    (folder / TRAIN_FILES[0]).write_bytes(labels_content)  # a labels file under the images file's name


def _corrupt_truncated_gzip(folder: Path, tiny: Path) -> None:
    content = (tiny / TRAIN_FILES[0]).read_bytes()
    (folder / TRAIN_FILES[0]).write_bytes(content[: len(content) // 2])


def _corrupt_truncated_uncompressed(folder: Path, tiny: Path) -> None:
    (folder / TRAIN_FILES[0]).unlink()
    raw = gzip.decompress((tiny / TRAIN_FILES[0]).read_bytes())
    (folder / TRAIN_FILES[0].removesuffix(".gz")).write_bytes(raw[:-28])


def _corrupt_trailing_bytes(folder: Path, tiny: Path) -> None:
    raw = gzip.decompress((tiny / TRAIN_FILES[1]).read_bytes())
    (folder / TRAIN_FILES[1]).write_bytes(gzip.compress(raw + b"junk", mtime=0))


def _corrupt_count_mismatch(folder: Path, tiny: Path) -> None:
    write_idx_gz(folder / TRAIN_FILES[1], tiny_digits(10)[1])


def _corrupt_wrong_image_size(folder: Path, tiny: Path) -> None:
    write_idx_gz(folder / TRAIN_FILES[0], np.zeros((TINY_TRAIN_EXAMPLES, 32, 32), np.uint8))


@pytest.mark.parametrize(
    "corrupt, expected_message",
    [
        (_corrupt_bad_magic, "magic number 2049, expected 2051"),
        (_corrupt_truncated_gzip, "not a readable gzip file"),
        (_corrupt_truncated_uncompressed, "truncated or corrupt"),
        (_corrupt_trailing_bytes, r"268 bytes of IDX data but its header \(256,\) needs 264"),
        (_corrupt_count_mismatch, "256 images but .* 10 labels"),
        (_corrupt_wrong_image_size, "32x32 pixels"),
    ],
    ids=["bad-magic", "truncated-gzip", "truncated-uncompressed", "trailing-bytes", "count-mismatch", "wrong-image-size"],
)
def test_structurally_corrupt_data_dir_file_is_rejected(corrupt, expected_message, tiny_mnist_dir, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in TRAIN_FILES:
        (data_dir / name).write_bytes((tiny_mnist_dir / name).read_bytes())
    corrupt(data_dir, tiny_mnist_dir)

    with pytest.raises(InvalidIdxFileError, match=expected_message):
        load_mnist_family("mnist", "train", cache_dir=tmp_path / "cache", data_dir=data_dir)


# --------------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, split, bad_value",
    [
        ("cifar10", "train", "cifar10"),
        ("mnist", "validation", "validation"),
        ("fashion_mnist", "Train", "Train"),
    ],
)
def test_unknown_name_or_split_raises_before_any_request(name, split, bad_value, http_server, tmp_path):
    good = http_server.add_mirror("good", {"train-images-idx3-ubyte.gz": b"anything"})

    with pytest.raises(ValueError, match=f"'{bad_value}'.*choose one of") as caught:
        load_mnist_family(name, split, cache_dir=tmp_path / "cache", mirrors=[good])

    assert http_server.requests == []
    assert not (tmp_path / "cache").exists()
    assert ("mnist" in str(caught.value)) if bad_value == "cifar10" else ("test" in str(caught.value))


def test_limit_keeps_the_first_examples(tiny_mnist_dir, tmp_path):
    images, labels = load_mnist_family(
        "mnist", "train", cache_dir=tmp_path, data_dir=tiny_mnist_dir, limit=25
    )

    expected_images, expected_labels = tiny_digits(TINY_TRAIN_EXAMPLES)
    np.testing.assert_array_equal(images, expected_images[:25])
    np.testing.assert_array_equal(labels, expected_labels[:25])


@pytest.mark.parametrize("limit", [0, -5, 2.5])
def test_invalid_limit_raises(limit, tiny_mnist_dir, tmp_path):
    with pytest.raises(ValueError, match="limit"):
        load_mnist_family("mnist", "train", cache_dir=tmp_path, data_dir=tiny_mnist_dir, limit=limit)


# --------------------------------------------------------------------------------------------------
# make_dataset and batches_per_epoch
# --------------------------------------------------------------------------------------------------


def indexed_examples(num_examples: int) -> tuple[np.ndarray, np.ndarray]:
    """Image i is filled with the value i and labelled i, so every batch reveals which examples it holds."""
    images = np.repeat(np.arange(num_examples, dtype=np.uint8), 28 * 28).reshape(num_examples, 28, 28)
    return images, np.arange(num_examples, dtype=np.uint8)


def epoch_orders(dataset, num_epochs: int, steps: int) -> list[np.ndarray]:
    """Example indices (labels) of the next num_epochs epochs, one flat array per epoch."""
    labels = [batch_labels.numpy() for _, batch_labels in dataset.take(num_epochs * steps)]
    return [np.concatenate(labels[e * steps : (e + 1) * steps]) for e in range(num_epochs)]


def test_batches_have_shapes_dtypes_and_range_for_gans():
    images, labels = indexed_examples(64)
    images[0], images[1] = 0, 255

    batch_images, batch_labels = next(iter(make_dataset(images, labels, batch_size=64, seed=1)))

    assert batch_images.shape == (64, 28, 28, 1) and batch_images.dtype.name == "float32"
    assert batch_labels.shape == (64,) and batch_labels.dtype.name == "int32"
    values = batch_images.numpy()
    assert values.min() == -1.0 and values.max() == 1.0
    # Each image went with its own label: image i holds i / 127.5 - 1 everywhere.
    for image, label in zip(values, batch_labels.numpy()):
        expected = {0: -1.0, 1: 1.0}.get(int(label), int(label) / 127.5 - 1.0)
        np.testing.assert_allclose(image, expected, atol=1e-6)


def test_colour_batches_keep_their_three_channels_in_order():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 8, 8, 3), dtype=np.uint8)
    labels = np.arange(32)
    batch_images, batch_labels = next(iter(make_dataset(images, labels, batch_size=16, seed=2)))
    assert batch_images.shape == (16, 8, 8, 3)
    for image, label in zip(batch_images.numpy(), batch_labels.numpy()):
        np.testing.assert_allclose(image, images[label] / 127.5 - 1.0, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(N, height, width, 3\), got uint8 \(32, 8, 8, 4\)"):
        make_dataset(np.zeros((32, 8, 8, 4), np.uint8), labels, batch_size=16, seed=2)


def test_each_epoch_is_a_permutation_of_all_examples():
    images, labels = indexed_examples(96)
    orders = epoch_orders(make_dataset(images, labels, batch_size=16, seed=3), num_epochs=3, steps=6)

    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(96))


def test_batches_never_straddle_epochs_when_the_last_batch_is_partial():
    images, labels = indexed_examples(70)
    steps = batches_per_epoch(70, 16)
    assert steps == 4

    for order in epoch_orders(make_dataset(images, labels, batch_size=16, seed=3), num_epochs=3, steps=steps):
        assert len(set(order.tolist())) == 64  # 64 distinct examples per epoch, 6 dropped


def test_resumed_dataset_replays_the_same_epoch_order():
    images, labels = indexed_examples(96)
    steps = batches_per_epoch(96, 16)

    from_start = epoch_orders(make_dataset(images, labels, batch_size=16, seed=7, start_epoch=0), 4, steps)
    resumed = epoch_orders(make_dataset(images, labels, batch_size=16, seed=7, start_epoch=2), 2, steps)

    np.testing.assert_array_equal(resumed[0], from_start[2])
    np.testing.assert_array_equal(resumed[1], from_start[3])


def test_different_epochs_and_seeds_give_different_orders():
    images, labels = indexed_examples(96)
    seed_7 = epoch_orders(make_dataset(images, labels, batch_size=16, seed=7), 3, 6)
    seed_8 = epoch_orders(make_dataset(images, labels, batch_size=16, seed=8), 1, 6)

    assert not np.array_equal(seed_7[0], seed_7[1])
    assert not np.array_equal(seed_7[1], seed_7[2])
    assert not np.array_equal(seed_7[0], seed_8[0])
    assert not np.array_equal(seed_7[0], np.arange(96))  # actually shuffled


def test_batch_size_larger_than_dataset_raises():
    images, labels = indexed_examples(10)

    with pytest.raises(ValueError, match="batch_size=16 .* 10 examples"):
        batches_per_epoch(10, 16)
    with pytest.raises(ValueError, match="batch_size=16 .* 10 examples"):
        make_dataset(images, labels, batch_size=16, seed=0)
    assert batches_per_epoch(10, 10) == 1
    assert batches_per_epoch(100, 32) == 3


def test_keras_fit_runs_epochs_from_the_infinite_dataset():
    import keras

    images, labels = indexed_examples(64)
    labels = labels % 10
    steps = batches_per_epoch(64, 16)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    history = model.fit(
        make_dataset(images, labels, batch_size=16, seed=0, start_epoch=1),
        steps_per_epoch=steps, initial_epoch=1, epochs=3, shuffle=False, verbose=0,
    )  # fmt: skip

    assert len(history.history["loss"]) == 2
