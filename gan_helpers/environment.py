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
    """
    if os.environ.get("GAN_HOME"):
        root = Path(os.environ["GAN_HOME"]).expanduser()
    elif in_colab():
        if mount_drive:
            _mount_drive()
        root = Path(COLAB_PROJECT_DIR)
    else:
        root = Path(LOCAL_DEFAULT_HOME).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def setup(data_dir: str | Path | None = None, mount_drive: bool = True, quiet: bool = False) -> Environment:
    """Find the root folder (mounting Drive in Colab), the data folder, smoke mode and the device.

    ``data_dir``: a local folder holding a dataset's files; empty or None falls back to
    ``$GAN_DATA_DIR``, then to downloading into the cache. Prints one line saying where runs
    go and which device trains, unless ``quiet``.
    """
    colab = in_colab()
    root = find_root(mount_drive)

    data_dir = data_dir or os.environ.get("GAN_DATA_DIR") or None
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser()
        if not data_dir.is_dir():
            raise FileNotFoundError(
                f"data_dir {str(data_dir)!r} is not a folder. Point data_dir (or GAN_DATA_DIR) at the "
                "folder that holds the dataset's files, or leave it empty to download them."
            )

    env = Environment(root=root, data_dir=data_dir, in_colab=colab, smoke=smoke_mode(), device=device_name())
    if not quiet:
        where = "Google Drive" if colab and str(root).startswith(COLAB_DRIVE_MOUNT) else "local disk"
        extras = f" · data from {data_dir}" if data_dir else ""
        extras += " · SMOKE MODE (tiny run)" if env.smoke else ""
        print(f"Runs go to {env.runs_dir} ({where}) · device: {env.device}{extras}")
    return env
