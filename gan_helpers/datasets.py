"""Which images a DCGAN-family notebook trains on, at which size, and what its metrics compare them with.

One call, ``load_training_data(dataset, image_size, ...)``, for every ``dataset`` parameter choice:

==================  =====================  ======  ==========================================================
``dataset``         images                 labels  generated images are measured against
==================  =====================  ======  ==========================================================
``mnist``,          28×28 grey             10      the 10,000 test images; floor: training vs test images
``fashion_mnist``
``cifar10``         32×32 (or 64) colour   10      the 10,000 test images; floor: training vs test images
``celeba``          64×64 (or 32) colour   none    10,000 held-out faces; floor: training vs held-out faces
``folder``          64×64 (or 32) colour   class   every second image (a folder is often too small to hold
                                           folders images out: 1,072 Monets); floor: the other half
==================  =====================  ======  ==========================================================

Colour images are measured with the shipped CIFAR-10 classifier (`classifier.extractor_for`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .colour_data import CIFAR10_CLASSES, spread_over_classes, load_celeba, load_cifar10, load_image_folder
from .data import load_mnist_family
from .quality import to_model_range

DATASET_CHOICES = ("mnist", "fashion_mnist", "cifar10", "celeba", "folder")
GREY_DATASETS = ("mnist", "fashion_mnist")
NATIVE_SIZES = {"mnist": 28, "fashion_mnist": 28, "cifar10": 32, "celeba": 64, "folder": 64}
COLOUR_SIZES = (32, 64)
HELD_OUT_IMAGES = 10_000  # CelebA has no test split: this many faces are kept out of training for the metrics


@dataclass
class TrainingData:
    """The images to train on and the real images the metrics compare generated ones with.

    Attributes:
        images: uint8 training images, (N, 28, 28) grey or (N, size, size, 3) colour.
        labels: their classes (N,), or None when the dataset has none.
        test_images: float32 (M, H, W, C) in [-1, 1]: what generated images are measured against.
        floor_images: float32 real images, none of them in ``test_images``: measured against
            ``test_images`` they give the floor (what a perfect generator would score).
        reference: says in words what ``test_images`` are.
        class_names: the name of each class (empty without labels).
        test_labels, floor_labels: the classes of ``test_images`` and ``floor_images`` (None without labels).
    """

    images: np.ndarray
    labels: np.ndarray | None
    test_images: np.ndarray
    floor_images: np.ndarray
    reference: str
    class_names: list[str] = field(default_factory=list)
    test_labels: np.ndarray | None = None
    floor_labels: np.ndarray | None = None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(height, width, channels) of one image, as the networks see it."""
        return (*self.images.shape[1:3], 1 if self.images.ndim == 3 else self.images.shape[3])


def image_size_for(dataset: str, image_size: int = 0) -> int:
    """The side in pixels that ``dataset`` is trained at: ``image_size``, or its native size for 0.

    Raises ValueError for an unknown dataset, or a size the networks are not built for (the MNIST family
    only at 28, colour datasets at 32 or 64), saying what to pass instead.
    """
    if dataset not in DATASET_CHOICES:
        raise ValueError(f"dataset={dataset!r} is not one of {DATASET_CHOICES}.")
    if image_size == 0:
        return NATIVE_SIZES[dataset]
    allowed = (28,) if dataset in GREY_DATASETS else COLOUR_SIZES
    if image_size not in allowed:
        raise ValueError(f"image_size={image_size} does not fit dataset={dataset!r}: use "
                         f"{' or '.join(map(str, allowed))}, or 0 for its own size ({NATIVE_SIZES[dataset]}).")
    return image_size


# What learning rates of 0 and ``lr_decay`` "auto" become, by the kind of data (measured: the DCGAN
# notebook's table of defaults and benchmarks/README.md). On CIFAR-10 the MNIST rates of 6e-4 made the
# discriminator win and the generator collapse after 53 minutes; at 2e-4 it did not.
TRAINING_DEFAULTS = {
    "grey": {"g_learning_rate": 6e-4, "d_learning_rate": 6e-4, "lr_decay": "none"},
    "colour": {"g_learning_rate": 2e-4, "d_learning_rate": 2e-4, "lr_decay": "linear"},
}


def with_training_defaults(params: dict) -> dict:
    """``params`` with learning rates of 0 and ``lr_decay`` "auto" replaced by `TRAINING_DEFAULTS`
    for the kind of ``dataset`` (grey MNIST-family or colour); values set by the user stay."""
    defaults = TRAINING_DEFAULTS["grey" if params["dataset"] in GREY_DATASETS else "colour"]
    filled = dict(params)
    for name, value in defaults.items():
        if name in filled and filled[name] in (0, "auto"):
            filled[name] = value
    return filled


def load_training_data(dataset: str, image_size: int = 0, *, cache_dir: str | Path,
                       data_dir: str | Path | None = None, source: str | None = None,
                       limit: int | None = None) -> TrainingData:
    """Load ``dataset`` (one of ``DATASET_CHOICES``) at ``image_size`` (`image_size_for`).

    ``data_dir``: a local folder to read instead of downloading (the MNIST ``.gz`` files, the CIFAR-10
    archive or its ``train/<class>/`` folders, CelebA's JPEGs); required for ``folder``, whose images it
    holds (class sub-folders become labels). ``source``: where to fetch from when nothing is local
    (the CIFAR-10 archive, or CelebA's ``img_align_celeba.zip``: a URL or a path, e.g. on Drive).
    ``limit``: train on at most this many images (spread over the classes); the real images the
    metrics use are not limited.
    """
    size = image_size_for(dataset, image_size)
    if dataset in GREY_DATASETS:
        images, labels = load_mnist_family(dataset, "train", limit=limit, cache_dir=cache_dir, data_dir=data_dir)
        test_images, test_labels = load_mnist_family(dataset, "test", cache_dir=cache_dir, data_dir=data_dir)
        return TrainingData(images, labels, to_model_range(test_images), to_model_range(images),
                            f"the {len(test_images):,} test images", [], test_labels, labels)
    if dataset == "cifar10":
        images, labels = load_cifar10("train", cache_dir=cache_dir, data_dir=data_dir, source=source or None)
        test_images, test_labels = load_cifar10("test", cache_dir=cache_dir, data_dir=data_dir, source=source or None)
        keep = spread_over_classes(labels, limit)
        images, labels = _resized(images[keep], size), labels[keep]
        return TrainingData(images, labels, to_model_range(_resized(test_images, size)), to_model_range(images),
                            f"the {len(test_images):,} test images", list(CIFAR10_CLASSES), test_labels, labels)
    if dataset == "celeba":
        faces = load_celeba(size, cache_dir=cache_dir, data_dir=data_dir, source=source or None)
        held_out = min(HELD_OUT_IMAGES, len(faces) // 2)
        images = faces[:len(faces) - held_out][:limit]
        floor = np.random.default_rng(0).choice(len(images), size=min(HELD_OUT_IMAGES, len(images)), replace=False)
        return TrainingData(images, None, to_model_range(faces[len(faces) - held_out:]),
                            to_model_range(images[np.sort(floor)]), f"the last {held_out:,} faces, kept out of training")
    if not data_dir:
        raise ValueError("dataset='folder' trains on a folder of your own images: set data_dir to it "
                         "(in Colab e.g. /content/drive/MyDrive/my_paintings; class sub-folders become labels).")
    images, labels, names = load_image_folder(data_dir, size)
    # A folder is often too small to hold images out (1,072 Monet paintings): the generator is measured
    # against every second image, and the floor is the other half against those.
    halves = [to_model_range(images[start::2]) for start in (0, 1)]
    half_labels = [None, None] if labels is None else [labels[0::2], labels[1::2]]
    keep = np.arange(len(images))[:limit] if labels is None else spread_over_classes(labels, limit)
    return TrainingData(images[keep], None if labels is None else labels[keep], halves[1], halves[0],
                        f"every second one of the {len(images):,} images in {data_dir} (half of the training set)",
                        names, half_labels[1], half_labels[0])


def _resized(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N, H, W, 3) at ``size``×``size`` (bicubic, as the image loaders resize); unchanged if already."""
    if images.shape[1:3] == (size, size):
        return images
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))
                     for image in images])
