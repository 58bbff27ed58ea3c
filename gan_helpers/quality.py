"""How good is a generator? Metrics on generated images, always shown beside the floor.

The MNIST-family measures use a small classifier shipped with the package
(`gan_helpers.classifier`): its 128-d features give a Fréchet distance (FID-style), KID and
precision/recall; its class probabilities give class coverage and the classifier score
(Inception-Score-style). Every result records the extractor's name and weights hash and the
sample count: numbers from another extractor or sample count are not comparable.

The **floor** is the same metrics for real training images against real test images with the
same sample count: what a perfect generator would score.

A class-conditional generator (inputs ``[noise, label]``) is asked for every class equally often and
also gets the *conditional accuracy* (the classifier sees the class asked for) and the *intra-class
Fréchet distance* (per class, against the real test images of that class, averaged); for an
unconditional generator those two are None, so every summary carries the same metric names.

Inception-based FID/KID (`inception_metrics`) need the ImageNet weights of InceptionV3, which
Keras downloads; where they cannot be fetched the function says so in one line and returns None.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from . import metrics
from .checkpoints import save_checkpoint
from .classifier import Extractor
from .files import set_aside, write_atomically
from .image_data import rgb_to_model_range
from .performance import float32_policy
from .plots import new_figure, save_figure
from .sampling import balanced_labels, generator_inputs, is_conditional, num_classes

# The full evaluation at the end of a run, and the cheaper one every few epochs during training.
FULL_EVALUATION_SAMPLES = 10_000
TRAINING_EVALUATION_SAMPLES = 2_000

# Which way is better, per metric (used for the "best" checkpoint).
HIGHER_IS_BETTER = {"classifier_score": True, "precision": True, "recall": True, "classes_covered": True,
                    "frechet_distance": False, "kid": False, "kl_from_uniform": False,
                    "conditional_accuracy": True, "intra_class_frechet_distance": False}


def generate_images(generator: keras.Model, num_images: int, latent_dim: int, seed: int,
                    batch_size: int = 1000, labels: np.ndarray | None = None) -> np.ndarray:
    """``num_images`` float32 images from ``generator`` (inference mode) for fixed seeded noise; float32
    whatever precision the generator computes in (a mixed-precision output layer gives bfloat16).
    A conditional generator gets ``labels`` (default: every class in turn, `sampling.balanced_labels`)."""
    noise = np.random.default_rng(seed).standard_normal((num_images, latent_dim), dtype=np.float32)
    inputs = generator_inputs(generator, noise, labels)
    batches = []
    for i in range(0, num_images, batch_size):
        part = [x[i:i + batch_size] for x in inputs] if isinstance(inputs, list) else inputs[i:i + batch_size]
        batches.append(keras.ops.convert_to_numpy(keras.ops.cast(generator(part, training=False), "float32")))
    return np.concatenate(batches)




def to_model_range(images: np.ndarray) -> np.ndarray:
    """uint8 images, (N, H, W) grey or (N, H, W, 3) colour, as the float32 (N, H, W, C) in [-1, 1] the models see."""
    images = rgb_to_model_range(np.asarray(images))
    return images[..., np.newaxis] if images.ndim == 3 else images


def spread_indices(count: int, num_samples: int) -> np.ndarray:
    """Indices of ``min(num_samples, count)`` items spread evenly over ``range(count)``, in order.

    The real reference images are taken this way, not as the first ``num_samples``: a test split read
    from ``<class>/`` folders is sorted by class, and its first 2,000 CIFAR-10 images are all aeroplanes
    and cars. Spreading keeps every class in its share, and is the whole set when ``num_samples >= count``.
    """
    return np.linspace(0, count, min(num_samples, count), endpoint=False).astype(int)


def compare(fake_images: np.ndarray, real_images: np.ndarray, extractor: Extractor,
            kid_subsets: int = 100, fake_labels: np.ndarray | None = None,
            real_labels: np.ndarray | None = None) -> dict:
    """Every classifier metric for ``fake_images`` against ``real_images`` (both in [-1, 1]).

    With ``fake_labels`` (the classes the images should show) also the conditional accuracy, and with
    ``real_labels`` too the intra-class Fréchet distance; otherwise those two are None.
    """
    fake_features, fake_probabilities = extractor.features_and_probabilities(fake_images)
    real_features, _ = extractor.features_and_probabilities(real_images)
    kid_mean, kid_std = metrics.kernel_inception_distance(
        real_features, fake_features, num_subsets=kid_subsets, subset_size=min(1000, len(fake_images), len(real_images)))
    precision, recall = metrics.precision_recall(real_features, fake_features, k=3)
    coverage = metrics.class_coverage(fake_probabilities)
    score, score_std = metrics.classifier_score(fake_probabilities)
    conditional = {"conditional_accuracy": None, "intra_class_frechet_distance": None}
    if fake_labels is not None:
        conditional["conditional_accuracy"] = metrics.conditional_accuracy(fake_probabilities, fake_labels)
        if real_labels is not None:
            mean, per_class = metrics.intra_class_frechet_distance(real_features, real_labels, fake_features, fake_labels,
                                                                  num_classes=fake_probabilities.shape[1])
            conditional.update(intra_class_frechet_distance=mean, intra_class_frechet_distances=per_class)
    return {
        "frechet_distance": metrics.frechet_distance(real_features, fake_features),
        "kid": kid_mean, "kid_std": kid_std,
        "precision": precision, "recall": recall,
        "classifier_score": score, "classifier_score_std": score_std,
        "classes_covered": coverage["classes_covered"], "kl_from_uniform": coverage["kl_from_uniform"],
        "class_histogram": coverage["class_histogram"], **conditional,
        "num_samples": len(fake_images), "num_reference": len(real_images),
        "extractor": extractor.describe(),
    }


def quality_floor(train_images: np.ndarray, test_images: np.ndarray, extractor: Extractor, num_samples: int,
          seed: int = 0, train_labels: np.ndarray | None = None, test_labels: np.ndarray | None = None) -> dict:
    """The metrics of real training images (a random ``num_samples``) against the real test images.
    With both label arrays, also the conditional metrics of real images (their own labels asked for)."""
    pick = np.random.default_rng(seed).choice(len(train_images), size=min(num_samples, len(train_images)), replace=False)
    labelled = train_labels is not None and test_labels is not None
    real = spread_indices(len(test_images), num_samples)
    return compare(train_images[pick], test_images[real], extractor,
                   fake_labels=np.asarray(train_labels)[pick] if labelled else None,
                   real_labels=np.asarray(test_labels)[real] if labelled else None)


def evaluate_generator(generator: keras.Model, latent_dim: int, test_images: np.ndarray, extractor: Extractor,
                       num_samples: int = FULL_EVALUATION_SAMPLES, seed: int = 0,
                       test_labels: np.ndarray | None = None) -> dict:
    """Generate ``num_samples`` images and compare them with as many real test images.

    A conditional generator is asked for every class equally often, and needs ``test_labels`` (the
    test images' classes) for the intra-class Fréchet distance.
    """
    real = spread_indices(len(test_images), num_samples)
    if not is_conditional(generator):
        fake = generate_images(generator, num_samples, latent_dim, seed)
        return compare(fake, test_images[real], extractor)
    if test_labels is None:
        raise ValueError(f"{generator.name} is conditional: pass test_labels= (the test images' classes) so the "
                         "intra-class Fréchet distance can compare each class with its own real images.")
    labels = balanced_labels(num_samples, num_classes(generator))  # every class equally often
    fake = generate_images(generator, num_samples, latent_dim, seed, labels=labels)
    return compare(fake, test_images[real], extractor, fake_labels=labels, real_labels=np.asarray(test_labels)[real])


def metrics_table(model: dict, real_floor: dict, model_name: str = "model") -> str:
    """A Markdown table: each metric for the model beside the real-vs-real floor."""
    rows = [("Fréchet distance (classifier features) ↓", "frechet_distance", "{:.3f}"),
            ("KID ↓", "kid", "{:.4f}"),
            ("precision ↑", "precision", "{:.3f}"),
            ("recall ↑", "recall", "{:.3f}"),
            ("classifier score ↑", "classifier_score", "{:.3f}"),
            ("classes covered ↑", "classes_covered", "{:d}"),
            ("KL(class histogram ‖ uniform) ↓", "kl_from_uniform", "{:.4f}")]
    lines = [f"| metric | {model_name} | real train vs real test (floor) |", "|---|---|---|"]
    if model.get("conditional_accuracy") is not None:
        rows += [("conditional accuracy ↑", "conditional_accuracy", "{:.3f}"),
                 ("intra-class Fréchet distance ↓", "intra_class_frechet_distance", "{:.3f}")]

    def cell(record: dict, key: str, fmt: str) -> str:
        return "–" if record.get(key) is None else fmt.format(record[key])

    lines += [f"| {label} | {cell(model, key, fmt)} | {cell(real_floor, key, fmt)} |" for label, key, fmt in rows]
    extractor = model["extractor"]
    lines.append(f"\n{model['num_samples']:,} generated vs {model['num_reference']:,} test images; "
                 f"extractor {extractor['name']} (weights sha256 {extractor['weights_sha256'][:12]}…).")
    return "\n".join(lines)


def plot_class_histogram(histogram: list[float], path: str | Path, title: str = "Predicted classes of generated images") -> Path:
    """Bar chart of the fraction of generated images per predicted class, with the uniform level."""
    figure = new_figure(6, 3)
    axes = figure.add_subplot()
    axes.bar(range(len(histogram)), histogram, color="tab:blue")
    axes.axhline(1 / len(histogram), color="black", linestyle="--", linewidth=1, label="uniform")
    axes.set(xticks=range(len(histogram)), xlabel="predicted class", ylabel="fraction", title=title)
    axes.legend()
    figure.tight_layout()
    return save_figure(figure, path)


class QualityDuringTraining(keras.callbacks.Callback):
    """Keras callback: every ``every`` epochs, evaluate the generator on ``num_samples`` images,
    add the metrics to the epoch's logs (so metrics.csv records them; put this callback before
    the run's callbacks), and keep the evaluated generator's weights (only those: training does not
    resume from them) in ``checkpoints/best.npz`` for the best value of ``best_metric``
    (``gh.load_checkpoint(path, generator)`` loads them).

    The best value so far is kept in ``checkpoints/best.json``, so it survives a resume. A damaged
    ``best.json`` is found when the callback is made (before training), set aside as
    ``best.json.damaged-<time>`` with a warning, and the best record starts afresh at the next
    evaluation (which then replaces ``best.npz``).
    """

    LOGGED = ("frechet_distance", "kid", "precision", "recall", "classifier_score", "classes_covered",
              "conditional_accuracy", "intra_class_frechet_distance")  # the last two: conditional generators

    def __init__(self, generator: keras.Model, latent_dim: int, test_images: np.ndarray, extractor: Extractor,
                 checkpoints_dir: str | Path, every: int = 1, num_samples: int = TRAINING_EVALUATION_SAMPLES,
                 best_metric: str = "frechet_distance", test_labels: np.ndarray | None = None):
        super().__init__()
        if best_metric not in HIGHER_IS_BETTER:
            raise ValueError(f"best_metric={best_metric!r}: choose one of {', '.join(HIGHER_IS_BETTER)}.")
        if every < 1:
            raise ValueError(f"every={every}: evaluate at least every 1 epoch.")
        self.generator, self.latent_dim, self.extractor = generator, latent_dim, extractor
        real = spread_indices(len(test_images), num_samples)  # every class in its share
        self.test_images = test_images[real]
        self.test_labels = None if test_labels is None else np.asarray(test_labels)[real]
        self.every, self.num_samples, self.best_metric = every, num_samples, best_metric
        self.best_path = Path(checkpoints_dir) / "best.npz"
        self.best_record_path = Path(checkpoints_dir) / "best.json"
        try:
            self.best_record(checkpoints_dir)
        except ValueError as error:
            aside = set_aside(self.best_record_path)
            print(f"Warning: {error}. It was set aside as {aside.name}; the best record starts afresh at the next "
                  "evaluation, which replaces best.npz.")

    @staticmethod
    def best_record(checkpoints_dir: str | Path) -> dict | None:
        """What ``checkpoints/best.json`` says (epoch, metric, value), or None before any evaluation.
        Raises ValueError naming the file if it is damaged."""
        path = Path(checkpoints_dir) / "best.json"
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict):
                raise ValueError(f"it holds {type(record).__name__}, not an object")
            if not isinstance(record.get("epoch"), int) or not isinstance(record.get("value"), (int, float)):
                raise ValueError('its "epoch" or "value" is missing or not a number')
        except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ValueError(f"{path} is damaged ({type(error).__name__}: {error})") from error
        return record

    def best_so_far(self) -> dict | None:
        return self.best_record(self.best_path.parent)

    def on_epoch_end(self, epoch, logs=None):
        completed = epoch + 1
        if completed % self.every and completed != self.params.get("epochs"):
            return
        result = evaluate_generator(self.generator, self.latent_dim, self.test_images, self.extractor, self.num_samples,
                                    test_labels=self.test_labels)
        if logs is not None:
            logs.update({f"q_{name}": float(result[name]) for name in self.LOGGED if result.get(name) is not None})
        value, best = result[self.best_metric], self.best_so_far()
        better = best is None or (value > best["value"] if HIGHER_IS_BETTER[self.best_metric] else value < best["value"])
        if better:
            save_checkpoint(self.best_path, self.generator, completed)  # the generator's weights only
            record = {"epoch": completed, "metric": self.best_metric, "value": float(value), "num_samples": self.num_samples}
            write_atomically(self.best_record_path, json.dumps(record, indent=2))


# The file and hash keras.applications.InceptionV3 itself downloads, so that both share Keras's cache.
INCEPTION_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
                         "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
INCEPTION_WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"


def load_inception(weights: str | None = "imagenet",
                   note: str = "The classifier metrics above still apply.") -> keras.Model | None:
    """InceptionV3 up to its 2048-d average-pooled features, or None with a one-line message (ending
    with ``note``) when the ImageNet weights cannot be loaded (no internet). ``weights=None``:
    untrained, for tests only."""
    try:
        if weights == "imagenet":  # fetched (or found in Keras's cache) first: offline, nothing is built
            weights = keras.utils.get_file(INCEPTION_WEIGHTS_URL.rsplit("/", 1)[1], INCEPTION_WEIGHTS_URL,
                                           cache_subdir="models", file_hash=INCEPTION_WEIGHTS_MD5)
        with float32_policy():  # the protocol's network, whatever the training precision
            return keras.applications.InceptionV3(include_top=False, weights=weights, pooling="avg",
                                                  input_shape=(299, 299, 3))
    except Exception as error:  # noqa: BLE001 - any failure to fetch/load weights means: skip
        print(f"Inception metrics skipped: the InceptionV3 ImageNet weights could not be loaded "
              f"({type(error).__name__}: {str(error)[:120]}). {note}".rstrip())
        return None


def inception_features(network: keras.Model, images: np.ndarray, batch_size: int = 100) -> np.ndarray:
    """2048-d features of images in [-1, 1] (InceptionV3's own input range): grey tiled to 3
    channels, bilinear resize to 299×299. Returns float64 (N, 2048)."""
    out = []
    for start in range(0, len(images), batch_size):
        batch = keras.ops.convert_to_tensor(np.asarray(images[start:start + batch_size], dtype=np.float32))
        if batch.shape[-1] == 1:
            batch = keras.ops.repeat(batch, 3, axis=-1)
        batch = keras.ops.image.resize(batch, (299, 299), interpolation="bilinear")
        out.append(keras.ops.convert_to_numpy(network(batch, training=False)))
    return np.concatenate(out).astype(np.float64)


def inception_metrics(fake_images: np.ndarray, real_images: np.ndarray, weights: str | None = "imagenet",
                      batch_size: int = 100) -> dict | None:
    """FID and KID in InceptionV3 pool features (2048-d), or None with a one-line message when the
    ImageNet weights cannot be loaded (no internet).

    Protocol: images in [-1, 1] (InceptionV3's own input range), grey tiled to 3 channels,
    bilinear resize to 299×299. Use ≥ 10,000 samples for FID; KID is fine with fewer.
    ``weights=None`` builds an untrained network (for tests only: its numbers mean nothing).
    """
    network = load_inception(weights)
    if network is None:
        return None
    fake = inception_features(network, fake_images, batch_size)
    real = inception_features(network, real_images, batch_size)
    kid_mean, kid_std = metrics.kernel_inception_distance(real, fake, subset_size=min(1000, len(fake), len(real)))
    return {"inception_fid": metrics.frechet_distance(real, fake), "inception_kid": kid_mean,
            "inception_kid_std": kid_std, "num_samples": len(fake_images), "weights": weights}
