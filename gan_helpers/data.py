"""MNIST and Fashion-MNIST from the original IDX ``.gz`` files, and the tf.data pipeline that feeds them.

Where the files come from, in this order:

1. ``data_dir`` if you pass one: a folder you filled yourself, holding the four files either gzipped
   (``train-images-idx3-ubyte.gz``) or uncompressed (``train-images-idx3-ubyte``). Nothing is downloaded.
   These files are not compared with the official MD5s (re-compressed copies, such as Debian's
   Fashion-MNIST package, have other checksums), but their structure is checked.
2. The cache, ``cache_dir/<name>/``: a cached file is used only if its MD5 is the official one; a partial
   or corrupt file is deleted and fetched again.
3. The mirrors in ``DATASETS[name]["mirrors"]``, tried in order. Each file is downloaded to
   ``<file>.part``, its MD5 verified, and only then renamed into the cache, so an interrupted download
   never leaves a file under its final name.

``make_dataset`` turns the arrays into an infinite stream of batches whose epoch ``e`` is always the same
permutation for the same seed, which is what makes a resumed training run see exactly the batches an
uninterrupted run would have seen.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

SPLITS = ("train", "test")

DOWNLOAD_TIMEOUT_SECONDS = 30
_DOWNLOAD_CHUNK_BYTES = 1 << 20
_USER_AGENT = "gan-notebooks/0.1 (gan_helpers.data)"

# IDX magic numbers: 0x00 0x00, type 0x08 (unsigned byte), number of dimensions.
IDX_MAGIC_IMAGES = 2051  # 0x00000803: uint8, 3 dimensions (count, rows, columns)
IDX_MAGIC_LABELS = 2049  # 0x00000801: uint8, 1 dimension (count)
IMAGE_SIDE = 28

# Both datasets use MNIST's file names: (images, labels) per split.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

DATASETS: dict[str, dict] = {
    "mnist": {
        "files": IDX_FILES,
        "md5": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        "mirrors": [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
    },
    "fashion_mnist": {
        "files": IDX_FILES,
        "md5": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        "mirrors": [
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ],
    },
}


class DatasetUnavailableError(RuntimeError):
    """No source could provide the dataset files (not in the cache, every mirror failed)."""


class InvalidIdxFileError(ValueError):
    """A file is not a readable IDX file of the expected kind (bad gzip, magic number or size)."""


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def load_mnist_family(
    name: str,
    split: str = "train",
    *,
    cache_dir: str | Path,
    data_dir: str | Path | None = None,
    mirrors: list[str] | None = None,
    limit: int | None = None,
    checksums: dict[str, str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of MNIST or Fashion-MNIST as ``(images, labels)``.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``.
        split: ``"train"`` (60,000 examples) or ``"test"`` (10,000).
        cache_dir: folder for downloaded files; they go to ``cache_dir/<name>/``.
        data_dir: a folder already holding the files (``.gz`` or uncompressed). When given, it is used
            instead of the cache and the mirrors.
        mirrors: base URLs to download from, in order; default ``DATASETS[name]["mirrors"]``.
        limit: keep only the first ``limit`` examples (all of them if ``None``).
        checksums: expected MD5 per ``.gz`` file name, overriding the official ones (for tests and
            private mirrors); default ``DATASETS[name]["md5"]``.

    Returns:
        images as uint8 of shape (N, 28, 28) and labels as uint8 of shape (N,).
    """
    images_file, labels_file = _split_file_names(name, split)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit={limit!r} is not a positive integer; pass e.g. limit=1000, or None for all.")

    if data_dir is not None:
        images_path, labels_path = _find_in_data_dir(Path(data_dir).expanduser(), [images_file, labels_file])
    else:
        spec = DATASETS[name]
        images_path, labels_path = _fetch_into_cache(
            name=name,
            split=split,
            file_names=[images_file, labels_file],
            cache_folder=Path(cache_dir).expanduser() / name,
            mirrors=list(spec["mirrors"] if mirrors is None else mirrors),
            checksums={**spec["md5"], **(checksums or {})},
        )

    images = read_idx(images_path, IDX_MAGIC_IMAGES)
    labels = read_idx(labels_path, IDX_MAGIC_LABELS)
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise InvalidIdxFileError(
            f"{images_path} holds images of {images.shape[1]}x{images.shape[2]} pixels, expected "
            f"{IMAGE_SIDE}x{IMAGE_SIDE}; this is not an MNIST-family file. Replace it with the original file."
        )
    if len(images) != len(labels):
        raise InvalidIdxFileError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels; "
            "the two files do not belong together. Replace them with a matching pair of original files."
        )
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images, labels


def read_idx(path: str | Path, expected_magic: int) -> np.ndarray:
    """Read a uint8 IDX file (gzipped or not) into an array, checking its header against its size.

    Raises InvalidIdxFileError if the gzip stream is broken, the magic number is not ``expected_magic``,
    or the dimensions in the header do not match the number of bytes.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip signature; IDX files start with two zero bytes
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise InvalidIdxFileError(
                f"{path} is not a readable gzip file ({error}); it is probably truncated or corrupt. "
                "Delete it and download it again."
            ) from error

    if len(raw) < 4:
        raise InvalidIdxFileError(f"{path} is only {len(raw)} bytes long, too short for an IDX header.")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        kind = {IDX_MAGIC_IMAGES: "images", IDX_MAGIC_LABELS: "labels"}.get(expected_magic, "IDX data")
        raise InvalidIdxFileError(
            f"{path} has IDX magic number {magic}, expected {expected_magic} for {kind}; the file is "
            "corrupt or not the file its name says. Replace it with the original file."
        )
    num_dims = magic & 0xFF
    header_bytes = 4 + 4 * num_dims
    if len(raw) < header_bytes:
        raise InvalidIdxFileError(f"{path} ends inside its IDX header ({len(raw)} bytes); it is truncated.")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(num_dims))
    expected_bytes = header_bytes + int(np.prod(dims))
    if len(raw) != expected_bytes:
        raise InvalidIdxFileError(
            f"{path} has {len(raw)} bytes of IDX data but its header {dims} needs {expected_bytes}; "
            "it is truncated or corrupt. Replace it with the original file."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_bytes).reshape(dims).copy()


def _split_file_names(name: str, split: str) -> tuple[str, str]:
    """Return (images file, labels file) of a split, or raise ValueError for an unknown name/split."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset name {name!r}; choose one of {sorted(DATASETS)}.")
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; choose one of {list(SPLITS)}.")
    images_file, labels_file = DATASETS[name]["files"][split]
    return images_file, labels_file


def _find_in_data_dir(data_dir: Path, file_names: list[str]) -> list[Path]:
    """Locate each ``name.gz`` (or its uncompressed ``name``) in a user-provided folder."""
    if not data_dir.is_dir():
        raise FileNotFoundError(
            f"data_dir {data_dir} is not a folder. Pass the folder that holds the IDX files, or "
            "data_dir=None to use the cache and download."
        )
    found, missing = [], []
    for file_name in file_names:
        uncompressed_name = file_name.removesuffix(".gz")
        candidates = [data_dir / file_name, data_dir / uncompressed_name]
        existing = [path for path in candidates if path.is_file()]
        if existing:
            found.append(existing[0])
        else:
            missing.append(f"{file_name} (or {uncompressed_name})")
    if missing:
        raise FileNotFoundError(
            f"data_dir {data_dir} lacks {', '.join(missing)}. Put the files there, or pass "
            "data_dir=None to use the cache and download."
        )
    return found


# --------------------------------------------------------------------------------------------------
# Cache and download
# --------------------------------------------------------------------------------------------------


def _fetch_into_cache(
    *,
    name: str,
    split: str,
    file_names: list[str],
    cache_folder: Path,
    mirrors: list[str],
    checksums: dict[str, str],
) -> list[Path]:
    """Return cached paths of ``file_names``, downloading any that are missing or fail their MD5."""
    cache_folder.mkdir(parents=True, exist_ok=True)
    paths = [cache_folder / file_name for file_name in file_names]
    mirror_reports: list[str] = []

    for path in paths:
        expected_md5 = checksums[path.name]
        if path.exists():
            actual_md5 = file_md5(path)
            if actual_md5 == expected_md5:
                continue
            print(
                f"Warning: cached {path} has MD5 {actual_md5}, expected {expected_md5} "
                "(partial or corrupt); deleting it and downloading it again.",
                file=sys.stderr,
            )
            path.unlink()
        if not _download_from_mirrors(path, expected_md5, mirrors, mirror_reports):
            break  # every mirror failed: further files would most likely fail the same way

    missing = [path.name for path in paths if not path.exists()]
    if missing:
        tried = "\n".join(f"  {report}" for report in mirror_reports) or "  (no mirrors given)"
        raise DatasetUnavailableError(
            f"Could not get {name} {split!r} files {', '.join(missing)}.\n"
            f"Mirrors tried:\n{tried}\n"
            f"To fix: download the files by hand and put them in the cache folder {cache_folder} "
            "(they must have the official MD5s), or put them (.gz or uncompressed) in any folder and pass "
            "it as data_dir=... (in the notebooks: set the GAN_DATA_DIR environment variable)."
        )
    return paths


def _download_from_mirrors(path: Path, expected_md5: str, mirrors: list[str], reports: list[str]) -> bool:
    """Try each mirror in turn for ``path.name``; return True once ``path`` holds a verified copy.

    Each failing mirror is reported in one line (printed, and appended to ``reports``).
    """
    for base_url in mirrors:
        url = base_url.rstrip("/") + "/" + path.name
        try:
            actual_md5 = download_file(url, path, expected_md5)
        except (OSError, http.client.HTTPException, ValueError) as error:
            problem = f"{type(error).__name__}: {error}"
        else:
            if actual_md5 == expected_md5:
                print(f"Downloaded {path.name} from {base_url} (MD5 verified) into {path.parent}")
                return True
            problem = f"served a file with MD5 {actual_md5}, expected {expected_md5}"
        report = f"{url}: {problem}"
        reports.append(report)
        print(f"Mirror failed, {report}", file=sys.stderr)
    return False


def download_file(url: str, path: Path, expected_md5: str | None = None) -> str:
    """Download ``url`` to ``path`` via ``<path>.part``; return the MD5 of what was downloaded.

    The file is moved to ``path`` only if ``expected_md5`` is None or matches, so ``path`` never holds a
    partial or unverified download. Network errors propagate (urllib.error.URLError, TimeoutError, ...).
    """
    part_path = path.with_name(path.name + ".part")
    md5 = hashlib.md5()
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with open(part_path, "wb") as out, tqdm(
                total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=path.name, leave=False
            ) as progress:
                while chunk := response.read(_DOWNLOAD_CHUNK_BYTES):
                    out.write(chunk)
                    md5.update(chunk)
                    progress.update(len(chunk))
        actual_md5 = md5.hexdigest()
        if expected_md5 is None or actual_md5 == expected_md5:
            os.replace(part_path, path)
        return actual_md5
    finally:
        part_path.unlink(missing_ok=True)


def file_md5(path: str | Path) -> str:
    """Hex MD5 of a file, read in chunks."""
    md5 = hashlib.md5()
    with open(path, "rb") as file:
        while chunk := file.read(_DOWNLOAD_CHUNK_BYTES):
            md5.update(chunk)
    return md5.hexdigest()


# --------------------------------------------------------------------------------------------------
# tf.data pipeline
# --------------------------------------------------------------------------------------------------


def require_labels(labels: np.ndarray | None, num_images: int, parameter: str, value: object) -> int:
    """Check that every one of ``num_images`` training images has a class label (a whole number
    >= 0) and return the number of classes (1 + the largest label).

    A conditional GAN needs them: ``parameter=value`` (e.g. ``conditioning='cgan'``) is named in the
    ValueError raised for missing, misshapen or non-integer labels, with what to do instead.
    """
    fix = ("Use a labelled dataset (dataset 'mnist' or 'fashion_mnist'), or an unconditional notebook "
           "(dcgan_mnist, wgan_gp_mnist) for unlabelled images.")
    if labels is None:
        raise ValueError(f"Parameter {parameter}={value!r} needs a class label for every training image, "
                         f"but the data has no labels. {fix}")
    labels = np.asarray(labels)
    if labels.shape != (num_images,) or not np.issubdtype(labels.dtype, np.integer) or (
            num_images and labels.min() < 0):
        raise ValueError(f"Parameter {parameter}={value!r} needs one class label (a whole number >= 0) per training "
                         f"image: {num_images} images but labels of shape {labels.shape} and dtype {labels.dtype}. {fix}")
    if num_images == 0:
        raise ValueError(f"Parameter {parameter}={value!r} needs labelled training images, but there are none.")
    return int(labels.max()) + 1


def batches_per_epoch(num_examples: int, batch_size: int) -> int:
    """Number of full batches in one epoch (the last partial batch is dropped)."""
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} must be at least 1.")
    if batch_size > num_examples:
        raise ValueError(
            f"batch_size={batch_size} is larger than the {num_examples} examples, so an epoch would have "
            f"no full batch; use batch_size <= {num_examples} or more examples (a larger limit)."
        )
    return num_examples // batch_size


def make_dataset(
    images: np.ndarray, labels: np.ndarray | None, batch_size: int, seed: int, start_epoch: int = 0, start_step: int = 0
) -> tf.data.Dataset:
    """Infinite stream of ``(images, labels)`` batches, epoch after epoch from ``start_epoch``
    (from its batch ``start_step``: a run resumed inside an epoch skips the batches it trained on).

    Epoch ``e`` is a permutation of all examples drawn from ``(seed, e)`` alone, cut into
    ``batches_per_epoch(len(images), batch_size)`` full batches (no batch spans two epochs). So the batches
    of epoch ``e`` are identical whether training started at epoch 0 or resumed at ``e``. Use it with
    ``model.fit(dataset, steps_per_epoch=batches_per_epoch(n, batch_size), initial_epoch=start_epoch)``.

    Args:
        images: uint8 array (N, H, W), e.g. from ``load_mnist_family``, or colour (N, H, W, 3), e.g. from
            ``load_cifar10``.
        labels: integer array (N,), or None for unlabelled images (the batches then carry zeros).
        batch_size: examples per batch.
        seed: shuffling seed.
        start_epoch: index of the first epoch the dataset yields.
        start_step: batches of that first epoch to skip.

    Yields:
        images float32 (batch_size, H, W, 1) (colour: (batch_size, H, W, 3)) scaled to [-1, 1], labels int32
        (batch_size,).
    """
    images = np.asarray(images)
    labels = np.zeros(len(images), dtype=np.int32) if labels is None else np.asarray(labels)
    if images.dtype != np.uint8 or not (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 3)):
        raise ValueError(
            f"images must be a uint8 array of shape (N, height, width) or (N, height, width, 3), got {images.dtype} "
            f"{images.shape}; pass the images as returned by load_training_data (or load_mnist_family, load_cifar10)."
        )
    grey = images.ndim == 3
    if labels.shape != (len(images),):
        raise ValueError(
            f"labels must have shape ({len(images)},) to match the images, got {labels.shape}."
        )
    num_examples = len(images)
    steps = batches_per_epoch(num_examples, batch_size)
    if start_epoch < 0 or not 0 <= start_step < steps:
        raise ValueError(f"start_epoch={start_epoch} must be 0 or more and start_step={start_step} in [0, {steps}).")

    all_images = tf.constant(images)
    all_labels = tf.constant(labels.astype(np.int32))
    seed_tensor = tf.constant(seed, dtype=tf.int64)

    def batch_indices_of_epoch(epoch: tf.Tensor) -> tf.data.Dataset:
        order = tf.random.experimental.stateless_shuffle(
            tf.range(num_examples), seed=tf.stack([seed_tensor, epoch]), alg="philox"
        )
        batches = tf.reshape(order[: steps * batch_size], [steps, batch_size])  # drops the partial batch
        return tf.data.Dataset.from_tensor_slices(batches)

    def gather_batch(indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch_images = tf.cast(tf.gather(all_images, indices), tf.float32) / 127.5 - 1.0
        return (batch_images[..., tf.newaxis] if grey else batch_images), tf.gather(all_labels, indices)

    return (
        tf.data.Dataset.counter(start=start_epoch, dtype=tf.int64)
        .flat_map(batch_indices_of_epoch)
        .skip(start_step)  # before the gather: skipping costs nothing
        .map(gather_batch, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
