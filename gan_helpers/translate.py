"""Use a trained image-to-image generator without its notebook.

The CycleGAN notebook leaves two generators in its run folder (see ``drive_layout.md``):
``generator_AtoB.keras`` (for monet2photo: Monet → photo; horse2zebra: horse → zebra) and
``generator_BtoA.keras`` (photo → Monet). ``run_domain_names(run_folder)`` says what A and B are
for a run. In any Python with Keras 3 and ``gan_helpers``:

    from gan_helpers import translate
    monet = translate("holiday.jpg", "BtoA")  # the newest completed CycleGAN run under the root
    monet = translate("holiday.jpg", "BtoA", run_folder="~/gan-notebooks/runs/cyclegan_monet2photo/<run_name>")
    PIL.Image.fromarray(monet).save("holiday_monet.jpg")
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from . import layers  # noqa: F401 - registers the custom layers that the saved generators contain
from .environment import find_root
from .image_data import domain_names, rgb_to_model_range, to_uint8

DIRECTIONS = ("AtoB", "BtoA")
EXPERIMENT = "cyclegan_monet2photo"  # the notebook's runs/<experiment>/ folder
_loaded: dict[tuple[str, int], keras.Model] = {}


def generator_path(run_folder: str | Path, direction: str) -> Path:
    """Where a run keeps the generator for ``direction`` (``"AtoB"`` or ``"BtoA"``)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction={direction!r}: choose 'AtoB' (trainA style -> trainB style, e.g. "
                         "Monet -> photo, horse -> zebra) or 'BtoA' (e.g. photo -> Monet).")
    return Path(run_folder).expanduser() / f"generator_{direction}.keras"


def run_domain_names(run_folder: str | Path) -> tuple[str, str]:
    """What a CycleGAN run's A and B images are, from the dataset in its ``config.json`` (e.g.
    ``("horse", "zebra")``); ``("A", "B")`` for a folder of your own or when the run does not say."""
    try:
        config = json.loads((Path(run_folder).expanduser() / "config.json").read_text())
        return domain_names(config["params"]["dataset"])
    except (OSError, ValueError, KeyError, TypeError):
        return ("A", "B")


def load_saved_model(path: Path, missing: str) -> keras.Model:
    """Load the ``.keras`` file ``path`` once per file version; ``missing``: what to say when it is not there."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist. {missing}")
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _loaded:
        _loaded[key] = keras.models.load_model(path, compile=False)
    return _loaded[key]


def load_generator(run_folder: str | Path, direction: str) -> keras.Model:
    """Load (once per file version) the saved generator for ``direction`` from ``run_folder``."""
    return load_saved_model(generator_path(run_folder, direction),
                            "Pass the folder of a completed run (it holds generator_AtoB.keras and "
                            "generator_BtoA.keras after the notebook's last cell).")


def newest_run_folder(direction: str, root: str | Path | None = None) -> Path:
    """The most recently finished run under ``<root>/runs/cyclegan_monet2photo/`` that saved
    the generator for ``direction`` (root: ``$GAN_HOME``, Drive in Colab, else ``~/gan-notebooks``)."""
    experiment = Path(root).expanduser() if root else find_root()
    experiment = experiment / "runs" / EXPERIMENT
    saved = sorted(experiment.glob(f"*/generator_{direction}.keras"), key=lambda p: p.stat().st_mtime)
    if not saved:
        raise FileNotFoundError(f"No finished CycleGAN run in {experiment} (none holds generator_{direction}.keras). "
                                "Train one with notebooks/cyclegan_monet2photo.ipynb, or pass run_folder=.")
    return saved[-1].parent


def translate(image_or_path, direction: str = "BtoA", run_folder: str | Path | None = None) -> np.ndarray:
    """Translate one image with a run's saved generator; return it as uint8 RGB (size, size, 3).

    ``image_or_path`` is a file path, a PIL image or a uint8 array (H, W, 3) or (H, W); it is
    converted to RGB and resized (bicubic) to the square size the generator was trained at.
    ``run_folder``: the run whose generators to use; by default the newest finished CycleGAN run
    under the root folder.
    """
    if run_folder is None:
        run_folder = newest_run_folder(direction)
    return translate_with(load_generator(run_folder, direction), image_or_path)


def translate_with(generator: keras.Model, image_or_path) -> np.ndarray:
    """Translate one image (a file path, a PIL image or a uint8 array) with a loaded generator, at
    the square size it was trained at; return uint8 RGB (size, size, 3)."""
    size = generator.input_shape[1]
    if isinstance(image_or_path, (str, Path)):
        with Image.open(Path(image_or_path).expanduser()) as opened:
            picture = opened.convert("RGB")
    elif isinstance(image_or_path, Image.Image):
        picture = image_or_path.convert("RGB")
    else:
        array = np.asarray(image_or_path)
        if array.dtype != np.uint8 or array.ndim not in (2, 3):
            raise ValueError(f"Got an array of {array.dtype} {array.shape}; pass uint8 (H, W, 3) or (H, W), "
                             "a PIL image or a file path.")
        picture = Image.fromarray(array).convert("RGB")
    picture = picture.resize((size, size), Image.Resampling.BICUBIC)
    batch = rgb_to_model_range(np.asarray(picture, dtype=np.uint8))[np.newaxis]
    return to_uint8(keras.ops.convert_to_numpy(generator(batch, training=False)))[0]
