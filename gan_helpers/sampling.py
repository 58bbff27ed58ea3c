"""Draw images from a trained generator without its notebook, conditional or not.

Every MNIST-family notebook leaves its generator in its run folder as ``generator.keras`` (see
``drive_layout.md``). An unconditional one takes noise; a class-conditional one (the conditional
GAN notebook) takes ``[noise, label]``. In any Python with Keras 3 and ``gan_helpers``:

    import gan_helpers as gh
    digits = gh.sample("~/gan-notebooks/runs/conditional_gan_mnist/<run_name>", n=16, label=7)  # sixteen 7s
    gh.save_samples("~/gan-notebooks/runs/dcgan_mnist/<run_name>", "dcgan.png", n=64)

Images come back as uint8 arrays (n, 28, 28) (colour models: (n, H, W, 3)). A generator is
conditional when it has two inputs; its number of classes is the size of the ``Embedding`` or
``CategoryEncoding`` layer that reads the label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import keras
import numpy as np

from .image_data import to_uint8
from .plots import save_grid
from .translate import load_saved_model

GENERATOR_FILE = "generator.keras"  # what Run.finish saves


def load_run_generator(run_folder: str | Path) -> keras.Model:
    """The generator a run saved (``<run_folder>/generator.keras``, or a ``.keras`` file given directly),
    loaded once per file version."""
    path = Path(run_folder).expanduser()
    if path.suffix != ".keras":
        path = path / GENERATOR_FILE
    return load_saved_model(path, f"Pass the folder of a completed run (it holds {GENERATOR_FILE} after the "
                                  "notebook's last cell) or the path of a saved .keras generator.")


def is_conditional(generator: keras.Model) -> bool:
    """True for a generator that takes ``[noise, label]``, False for one that takes noise alone
    (also for any callable without declared ``inputs``, e.g. a subclassed model)."""
    try:
        inputs = generator.inputs
    except (AttributeError, ValueError):
        return False
    return inputs is not None and len(inputs) == 2


def latent_dim(generator: keras.Model) -> int:
    """The length of the generator's noise vector."""
    return int(generator.inputs[0].shape[-1])


def num_classes(generator: keras.Model) -> int:
    """How many classes a conditional generator knows: the size of its label's Embedding or
    CategoryEncoding layer."""
    if not is_conditional(generator):
        raise ValueError(f"{generator.name} takes noise only: it is not conditional, so it has no classes.")
    for layer in generator._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
        if isinstance(layer, keras.layers.CategoryEncoding):
            return int(layer.num_tokens)
    raise ValueError(f"{generator.name} has two inputs but no Embedding or CategoryEncoding layer to read its "
                     "number of classes from; build the label path with one of them.")


def generator_inputs(generator: keras.Model, noise: np.ndarray, labels: np.ndarray | None = None):
    """What to call ``generator`` with: the noise, or ``[noise, labels]`` for a conditional generator
    (``labels`` default: 0, 1, ..., num_classes - 1, 0, 1, ...: every class equally often)."""
    noise = np.asarray(noise, dtype=np.float32)
    if not is_conditional(generator):
        if labels is not None:
            raise ValueError(f"{generator.name} is unconditional (it takes noise only): leave out the labels.")
        return noise
    labels = balanced_labels(len(noise), num_classes(generator)) if labels is None else check_labels(
        labels, len(noise), num_classes(generator))
    return [noise, labels]


def balanced_labels(n: int, classes: int) -> np.ndarray:
    """``n`` labels cycling 0, 1, ..., classes - 1 (as int32): every class equally often (± 1)."""
    return (np.arange(n) % classes).astype(np.int32)


def check_labels(label: int | Sequence[int] | np.ndarray, n: int, classes: int) -> np.ndarray:
    """``label`` (one class for all ``n`` images, or one per image) as an int32 array of ``n`` labels,
    each a whole number in ``[0, classes)``; raises ValueError naming the bad value otherwise."""
    labels = np.asarray(label)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"label={label!r} must be a whole class number 0..{classes - 1} (or one per image).")
    if labels.ndim == 0:
        labels = np.full(n, int(labels))
    if labels.shape != (n,):
        raise ValueError(f"label has shape {labels.shape}: give one class for all {n} images, or exactly {n} labels.")
    bad = labels[(labels < 0) | (labels >= classes)]
    if len(bad):
        raise ValueError(f"label={int(bad[0])} is out of range: this generator knows classes 0..{classes - 1}.")
    return labels.astype(np.int32)


def class_grid_inputs(noise_dim: int, classes: int, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise and labels for a grid with one row per class and ``per_class`` columns: column j uses the
    same noise in every row, so a row shows one class and a column one "style"."""
    noise = np.random.default_rng(seed).standard_normal((per_class, noise_dim), dtype=np.float32)
    return np.tile(noise, (classes, 1)), np.repeat(np.arange(classes, dtype=np.int32), per_class)


def sample(run_folder: str | Path, n: int = 16, label: int | Sequence[int] | None = None, seed: int = 0) -> np.ndarray:
    """``n`` images from the generator a run saved, as uint8 (n, H, W) grey or (n, H, W, 3) colour.

    ``label``: for a conditional run, the class of every image (an int) or of each image (n ints);
    None gives every class in turn. An unconditional run takes no label. ``seed`` fixes the noise:
    the same call gives the same images.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n={n!r} must be a whole number of images, at least 1.")
    generator = load_run_generator(run_folder)
    if label is not None and not is_conditional(generator):
        raise ValueError(f"The generator of {run_folder} is unconditional (it takes noise only), so it cannot draw "
                         f"label={label!r}: call sample() without label, or pass a conditional run's folder.")
    noise = np.random.default_rng(seed).standard_normal((int(n), latent_dim(generator)), dtype=np.float32)
    labels = None if label is None else check_labels(label, int(n), num_classes(generator))
    images = keras.ops.convert_to_numpy(keras.ops.cast(generator(generator_inputs(generator, noise, labels),
                                                                 training=False), "float32"))
    images = to_uint8(images)
    return images[..., 0] if images.shape[-1] == 1 else images


def save_samples(run_folder: str | Path, path: str | Path, n: int = 64, label: int | Sequence[int] | None = None,
                 seed: int = 0, ncols: int | None = None) -> Path:
    """Draw ``n`` images with `sample` and save them as one PNG grid at ``path``; return the path.
    A conditional run without ``label`` gives one row per class (``n`` rounded down to whole rows)."""
    generator = load_run_generator(run_folder)
    if label is None and is_conditional(generator):
        classes = num_classes(generator)
        per_class = max(1, n // classes)
        noise, labels = class_grid_inputs(latent_dim(generator), classes, per_class, seed)
        images = keras.ops.convert_to_numpy(keras.ops.cast(generator([noise, labels], training=False), "float32"))
        return save_grid(images, path, ncols=per_class)
    images = sample(run_folder, n, label, seed).astype(np.float32) / 127.5 - 1.0
    return save_grid(images, path, ncols=ncols)
