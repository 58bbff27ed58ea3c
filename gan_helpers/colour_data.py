"""Colour image datasets for the DCGAN-family notebooks: CIFAR-10, CelebA and any folder of images.

CIFAR-10 (``load_cifar10``), 60,000 RGB images of 32×32 in 10 classes, comes from, in this order:

1. ``data_dir``: a folder holding ``cifar-10-python.tar.gz`` (or its unpacked ``cifar-10-batches-py/``),
   or the images as files in ``train/<class>/*.png|jpg`` and ``test/<class>/…`` (the layout of many
   copies, and of ``../shared/data/cifar10`` unpacked). Used where it is; nothing is downloaded.
2. The cache, ``cache_dir/cifar10/cifar-10-python.tar.gz``, if its MD5 is the official one.
3. The sources, tried in order: ``source`` (a URL or a path of the archive, e.g. on Drive), the
   official archive (``CIFAR10_URL``), then TFDS ``cifar10`` when ``tensorflow_datasets`` is installed.
   A downloaded archive is kept only if its MD5 is the official one.

The archive is read where it is (no extraction). Its batches are Python pickles; they are read with an
unpickler that builds only the dicts, lists, bytes and numpy arrays the format holds, so a crafted file
cannot run code.

Any folder (``load_image_folder``): every ``.jpg``/``.jpeg``/``.png`` below it, at any depth. When the
folder's sub-folders hold the images (``<folder>/<class>/…``), each sub-folder is a class and the labels
follow the sorted class names; images directly in the folder then make it unlabelled. Images are
centre-cropped to a square and resized; grey, CMYK, palette and alpha images become RGB; files that
cannot be decoded are skipped with one warning (`image_data.load_images`).
"""

from __future__ import annotations

import http.client
import io
import pickle
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from .data import DatasetUnavailableError, download_file, file_md5
from .image_data import COMPLETE_MARKER, IMAGE_SUFFIXES, decode_images, safe_extract

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"  # published with the dataset; torchvision checks the same
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_SIDE = 32
CELEBA_URL = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"  # links to the Drive folder with the zip


class InvalidArchiveError(ValueError):
    """An archive or batch file is not CIFAR-10's python format (missing batch, wrong sizes, foreign pickle)."""


# --------------------------------------------------------------------------------------------------
# CIFAR-10
# --------------------------------------------------------------------------------------------------


def load_cifar10(split: str = "train", *, cache_dir: str | Path, data_dir: str | Path | None = None,
                 source: str | Path | None = None, official_url: str | None = CIFAR10_URL,
                 use_tfds: bool = True, md5: str = CIFAR10_MD5) -> tuple[np.ndarray, np.ndarray]:
    """One split of CIFAR-10 as ``(images, labels)``: uint8 (N, 32, 32, 3) and uint8 (N,) in
    ``CIFAR10_CLASSES`` order (train 50,000, test 10,000).

    Raises:
        DatasetUnavailableError: no source worked; the message lists each one and why, and the fix.
        InvalidArchiveError: a local archive or folder is not CIFAR-10.
    """
    if split not in CIFAR10_BATCHES:
        raise ValueError(f"split={split!r}: choose 'train' or 'test'.")
    if data_dir is not None:
        return _cifar10_from_local_folder(Path(data_dir).expanduser(), split)

    archive = Path(cache_dir).expanduser() / "cifar10" / CIFAR10_ARCHIVE
    if archive.exists() and file_md5(archive) == md5:
        return read_cifar10_archive(archive, split)
    if archive.exists():
        print(f"{archive} is not the official archive (partial or corrupt); fetching it again.", file=sys.stderr)
        archive.unlink()
    archive.parent.mkdir(parents=True, exist_ok=True)

    attempts = []
    if source:
        attempts.append((str(source), lambda: _archive_from(str(source), archive, md5)))
    if official_url:
        attempts.append((official_url, lambda: _archive_from(official_url, archive, md5)))
    if use_tfds:
        attempts.append(("TFDS cifar10", lambda: _from_tfds(split)))
    reports = []
    for label, attempt in attempts:
        try:
            result = attempt()
        except (OSError, http.client.HTTPException, ValueError, ImportError) as error:
            reports.append(f"{label}: {type(error).__name__}: {error}")
            print(f"Source failed, {reports[-1]}", file=sys.stderr)
            continue
        print(f"CIFAR-10 {split} is ready (from {label})")
        return result if result is not None else read_cifar10_archive(archive, split)
    tried = "\n".join(f"  {report}" for report in reports) or "  (no sources given)"
    raise DatasetUnavailableError(
        f"Could not get CIFAR-10.\nSources tried:\n{tried}\nTo fix: download {CIFAR10_ARCHIVE} by hand "
        f"(MD5 {md5}) and pass its path or URL as source=... (the notebook's data_source parameter), or put it, "
        f"or the images as train/<class>/*.png and test/<class>/*.png, in a folder and pass that as data_dir=... "
        "(the notebook's data_dir parameter, or the GAN_DATA_DIR environment variable).")


def _archive_from(source: str, archive: Path, md5: str) -> None:
    """Put the official archive at ``archive`` from a URL or a file; refuse it unless its MD5 is ``md5``."""
    if source.startswith(("http://", "https://")):
        actual = download_file(source, archive, md5)
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{path} is not a file")
        actual = file_md5(path)
        if actual == md5:
            archive.write_bytes(path.read_bytes())
    if actual != md5:
        raise ValueError(f"served a file with MD5 {actual}, not the official {md5}")


def _from_tfds(split: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise ImportError("tensorflow_datasets is not installed (pip install tensorflow-datasets)") from error
    images, labels = tfds.as_numpy(tfds.load("cifar10", split=split, batch_size=-1, as_supervised=True))
    return images.astype(np.uint8), labels.astype(np.uint8)


def _cifar10_from_local_folder(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    if not folder.is_dir():
        raise FileNotFoundError(f"data_dir {folder} is not a folder. Pass the folder holding {CIFAR10_ARCHIVE}, "
                                f"{CIFAR10_FOLDER}/ or train/<class>/ and test/<class>/, or leave data_dir empty.")
    if (folder / CIFAR10_ARCHIVE).is_file():
        return read_cifar10_archive(folder / CIFAR10_ARCHIVE, split)
    for batches in (folder / CIFAR10_FOLDER, folder):
        if all((batches / name).is_file() for name in CIFAR10_BATCHES[split]):
            return _stack_batches([(batches / name).read_bytes() for name in CIFAR10_BATCHES[split]], batches)
    if (folder / split).is_dir():
        images, labels, classes = load_image_folder(folder / split, CIFAR10_SIDE, classes=CIFAR10_CLASSES)
        return images, labels
    raise FileNotFoundError(f"data_dir {folder} holds neither {CIFAR10_ARCHIVE}, nor {CIFAR10_FOLDER}/, nor a "
                            f"{split}/ folder of class folders ({', '.join(CIFAR10_CLASSES[:3])}, ...).")


def read_cifar10_archive(archive: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one split from the official ``cifar-10-python.tar.gz`` without extracting it."""
    wanted = {f"{CIFAR10_FOLDER}/{name}": name for name in CIFAR10_BATCHES[split]}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    found[wanted[member.name]] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise InvalidArchiveError(f"{archive} is not a readable tar.gz ({error}); delete it and fetch it again.") from error
    missing = [name for name in CIFAR10_BATCHES[split] if name not in found]
    if missing:
        raise InvalidArchiveError(f"{archive} lacks {', '.join(f'{CIFAR10_FOLDER}/{m}' for m in missing)}: it is not "
                                  f"the CIFAR-10 python archive ({CIFAR10_URL}).")
    return _stack_batches([found[name] for name in CIFAR10_BATCHES[split]], archive)


def _stack_batches(raw_batches: list[bytes], where: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for raw in raw_batches:
        batch = _ArraysOnlyUnpickler(io.BytesIO(raw), encoding="bytes").load()
        data, batch_labels = batch.get(b"data"), batch.get(b"labels")
        if data is None or batch_labels is None:
            raise InvalidArchiveError(f"a batch in {where} has no data or labels: it is not CIFAR-10's format.")
        data = np.asarray(data, dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3 * CIFAR10_SIDE ** 2 or len(batch_labels) != len(data):
            raise InvalidArchiveError(f"a batch in {where} holds data of shape {data.shape} and {len(batch_labels)} "
                                      f"labels; CIFAR-10 has rows of {3 * CIFAR10_SIDE ** 2} bytes, one label each.")
        images.append(data.reshape(-1, 3, CIFAR10_SIDE, CIFAR10_SIDE).transpose(0, 2, 3, 1))  # rows are R, G, B planes
        labels.append(np.asarray(batch_labels, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Builds dicts, lists, strings and numpy arrays; refuses every other global (no code from a pickle)."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise InvalidArchiveError(f"refused a pickle that asks for {module}.{name}: CIFAR-10 batches hold "
                                      "only arrays, lists and strings.")
        return super().find_class(module, name)


# --------------------------------------------------------------------------------------------------
# CelebA
# --------------------------------------------------------------------------------------------------


def load_celeba(size: int = 64, *, cache_dir: str | Path, data_dir: str | Path | None = None,
                source: str | Path | None = None, limit: int | None = None) -> np.ndarray:
    """CelebA's aligned-and-cropped faces (202,599 JPEGs of 178×218) as uint8 (N, size, size, 3),
    centre-cropped to a square and resized, in file-name order.

    From ``data_dir`` (a folder holding the JPEGs at any depth, e.g. the unpacked ``img_align_celeba/``),
    else from the cache (``cache_dir/celeba/``, unpacked once), else from ``source``: the
    ``img_align_celeba.zip`` at a URL or a path (e.g. on Drive), checked like every zip (`safe_extract`)
    and unpacked into the cache. CelebA's official host is a Google Drive folder with download quotas,
    so nothing is fetched without ``source``: the DatasetUnavailableError says where to get the zip.
    """
    if data_dir:
        return load_image_folder(data_dir, size, limit)[0]
    unpacked = Path(cache_dir).expanduser() / "celeba"
    if not (unpacked / COMPLETE_MARKER).exists():
        if not source:
            raise DatasetUnavailableError(
                f"CelebA is not in the cache ({unpacked}) and no source was given. Download img_align_celeba.zip "
                f"(\"Align&Cropped Images\" at {CELEBA_URL}, 1.4 GB) once, e.g. into your Drive, and pass its path "
                "or a URL as source=... (the notebook's data_source parameter), or unpack it and pass the folder as "
                "data_dir=...")
        _unpack_zip(str(source), unpacked)
    return load_image_folder(unpacked, size, limit)[0]


def _unpack_zip(source: str, target: Path) -> None:
    """Unpack the zip at URL or path ``source`` into ``target`` (via a temporary folder; marked complete last)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    archive = Path(source).expanduser()
    if source.startswith(("http://", "https://")):
        archive = target.parent / f"{target.name}.zip"
        download_file(source, archive)
    elif not archive.is_file():
        raise FileNotFoundError(f"source {source} is not a file; pass the path or URL of img_align_celeba.zip.")
    downloaded = archive.parent == target.parent and archive.name == f"{target.name}.zip"
    if not zipfile.is_zipfile(archive):
        if downloaded:
            archive.unlink()
        raise InvalidArchiveError(f"{source} is not a zip file (a download quota's web page?); pass "
                                  f"img_align_celeba.zip (from {CELEBA_URL}).")
    temporary = target.with_name(f".{target.name}.extracting")
    shutil.rmtree(temporary, ignore_errors=True)
    safe_extract(archive, temporary)
    (temporary / COMPLETE_MARKER).touch()
    shutil.rmtree(target, ignore_errors=True)
    temporary.rename(target)
    if downloaded:
        archive.unlink()  # the unpacked images are what is kept


# --------------------------------------------------------------------------------------------------
# Any folder
# --------------------------------------------------------------------------------------------------


def load_image_folder(folder: str | Path, size: int, limit: int | None = None,
                      classes: tuple[str, ...] | None = None) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Every image below ``folder`` as uint8 (N, size, size, 3), centre-cropped and resized; with its
    labels and class names when its sub-folders are classes, else ``(images, None, [])``.

    ``classes``: the class names in label order (e.g. ``CIFAR10_CLASSES``); by default the sorted names
    of the sub-folders that hold images. ``limit`` keeps that many images, drawn evenly from every class.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder. Pass a folder of images (sub-folders as classes, if any).")
    direct = _images_below(folder, recursive=False)
    class_folders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
                           and _images_below(p, recursive=True))
    if class_folders and not direct:
        names = list(classes) if classes is not None else [p.name for p in class_folders]
        unknown = sorted({p.name for p in class_folders} - set(names))
        if unknown:
            raise ValueError(f"{folder} has class folder(s) {', '.join(unknown)} that are not among the classes "
                             f"{', '.join(names)}; remove them or pass data that has only those classes.")
        paths, labels = [], []
        for label, name in enumerate(names):
            found = _images_below(folder / name, recursive=True)
            paths += found
            labels += [label] * len(found)
        order = spread_over_classes(np.asarray(labels), limit)
        return _decode([paths[i] for i in order], np.asarray(labels, dtype=np.int64)[order], size, names, folder)
    paths = _images_below(folder, recursive=True)
    if not paths:
        raise ValueError(f"{folder} holds no image file at any depth ({', '.join(IMAGE_SUFFIXES)}); point data_dir "
                         "at the folder that holds the pictures.")
    images, _, _ = _decode(paths[:limit], None, size, [], folder)
    return images, None, []


def _images_below(folder: Path, recursive: bool) -> list[Path]:
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in candidates if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def spread_over_classes(labels: np.ndarray, limit: int | None) -> np.ndarray:
    """Indices of ``labels``: all of them, or ``limit`` taken round-robin over the classes."""
    if limit is None or limit >= len(labels):
        return np.arange(len(labels))
    rank = np.zeros(len(labels), dtype=np.int64)  # position of each image within its class
    for label in np.unique(labels):
        where = np.flatnonzero(labels == label)
        rank[where] = np.arange(len(where))
    return np.sort(np.lexsort((labels, rank))[:limit])


def _decode(paths: list[Path], labels: np.ndarray | None, size: int, names: list[str], folder: Path):
    decoded = decode_images(paths, size, center_crop=True)  # None for an unreadable file (one warning)
    readable = np.asarray([image is not None for image in decoded])
    images = np.stack([image for image in decoded if image is not None])
    return images, None if labels is None else labels[readable], names
