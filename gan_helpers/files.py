"""Durable file writes: a reader (or the next run) sees the old file or the new one, never half of one.

Every file a run leaves is written to local disk first, then copied next to its final name
under a temporary name, flushed, and renamed into place. Renaming within one folder is atomic,
also on a Google Drive FUSE mount, where writing a large file in place is slow and can be cut
off when the runtime disconnects.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def move_into_place(local_file: str | Path, destination: str | Path) -> Path:
    """Copy a finished local file next to ``destination``, flush it, rename it into place, delete the local file."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    shutil.copyfile(local_file, partial)
    with open(partial, "rb") as f:
        os.fsync(f.fileno())
    os.replace(partial, destination)
    os.unlink(local_file)
    return destination


def write_atomically(destination: str | Path, data: bytes | str | Callable[[BinaryIO], None]) -> Path:
    """Write ``data`` (bytes, text, or a function that writes into an open binary file) to ``destination`` atomically."""
    fd, local = tempfile.mkstemp(suffix=Path(destination).suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(local).unlink(missing_ok=True)
        raise
    return move_into_place(local, destination)


def remove_partial_files(folder: str | Path) -> None:
    """Delete leftovers of writes that were killed half-way (``.<name>.<pid>.partial``)."""
    for leftover in Path(folder).glob(".*.partial"):
        leftover.unlink(missing_ok=True)
