"""Unpaired image-folder datasets (CycleGAN's ``monet2photo`` and its siblings) and their tf.data pipeline.

A dataset is a folder in the official layout of the CycleGAN zips::

    monet2photo/
        trainA/   e.g. Monet paintings     testA/
        trainB/   e.g. photos              testB/

``CYCLEGAN_PAIRS`` names every pair on the authors' server and what its A and B hold
(`domain_names`: ``("horse", "zebra")`` for ``horse2zebra``); ``"folder"`` is any folder of yours
in that layout, given as ``data_dir`` (its domains are called A and B).

Where the folder comes from (`find_unpaired_dataset`), in this order:

1. ``data_dir`` (or a ``source`` that is a folder): a folder in that layout, or holding ``<name>/``
   in that layout. It is used where it is; nothing is downloaded or copied.
2. The cache, ``cache_dir/<name>/``, if an earlier extraction completed (it holds ``.complete``).
3. The sources, tried in order until one works: ``source`` if you give one (a zip's URL, or a
   zip's path, e.g. on Drive), the official zip
   (``OFFICIAL_URL.format(name=name)``), then TFDS ``cycle_gan/<name>`` when
   ``tensorflow_datasets`` is installed. A downloaded zip goes to ``cache_dir/<name>.zip.part``
   and is renamed only when complete and readable; its entries are checked before anything is
   extracted (`safe_extract`: no ``..``, no absolute paths, no links, no more than
   ``max_unpacked_bytes`` in all, no entry compressed more than ``max_compression_ratio`` times: a
   zip bomb is refused from the archive's directory, before anything is written); extraction goes to a
   temporary folder that is renamed into place with a ``.complete`` marker, so an extraction
   cut off half-way is noticed and redone on the next call.

Images (`load_images`) are decoded with Pillow, whatever their names (the official photo names
hold spaces and colons), formats (JPEG, PNG) or modes (grey, RGBA, palette: all become RGB).
Unreadable files are skipped with one warning that counts them.
"""

from __future__ import annotations

import http.client
import os
import shutil
import stat
import sys
import warnings
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

import numpy as np
import tensorflow as tf
from PIL import Image

from .data import DatasetUnavailableError, download_file
from .files import write_atomically

OFFICIAL_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
SPLIT_FOLDERS = ("trainA", "trainB", "testA", "testB")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
COMPLETE_MARKER = ".complete"
# Zip bomb limits, checked from the archive's directory before extracting. monet2photo.zip unpacks to
# about 0.3 GB at a ratio near 1 (JPEGs do not compress); a bomb reaches ratios of several hundred.
MAX_UNPACKED_BYTES = 10 * 2**30  # the whole archive, uncompressed
MAX_COMPRESSION_RATIO = 100  # uncompressed / compressed, of the archive and of any entry over 1 MiB
DECODE_THREADS = 8  # decoding is mostly file reading, slow on a Drive mount: overlap it
# The pairs on the CycleGAN authors' server (and in TFDS cycle_gan/), with what trainA and trainB hold.
# cityscapes is left out: its images need a login at cityscapes-dataset.com.
CYCLEGAN_PAIRS: dict[str, tuple[str, str]] = {
    "monet2photo": ("Monet", "photo"), "cezanne2photo": ("Cézanne", "photo"), "ukiyoe2photo": ("ukiyo-e", "photo"),
    "vangogh2photo": ("Van Gogh", "photo"), "horse2zebra": ("horse", "zebra"), "apple2orange": ("apple", "orange"),
    "summer2winter_yosemite": ("summer", "winter"), "iphone2dslr_flower": ("iPhone flower", "DSLR flower"),
    "maps": ("aerial photo", "map"), "facades": ("facade", "facade labels"),
}
OWN_FOLDER = "folder"  # the dataset name of a folder of your own, given as data_dir


class UnsafeArchiveError(ValueError):
    """A zip entry would be written outside the target folder (``..``, an absolute path) or is a link."""


class UnreadableImagesWarning(UserWarning):
    """Some image files could not be decoded and were skipped."""


# --------------------------------------------------------------------------------------------------
# Finding the dataset folder
# --------------------------------------------------------------------------------------------------


def domain_names(name: str) -> tuple[str, str]:
    """What the A and B images of dataset ``name`` are, for titles and messages: ``("Monet", "photo")``
    for ``monet2photo``; ``("A", "B")`` for a folder of your own or a name not in ``CYCLEGAN_PAIRS``."""
    return CYCLEGAN_PAIRS.get(name, ("A", "B"))


def find_unpaired_dataset(
    name: str = "monet2photo",
    *,
    cache_dir: str | Path,
    data_dir: str | Path | None = None,
    source: str | Path | None = None,
    official_url: str | None = OFFICIAL_URL,
    use_tfds: bool = True,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_compression_ratio: float = MAX_COMPRESSION_RATIO,
) -> Path:
    """Return a folder holding ``trainA``, ``trainB``, ``testA`` and ``testB`` of dataset ``name``.

    Args:
        name: the dataset's name, e.g. ``"monet2photo"`` (the official zip's and TFDS's name).
        cache_dir: where downloads are unpacked: ``cache_dir/<name>/`` (on Drive in Colab, so once).
        data_dir: a local folder in the official layout; when given it is used and nothing else.
        source: a folder in the official layout (then used where it is, like ``data_dir``), or a
            zip's URL (http/https) or file path, tried first when the cache is empty.
        official_url: the official zip's URL, with ``{name}`` in it; None to skip it.
        use_tfds: try ``tensorflow_datasets`` (``cycle_gan/<name>``) if it is installed.
        max_unpacked_bytes, max_compression_ratio: a zip that would unpack to more, or any of whose
            entries is compressed more, is refused before anything is extracted (raise them for a
            large archive you trust).

    Raises:
        DatasetUnavailableError: no source worked; the message lists each one and why.
        UnsafeArchiveError: a zip holds an entry that would escape the cache folder, or exceeds the limits.
    """
    if data_dir is not None:
        return check_layout(Path(data_dir).expanduser(), name)
    if source and Path(str(source)).expanduser().is_dir():
        return check_layout(Path(str(source)).expanduser(), name)  # a folder is used where it is
    if name == OWN_FOLDER:
        raise ValueError(f"dataset={OWN_FOLDER!r} means a folder of your own, but no data_dir was given: set data_dir "
                         f"(or GAN_DATA_DIR) to a folder holding {', '.join(SPLIT_FOLDERS)}, or choose one of the "
                         f"published pairs: {', '.join(CYCLEGAN_PAIRS)}.")

    cache_dir = Path(cache_dir).expanduser()
    target = cache_dir / name
    if (target / COMPLETE_MARKER).exists():
        return target
    if target.exists() or _temporary_folder(target).exists():
        print(f"{target} holds an unfinished extraction (no {COMPLETE_MARKER} marker); extracting it again.")
    cache_dir.mkdir(parents=True, exist_ok=True)

    limits = {"max_unpacked_bytes": max_unpacked_bytes, "max_compression_ratio": max_compression_ratio}
    attempts: list[tuple[str, object]] = []
    if source:
        attempts.append((str(source), lambda: _from_user_source(str(source), target, name, limits)))
    if official_url:
        url = official_url.format(name=name)
        attempts.append((url, lambda: _from_zip_url(url, target, name, limits)))
    if use_tfds:
        attempts.append((f"TFDS cycle_gan/{name}", lambda: _from_tfds(name, target)))

    reports = []
    for label, attempt in attempts:
        try:
            attempt()
        except UnsafeArchiveError:
            raise
        except (OSError, http.client.HTTPException, ValueError, zipfile.BadZipFile, ImportError) as error:
            report = f"{label}: {type(error).__name__}: {error}"
            reports.append(report)
            print(f"Source failed, {report}", file=sys.stderr)
            continue
        print(f"{name} is ready in {target} (from {label})")
        return target

    tried = "\n".join(f"  {report}" for report in reports) or "  (no sources given)"
    raise DatasetUnavailableError(
        f"Could not get the {name} dataset.\nSources tried:\n{tried}\n"
        f"To fix: download {name}.zip by hand and pass its path (or URL) as source=... (the notebook's "
        "data_source parameter), or unpack it anywhere and pass that folder as data_dir=... (the notebook's "
        f"data_dir parameter, or the GAN_DATA_DIR environment variable). It must hold {', '.join(SPLIT_FOLDERS)}."
    )


def check_layout(folder: Path, name: str = "monet2photo") -> Path:
    """Return ``folder`` (or ``folder/<name>``) if it holds the four split folders; else raise FileNotFoundError."""
    if not folder.is_dir():
        raise FileNotFoundError(
            f"data_dir {folder} is not a folder. Pass a folder holding {', '.join(SPLIT_FOLDERS)} "
            "(the unpacked official zip), or leave data_dir empty to download."
        )
    for candidate in (folder, folder / name):
        if all((candidate / split).is_dir() for split in SPLIT_FOLDERS):
            for split in SPLIT_FOLDERS:
                if not _has_an_image(candidate / split):
                    raise FileNotFoundError(
                        f"{no_images_message(candidate / split)} Put the {split} images of {name} there, or point "
                        f"data_dir at a complete copy of {name} ({', '.join(SPLIT_FOLDERS)}, each holding images)."
                    )
            return candidate
    missing = [split for split in SPLIT_FOLDERS if not (folder / split).is_dir()]
    raise FileNotFoundError(
        f"{folder} lacks the folder(s) {', '.join(missing)} (and has no {name}/ sub-folder that holds them all). "
        f"Point data_dir at the unpacked {name} folder, the one holding {', '.join(SPLIT_FOLDERS)}."
    )


def _from_user_source(source: str, target: Path, name: str, limits: dict | None = None) -> None:
    if source.startswith(("http://", "https://")):
        _from_zip_url(source, target, name, limits)
        return
    path = Path(source).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"source {source} is neither a URL, nor a zip file, nor a folder")
    extract_dataset_zip(path, target, name, **(limits or {}))


def _from_zip_url(url: str, target: Path, name: str, limits: dict | None = None) -> None:
    zip_path = target.with_name(target.name + ".zip")
    if not _is_readable_zip(zip_path):  # a zip left by an extraction that was cut off is reused
        download_file(url, zip_path)  # via <zip>.part: the final name only ever holds a complete download
    try:
        extract_dataset_zip(zip_path, target, name, **(limits or {}))
    finally:
        zip_path.unlink(missing_ok=True)  # the unpacked folder is the cache; a bad zip is fetched again


def _is_readable_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path):
            return True
    except (OSError, zipfile.BadZipFile):
        return False


def _from_tfds(name: str, target: Path) -> None:
    """Write TFDS's ``cycle_gan/<name>`` splits as JPEG files in the official layout (quality 95)."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise ImportError("tensorflow_datasets is not installed (pip install tensorflow-datasets)") from error
    splits = tfds.load(f"cycle_gan/{name}", data_dir=str(target.parent / "tfds"))
    temporary = _fresh_temporary_folder(target)
    for split in SPLIT_FOLDERS:
        folder = temporary / name / split
        folder.mkdir(parents=True)
        for index, example in enumerate(tfds.as_numpy(splits[split])):
            Image.fromarray(example["image"]).convert("RGB").save(folder / f"{index:05d}.jpg", quality=95)
    _move_into_place(temporary, target, name)


# --------------------------------------------------------------------------------------------------
# Safe extraction
# --------------------------------------------------------------------------------------------------


def check_zip_entries(zip_path: str | Path, max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
                      max_compression_ratio: float = MAX_COMPRESSION_RATIO) -> list[zipfile.ZipInfo]:
    """Return the archive's entries, or raise UnsafeArchiveError for the first one that could escape.

    Refused: absolute paths (``/x``, ``C:/x``, ``\\\\server\\x``), any ``..`` component, and links
    (an entry whose Unix mode says symlink). Backslashes count as separators. Also refused, from the
    sizes in the archive's directory (which bound what `zipfile` will unpack): more than
    ``max_unpacked_bytes`` in all, or a compression ratio above ``max_compression_ratio`` for the
    whole archive or for any entry larger than 1 MiB (a zip bomb).
    """
    with zipfile.ZipFile(zip_path) as archive:
        entries = archive.infolist()
    _check_sizes(zip_path, entries, max_unpacked_bytes, max_compression_ratio)
    for entry in entries:
        path = PurePosixPath(entry.filename.replace("\\", "/"))
        mode = entry.external_attr >> 16
        problem = None
        if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
            problem = "is an absolute path"
        elif ".." in path.parts:
            problem = "contains '..'"
        elif stat.S_ISLNK(mode):
            problem = "is a symbolic link"
        if problem:
            raise UnsafeArchiveError(
                f"Refusing to extract {zip_path}: entry {entry.filename!r} {problem}, so it could write outside "
                "the target folder. Nothing was extracted. Use the official zip, or unpack a trusted copy by hand "
                "and pass the folder as data_dir."
            )
    return entries


def _check_sizes(zip_path, entries: list[zipfile.ZipInfo], max_unpacked_bytes: int,
                 max_compression_ratio: float) -> None:
    def refuse(problem: str, setting: str) -> UnsafeArchiveError:
        return UnsafeArchiveError(
            f"Refusing to extract {zip_path}: {problem}. Nothing was extracted. A zip bomb, or not the dataset "
            f"archive it should be; if you trust it, raise the limit: find_unpaired_dataset(..., {setting}=...) "
            f"(the default is gan_helpers.image_data.{setting.upper()})."
        )

    total = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if total > max_unpacked_bytes:
        raise refuse(f"it would unpack to {_size(total)}, more than max_unpacked_bytes = {_size(max_unpacked_bytes)}",
                     "max_unpacked_bytes")
    for entry in entries:
        if entry.file_size > 2**20 and entry.file_size > max_compression_ratio * max(entry.compress_size, 1):
            raise refuse(f"entry {entry.filename!r} would unpack {entry.compress_size:,} bytes into "
                         f"{entry.file_size:,} ({entry.file_size / max(entry.compress_size, 1):,.0f} times as many), "
                         f"more than max_compression_ratio = {max_compression_ratio:g}", "max_compression_ratio")
    if total > 2**20 and total > max_compression_ratio * max(packed, 1):
        raise refuse(f"it would unpack {packed:,} bytes into {total:,} ({total / max(packed, 1):,.0f} times as "
                     f"many), more than max_compression_ratio = {max_compression_ratio:g}", "max_compression_ratio")


def _size(count: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if count >= scale:
            return f"{count / scale:.1f} {unit} ({count:,} bytes)"
    return f"{count:,} bytes"


def safe_extract(zip_path: str | Path, destination: str | Path, max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
                 max_compression_ratio: float = MAX_COMPRESSION_RATIO) -> None:
    """Extract every entry of ``zip_path`` into ``destination`` after `check_zip_entries` passed them all."""
    destination = Path(destination).resolve()
    check_zip_entries(zip_path, max_unpacked_bytes, max_compression_ratio)
    with zipfile.ZipFile(zip_path) as archive:
        for entry in archive.infolist():
            out = (destination / entry.filename.replace("\\", "/")).resolve()
            if destination not in out.parents and out != destination:  # belt and braces
                raise UnsafeArchiveError(
                    f"Refusing to extract {zip_path}: entry {entry.filename!r} leaves {destination}.")
            if entry.is_dir():
                out.mkdir(parents=True, exist_ok=True)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(entry) as src, open(out, "wb") as dst:  # CRC checked while reading
                shutil.copyfileobj(src, dst, 1 << 20)


def extract_dataset_zip(zip_path: str | Path, target: str | Path, name: str = "monet2photo",
                        max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
                        max_compression_ratio: float = MAX_COMPRESSION_RATIO) -> Path:
    """Extract a dataset zip so that ``target`` ends up holding the four split folders and ``.complete``.

    Works in ``.<target>.extracting`` next to ``target`` and renames it into place only at the end:
    a crash half-way leaves no ``.complete`` marker, and the next call starts over. The archive is
    checked (`check_zip_entries`) before anything is written.
    """
    target = Path(target)
    check_zip_entries(zip_path, max_unpacked_bytes, max_compression_ratio)
    temporary = _fresh_temporary_folder(target)
    safe_extract(zip_path, temporary, max_unpacked_bytes, max_compression_ratio)
    _move_into_place(temporary, target, name)
    return target


def _temporary_folder(target: Path) -> Path:
    return target.with_name(f".{target.name}.extracting")


def _fresh_temporary_folder(target: Path) -> Path:
    temporary = _temporary_folder(target)
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    return temporary


def _move_into_place(temporary: Path, target: Path, name: str) -> None:
    """Find the layout inside ``temporary`` (the zips hold ``<name>/trainA``...), mark it complete,
    rename it to ``target``."""
    try:
        layout = check_layout(temporary, name)
    except FileNotFoundError as error:
        shutil.rmtree(temporary, ignore_errors=True)
        raise ValueError(f"the archive does not hold the {name} layout ({error})") from error
    counts = {split: len(list_images(layout / split)) for split in SPLIT_FOLDERS}
    (layout / COMPLETE_MARKER).write_text(" ".join(f"{split}={count}" for split, count in counts.items()) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(layout, target)
    shutil.rmtree(temporary, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# Decoding images
# --------------------------------------------------------------------------------------------------


def _is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file()


def _has_an_image(folder: Path) -> bool:
    return any(_is_image_file(p) for p in folder.iterdir())  # stops at the first: cheap on a Drive mount


def no_images_message(folder: Path) -> str:
    """Says that ``folder`` holds no image, what it holds instead, and what it must hold."""
    others = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []
    found = (f"only {', '.join(repr(n) for n in others[:3])}{', ...' if len(others) > 3 else ''}" if others
             else "nothing")
    return (f"The folder {folder} holds no image file (it holds {found}). It must hold the images themselves, "
            f"as {', '.join(IMAGE_SUFFIXES)} files directly in it (not in sub-folders).")


def list_images(folder: str | Path) -> list[Path]:
    """The ``.jpg``/``.jpeg``/``.png`` files directly in ``folder`` (any case, any name), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of images.")
    return sorted(p for p in folder.iterdir() if _is_image_file(p))


def read_image(path: str | Path, size: int | None = None, center_crop: bool = False) -> np.ndarray:
    """One image file as uint8 RGB (H, W, 3), resized to ``size``×``size`` (bicubic) if given.

    ``center_crop``: first cut the largest centred square (else a non-square image is squeezed).
    Grey, RGBA, CMYK and palette images become RGB (alpha is dropped). Raises OSError/ValueError for
    files Pillow cannot decode.
    """
    with Image.open(path) as picture:
        picture = picture.convert("RGB")  # also forces the full decode: a truncated file fails here
        if center_crop and picture.width != picture.height:
            side = min(picture.size)
            left, top = (picture.width - side) // 2, (picture.height - side) // 2
            picture = picture.crop((left, top, left + side, top + side))
        if size is not None and picture.size != (size, size):
            picture = picture.resize((size, size), Image.Resampling.BICUBIC)
        return np.asarray(picture, dtype=np.uint8)


def load_images(paths: Iterable[str | Path] | str | Path, size: int, limit: int | None = None
                ) -> tuple[np.ndarray, list[str]]:
    """Decode images into a uint8 array (N, size, size, 3) and return it with the files' names.

    ``paths`` is a folder (its `list_images`) or a list of files; ``limit`` keeps the first ones.
    Files that cannot be decoded are skipped; if any were, one `UnreadableImagesWarning` says how
    many and names the first few.
    """
    if isinstance(paths, (str, Path)):
        folder = Path(paths)
        paths = list_images(folder)
        if not paths:
            raise ValueError(no_images_message(folder))
    paths = [Path(p) for p in paths][:limit]
    decoded = decode_images(paths, size)
    return np.stack([image for image in decoded if image is not None]), [
        p.name for p, image in zip(paths, decoded) if image is not None]


def decode_images(paths: list[Path], size: int, center_crop: bool = False) -> list[np.ndarray | None]:
    """`read_image` each file (in threads); None for a file that cannot be decoded, with one
    `UnreadableImagesWarning` for them all. Raises ValueError if none can be decoded."""
    if not paths:
        raise ValueError("Got no image files; pass a folder of images or a list of image files.")

    def decode(path: Path) -> np.ndarray | None:
        try:
            return read_image(path, size, center_crop)
        except (OSError, ValueError, Image.DecompressionBombError):
            return None

    with ThreadPoolExecutor(DECODE_THREADS) as pool:
        decoded = list(pool.map(decode, paths))
    bad = [p for p, image in zip(paths, decoded) if image is None]
    if bad:
        where = bad[0].parent
        names = ", ".join(repr(p.name) for p in bad[:3]) + (", ..." if len(bad) > 3 else "")
        warnings.warn(
            f"Skipped {len(bad)} unreadable image file(s) of {len(paths)} in {where}: {names}. "
            "Delete or replace them to silence this warning.",
            UnreadableImagesWarning, stacklevel=3,
        )
    if len(bad) == len(paths):
        where = f"in {paths[0].parent}" if len({p.parent for p in paths}) == 1 else "given"
        raise ValueError(f"None of the {len(paths)} image file(s) {where} could be decoded (first: {paths[0].name!r}); "
                         "replace them with readable .jpg or .png files.")
    return decoded


def iter_image_batches(paths: list[Path], size: int, batch_size: int = 64) -> Iterator[tuple[np.ndarray, list[str]]]:
    """`load_images` a batch of ``paths`` at a time (for sets too large to hold decoded at once)."""
    for start in range(0, len(paths), batch_size):
        yield load_images(paths[start:start + batch_size], size)


def rgb_to_model_range(images: np.ndarray) -> np.ndarray:
    """uint8 images as the float32 in [-1, 1] that the generators take (0 -> -1, 255 -> 1)."""
    return images.astype(np.float32) / 127.5 - 1.0


def to_uint8(images) -> np.ndarray:
    """Images in [-1, 1] (array or tensor) as uint8 0..255, clipped."""
    images = np.asarray(images, dtype=np.float32)
    return np.rint((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def write_images(images: np.ndarray, names: list[str], folder: str | Path, quality: int = 95) -> list[Path]:
    """Save uint8 RGB images as JPEGs in ``folder``, one file per image, each written atomically.

    Each is named after its source, ``<stem of name>.jpg``; sources that share a stem (``dup.jpg``
    and ``dup.png``) keep their extension in it (``dup_jpg.jpg``, ``dup_png.jpg``), so no output
    overwrites another and as many files are written as images given (`output_names`).
    """
    if len(images) != len(names):
        raise ValueError(f"write_images got {len(images)} images but {len(names)} names; pass one name per image.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for image, name in zip(images, output_names(names)):
        picture = Image.fromarray(image)
        written.append(write_atomically(folder / name,
                                        lambda file, p=picture: p.save(file, format="JPEG", quality=quality)))
    return written


def output_names(names: list[str], suffix: str = ".jpg") -> list[str]:
    """A distinct output file name per source name: ``<stem><suffix>``, or ``<stem>_<ext><suffix>``
    for sources whose stems collide (compared case-insensitively, as some file systems do), and a
    ``-2``, ``-3``... before the suffix should a name still be taken."""
    stems = Counter(Path(name).stem.casefold() for name in names)
    taken: set[str] = set()
    result = []
    for name in names:
        path = Path(name)
        base = path.stem
        if stems[base.casefold()] > 1 and path.suffix:
            base = f"{base}_{path.suffix[1:]}"
        candidate, number = base + suffix, 2
        while candidate.casefold() in taken:
            candidate, number = f"{base}-{number}{suffix}", number + 1
        taken.add(candidate.casefold())
        result.append(candidate)
    return result


def write_images_zip(batches: Iterable[np.ndarray], path: str | Path, count: int, quality: int = 95) -> Path:
    """Write the first ``count`` uint8 RGB images from ``batches`` into a zip of ``00000.jpg``, ... (atomically).

    This is the Kaggle "I'm Something of a Painter Myself" submission format (``images.zip`` of
    7,000 to 10,000 256×256 JPEGs). Raises ValueError if the batches hold fewer than ``count`` images.
    """
    def write(file) -> None:
        written = 0
        with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
            for batch in batches:
                for image in batch:
                    if written == count:
                        return
                    with archive.open(f"{written:05d}.jpg", "w") as entry:
                        Image.fromarray(image).save(entry, format="JPEG", quality=quality)
                    written += 1
        if written < count:
            raise ValueError(f"Only {written} images were given for {path}, {count} asked for; lower the count.")

    return write_atomically(path, write)


# --------------------------------------------------------------------------------------------------
# tf.data pipeline
# --------------------------------------------------------------------------------------------------


def make_unpaired_dataset(
    images_a: np.ndarray,
    images_b: np.ndarray,
    image_size: int,
    batch_size: int,
    steps_per_epoch: int,
    seed: int,
    start_epoch: int = 0,
    flip: bool = True,
    start_step: int = 0,
) -> tf.data.Dataset:
    """Infinite stream of ``(batch_a, batch_b)``: unpaired, augmented, float32 in [-1, 1].

    ``images_a`` and ``images_b`` are uint8 (N, load_size, load_size, 3), already resized to the
    load size (see `load_images`). Each epoch takes ``steps_per_epoch * batch_size`` images from
    each set, in orders drawn independently for A and B (when a set is smaller, it is gone through
    several times, each in a new order); each image gets a random ``image_size`` crop and, with
    ``flip``, a random horizontal flip. Everything random derives from ``(seed, epoch, position)``,
    so epoch ``e`` is identical whether training started at 0 or resumed at ``e``; ``start_step``
    skips that many batches of the first epoch (a run resumed inside an epoch).
    """
    images_a, images_b = np.asarray(images_a), np.asarray(images_b)
    for label, images in (("images_a", images_a), ("images_b", images_b)):
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or len(images) == 0:
            raise ValueError(f"{label} must be uint8 (N, H, W, 3) with N >= 1, got {images.dtype} {images.shape}.")
        if min(images.shape[1:3]) < image_size:
            raise ValueError(f"{label} are {images.shape[1]}x{images.shape[2]} pixels, smaller than "
                             f"image_size={image_size}; load them at load_size >= image_size.")
    if steps_per_epoch < 1 or batch_size < 1 or start_epoch < 0 or not 0 <= start_step < steps_per_epoch:
        raise ValueError(f"steps_per_epoch={steps_per_epoch} and batch_size={batch_size} must be >= 1, "
                         f"start_epoch={start_epoch} >= 0, start_step={start_step} in [0, steps_per_epoch).")
    per_epoch = steps_per_epoch * batch_size

    def epoch_order(count: int, epoch: tf.Tensor, stream: int) -> tf.Tensor:
        repeats = -(-per_epoch // count)
        epoch_seed = tf.stack([tf.constant(seed, tf.int64), epoch * 2 + stream])
        keys = tf.random.stateless_uniform([repeats, count], seed=epoch_seed)
        return tf.reshape(tf.argsort(keys, axis=1), [-1])[:per_epoch]

    def epoch_examples(epoch: tf.Tensor) -> tf.data.Dataset:
        positions = epoch * per_epoch + tf.range(per_epoch, dtype=tf.int64)
        return tf.data.Dataset.from_tensor_slices((epoch_order(len(images_a), epoch, 0),
                                                   epoch_order(len(images_b), epoch, 1), positions))

    # The arrays stay in NumPy: as graph constants they would hit TensorFlow's 2 GB limit at 286 px.
    def gather(images: np.ndarray, index: tf.Tensor) -> tf.Tensor:
        image = tf.numpy_function(lambda i: images[i], [index], tf.uint8, stateful=False)
        image.set_shape(images.shape[1:])
        return image

    def augment(image: tf.Tensor, position: tf.Tensor, stream: int) -> tf.Tensor:
        crop_seed = tf.stack([position, tf.constant(seed * 4 + stream, tf.int64)])
        flip_seed = tf.stack([position, tf.constant(seed * 4 + stream + 2, tf.int64)])
        image = tf.image.stateless_random_crop(image, [image_size, image_size, 3], seed=crop_seed)
        if flip:
            image = tf.image.stateless_random_flip_left_right(image, seed=flip_seed)
        return tf.cast(image, tf.float32) / 127.5 - 1.0

    def load(index_a, index_b, position):
        return (augment(gather(images_a, index_a), position, 0), augment(gather(images_b, index_b), position, 1))

    return (
        tf.data.Dataset.counter(start=start_epoch, dtype=tf.int64)
        .flat_map(epoch_examples)
        .skip(start_step * batch_size)  # before loading: skipping costs nothing
        .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
