"""Where am I running, where do runs go, and which device trains?

One call, `setup()`, answers all three for a notebook:

- In Colab it mounts Google Drive and works under ``MyDrive/gan-notebooks``, so runs
  survive a disconnect. Elsewhere it works under ``$GAN_HOME`` (default
  ``~/gan-notebooks``).
- ``GAN_SMOKE=1`` switches on smoke mode: the notebook shrinks to a few steps on a small
  slice of data, through the same code path (CI and nbval use it).
- ``GAN_DATA_DIR`` (or the ``data_dir`` argument) names a local folder holding a dataset's
  files, used instead of downloading.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

COLAB_DRIVE_MOUNT = "/content/drive"
COLAB_PROJECT_DIR = "/content/drive/MyDrive/gan-notebooks"
LOCAL_DEFAULT_HOME = "~/gan-notebooks"


@dataclass
class Environment:
    """What `setup()` found out: the root folder, the data source, the mode and the device."""

    root: Path
    data_dir: Path | None
    in_colab: bool
    smoke: bool
    device: str

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def cache_dir(self) -> Path:
        """Where downloaded datasets are cached (on Drive in Colab, so they download once)."""
        return self.root / "datasets"


def in_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def smoke_mode() -> bool:
    """True when ``GAN_SMOKE`` is set to 1/true/yes: shrink every run to a few steps."""
    return os.environ.get("GAN_SMOKE", "").strip().lower() in {"1", "true", "yes", "on"}


def device_name() -> str:
    """A short description of the device TensorFlow trains on: the GPU's name, or CPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        name = details.get("device_name", gpus[0].name)
        return f"GPU: {name}" + (f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else "")
    return f"CPU ({os.cpu_count()} cores)"


def warn_if_no_gpu(device: str | None = None) -> bool:
    """In Colab without a GPU, say how to get one (training on Colab's CPU is very slow). Returns True if warned.

    ``device`` is what `device_name()` says (found out when None).
    """
    if in_colab() and (device or device_name()).startswith("CPU"):
        print("No GPU in this Colab runtime: training will be very slow. "
              "Choose Runtime > Change runtime type > GPU (e.g. T4), then Runtime > Run all.")
        return True
    return False


def _mount_drive() -> None:
    from google.colab import drive  # only importable inside Colab

    if not os.path.ismount(COLAB_DRIVE_MOUNT):
        drive.mount(COLAB_DRIVE_MOUNT)


def find_root(mount_drive: bool = True) -> Path:
    """The root folder (created if missing): ``$GAN_HOME`` when set, else ``MyDrive/gan-notebooks``
    in Colab (mounting Drive unless ``mount_drive`` is False), else ``~/gan-notebooks``.

    Cheap (no TensorFlow): tools that only read or plan runs, like the sweep runner, use it.
    Raises ValueError naming ``GAN_HOME`` (or the default folder) when the root is a file or
    cannot be created.
    """
    if os.environ.get("GAN_HOME"):
        root = Path(os.environ["GAN_HOME"]).expanduser()
    elif in_colab():
        if mount_drive:
            _mount_drive()
        root = Path(COLAB_PROJECT_DIR)
    else:
        root = Path(LOCAL_DEFAULT_HOME).expanduser()
    if root.exists() and not root.is_dir():
        raise ValueError(f"{_root_setting(root)} is a file, not a folder. {_root_fix()}")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"{_root_setting(root)}: the folder cannot be created ({error.strerror or error}). "
                         f"{_root_fix()}") from error
    return root


def _root_setting(root: Path) -> str:
    """How the user chose ``root``: the GAN_HOME value, or the default."""
    if os.environ.get("GAN_HOME"):
        return f"GAN_HOME={os.environ['GAN_HOME']!r} (the root folder for datasets and runs)"
    return f"The root folder for datasets and runs, {str(root)!r} (the default: GAN_HOME is not set),"


def _root_fix() -> str:
    return ("Set GAN_HOME to a folder you can write to (it is created if missing), e.g. "
            f"GAN_HOME={LOCAL_DEFAULT_HOME}, or unset it to use the default.")


def check_writable(root: Path) -> None:
    """Write and delete a small file in ``root``; raise ValueError naming the setting if that fails
    (a read-only folder or disk, a full disk): found now rather than after the data load."""
    probe = root / f".gan-notebooks-write-test-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
        os.unlink(probe)
    except OSError as error:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass
        raise ValueError(f"{_root_setting(root)} is not writable ({error.strerror or error}): runs and downloads "
                         f"could not be saved there. {_root_fix()}") from error


def setup(data_dir: str | Path | None = None, mount_drive: bool = True, quiet: bool = False) -> Environment:
    """Find the root folder (mounting Drive in Colab), the data folder, smoke mode and the device.

    ``data_dir``: a local folder holding a dataset's files; empty or None falls back to
    ``$GAN_DATA_DIR``, then to downloading into the cache. Prints one line saying where runs
    go and which device trains, unless ``quiet``.

    Checked here, before any data is loaded, each with a message naming the setting, its value
    and the fix: the root (``GAN_HOME``) must be a folder that can be created and written to
    (ValueError), ``data_dir`` a string (ValueError) naming a folder (FileNotFoundError).
    """
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise ValueError(
            f"data_dir={data_dir!r} (of type {type(data_dir).__name__}) is not a folder path. Set data_dir to the path of "
            'the folder that holds the dataset\'s files as a string (e.g. data_dir = "/content/mnist"), or to "" '
            "to download them."
        )
    colab = in_colab()
    root = find_root(mount_drive)
    check_writable(root)

    setting = "data_dir"
    if not data_dir and os.environ.get("GAN_DATA_DIR"):
        data_dir, setting = os.environ["GAN_DATA_DIR"], "GAN_DATA_DIR"
    data_dir = data_dir or None
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser()
        if not data_dir.is_dir():
            what = "is a file, not a folder" if data_dir.exists() else "does not exist"
            raise FileNotFoundError(
                f"{setting}={str(data_dir)!r} {what}. Point {setting} at the folder that holds the dataset's "
                f"files, or {'leave it empty' if setting == 'data_dir' else 'unset it'} to download them."
            )

    env = Environment(root=root, data_dir=data_dir, in_colab=colab, smoke=smoke_mode(), device=device_name())
    if not quiet:
        where = "Google Drive" if colab and str(root).startswith(COLAB_DRIVE_MOUNT) else "local disk"
        extras = f" · data from {data_dir}" if data_dir else ""
        extras += " · SMOKE MODE (tiny run)" if env.smoke else ""
        print(f"Runs go to {env.runs_dir} ({where}) · device: {env.device}{extras}")
    return env
