"""Durable file writes: a reader (or the next run) sees the old file or the new one, never half of one.

Every file a run leaves is written to local disk first, then copied next to its final name
under a temporary name, flushed, and renamed into place. Renaming within one folder is atomic,
also on a Google Drive FUSE mount, where writing a large file in place is slow and can be cut
off when the runtime disconnects.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Callable

LOCAL_PREFIX = "gan-helpers-"  # local temporary files: gan-helpers-<pid>-<random><suffix>
STALE_AFTER_SECONDS = 3600  # a local temporary file of a dead process is deleted once this old
PARTIAL_PATTERN = re.compile(r"^\..+\.\d+\.partial$")  # .<name>.<pid>.partial next to the destination


def move_into_place(local_file: str | Path, destination: str | Path) -> Path:
    """Copy a finished local file next to ``destination``, flush it, rename it into place, delete the local file.

    If any step fails (e.g. the disk is full), the local file and the half-copied
    ``.<name>.<pid>.partial`` are both deleted before the error is raised: nothing is left behind.
    """
    destination = Path(destination)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local_file, partial)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        Path(local_file).unlink(missing_ok=True)
    return destination


def local_temporary_file(suffix: str = "") -> Path:
    """A new empty file on local disk for a write that `move_into_place` finishes.

    Its name holds this process's id (``gan-helpers-<pid>-...``), so `remove_stale_local_files`
    can delete the ones left by a process that was killed.
    """
    fd, local = tempfile.mkstemp(suffix=suffix, prefix=f"{LOCAL_PREFIX}{os.getpid()}-")
    os.close(fd)
    return Path(local)


def write_atomically(destination: str | Path, data: bytes | str | Callable[[BinaryIO], None]) -> Path:
    """Write ``data`` (bytes, text, or a function that writes into an open binary file) to ``destination`` atomically."""
    local = local_temporary_file(Path(destination).suffix)
    try:
        with open(local, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        local.unlink(missing_ok=True)
        raise
    return move_into_place(local, destination)


def remove_partial_files(folder: str | Path, recursive: bool = False) -> list[Path]:
    """Delete leftovers of writes that were killed half-way (``.<name>.<pid>.partial``) in ``folder``
    (and its sub-folders, with ``recursive``); return what was deleted."""
    folder = Path(folder)
    leftovers = [p for p in (folder.rglob(".*.partial") if recursive else folder.glob(".*.partial"))
                 if PARTIAL_PATTERN.match(p.name) and p.is_file()]
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers


def remove_stale_local_files() -> list[Path]:
    """Delete local temporary files (`local_temporary_file`) whose process no longer runs: a
    process killed while saving leaves one in the temporary folder. Returns what was deleted."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{LOCAL_PREFIX}*-*"):
        pid = path.name[len(LOCAL_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _process_exists(int(pid)):
            continue
        try:
            if time.time() - path.stat().st_mtime < STALE_AFTER_SECONDS:
                continue  # young: perhaps a process in another container that shares this folder
            path.unlink()
            removed.append(path)
        except OSError:  # someone else's, or gone already
            pass
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by another user
        return True
    return True


def set_aside(path: str | Path) -> Path:
    """Rename a damaged file to ``<name>.damaged-<YYYYmmdd-HHMMSS>`` next to it (kept for you to
    look at, out of the run's way); return the new path."""
    path = Path(path)
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    counter = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{counter}")
        counter += 1
    os.replace(path, aside)
    return aside
