"""Use a trained image-to-image generator without its notebook.

The CycleGAN notebook leaves two generators in its run folder (see ``drive_layout.md``):
``generator_AtoB.keras`` (for monet2photo: Monet → photo) and ``generator_BtoA.keras``
(photo → Monet). In any Python with Keras 3 and ``gan_helpers``:

    from gan_helpers import translate
    monet = translate("holiday.jpg", "BtoA", run_folder="~/gan-notebooks/runs/cyclegan_monet2photo/<run_name>")
    PIL.Image.fromarray(monet).save("holiday_monet.jpg")
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from PIL import Image

from . import layers  # noqa: F401 - registers the custom layers that the saved generators contain
from .image_data import rgb_to_model_range, to_uint8

DIRECTIONS = ("AtoB", "BtoA")
_loaded: dict[tuple[str, int], keras.Model] = {}


def generator_path(run_folder: str | Path, direction: str) -> Path:
    """Where a run keeps the generator for ``direction`` (``"AtoB"`` or ``"BtoA"``)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction={direction!r}: choose 'AtoB' (trainA style -> trainB style, e.g. "
                         "Monet -> photo) or 'BtoA' (e.g. photo -> Monet).")
    return Path(run_folder).expanduser() / f"generator_{direction}.keras"


def load_generator(run_folder: str | Path, direction: str) -> keras.Model:
    """Load (once per file version) the saved generator for ``direction`` from ``run_folder``."""
    path = generator_path(run_folder, direction)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist. Pass the folder of a completed run (it holds "
                                "generator_AtoB.keras and generator_BtoA.keras after the notebook's last cell).")
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _loaded:
        _loaded[key] = keras.models.load_model(path, compile=False)
    return _loaded[key]


def translate(image_or_path, direction: str = "BtoA", run_folder: str | Path | None = None) -> np.ndarray:
    """Translate one image with a run's saved generator; return it as uint8 RGB (size, size, 3).

    ``image_or_path`` is a file path, a PIL image or a uint8 array (H, W, 3) or (H, W); it is
    converted to RGB and resized (bicubic) to the square size the generator was trained at.
    """
    if run_folder is None:
        raise ValueError("run_folder is required: the folder of a completed run, e.g. "
                         "~/gan-notebooks/runs/cyclegan_monet2photo/<run_name>.")
    generator = load_generator(run_folder, direction)
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
