"""GAN quality metrics, as plain math on arrays of features and class probabilities.

A feature extractor (for example a small MNIST classifier) turns images into

- ``features``: an array of shape ``(num_samples, feature_dim)``, and
- ``probabilities``: an array of shape ``(num_samples, num_classes)`` whose rows sum to 1.

The functions here compare a real set with a generated ("fake") set:

- ``frechet_distance``: FID-style distance between two Gaussians fitted to the features (0 = same
  mean and covariance; lower is better).
- ``kernel_inception_distance``: KID, an unbiased squared MMD with a cubic polynomial kernel,
  averaged over random subsets; returns (mean, std). Close to 0 (possibly slightly negative) when
  both sets come from one distribution.
- ``precision_recall``: how much of the fake set lies on the real data (precision, "quality") and
  how much of the real data the fakes reach (recall, "coverage"), from k-nearest-neighbour balls.
- ``class_coverage``: which classes the fakes fall into, and how far that histogram is from uniform.
- ``classifier_score``: Inception-Score-style ``exp(E_x KL(p(y|x) || p(y)))``; up to
  ``num_classes`` for confident and varied predictions, 1 for uninformative ones.
- ``conditional_accuracy`` and ``intra_class_frechet_distance``: for class-conditional generators,
  how often the classifier sees the class that was asked for, and the Fréchet distance per class
  (generated images of class c against real images of class c), averaged over the classes.
- ``memorization_distance`` and ``mifid``: MiFID (Kaggle's "I'm Something of a Painter Myself"),
  the Fréchet distance divided by how close the fakes come to copying training images, when they
  come closer than a threshold.

Everything is numpy + scipy. Inputs are checked first; a bad input raises ``ValueError`` naming the
bad value and what to do about it.
"""

from __future__ import annotations

import numpy as np
from scipy.special import rel_entr

# precision_recall computes pairwise distances a block of rows at a time; one block of float32
# distances takes at most this many bytes (a few temporaries of the same size exist alongside).
DISTANCE_BLOCK_BYTES = 64 * 1024 * 1024

# classifier_score accepts rows whose sum is within this of 1 (float32 softmax outputs are not exact).
PROBABILITY_SUM_TOLERANCE = 1e-3


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------

def check_features(name: str, features: np.ndarray, minimum_samples: int = 2) -> np.ndarray:
    """Return ``features`` as a float64 array of shape (num_samples, feature_dim), or raise ValueError.

    It must be 2-D, hold at least ``minimum_samples`` rows and at least one column, and contain
    only finite numbers.
    """
    features = np.asarray(features)
    if features.ndim != 2:
        raise ValueError(
            f"{name} has shape {features.shape}; expected a 2-D array (num_samples, feature_dim). "
            f"Flatten each sample first, e.g. {name}.reshape(len({name}), -1)."
        )
    if not np.issubdtype(features.dtype, np.number):
        raise ValueError(f"{name} has dtype {features.dtype}; expected numbers (float features).")
    num_samples, feature_dim = features.shape
    if num_samples < minimum_samples:
        raise ValueError(
            f"{name} has {num_samples} sample(s); at least {minimum_samples} are needed. Pass more samples."
        )
    if feature_dim < 1:
        raise ValueError(f"{name} has shape {features.shape}: feature_dim is 0; pass at least one feature.")
    features = features.astype(np.float64, copy=False)
    if not np.all(np.isfinite(features)):
        bad_row = int(np.argwhere(~np.isfinite(features))[0, 0])
        raise ValueError(
            f"{name} contains NaN or infinite values (first in row {bad_row}); "
            "remove those samples or fix the model producing them."
        )
    return features


def check_same_feature_dim(name_a: str, features_a: np.ndarray, name_b: str, features_b: np.ndarray) -> None:
    """Raise ValueError unless both arrays have the same number of columns."""
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            f"{name_a} has feature_dim {features_a.shape[1]} but {name_b} has {features_b.shape[1]}; "
            "both sets must come from the same feature extractor layer."
        )


def check_positive_int(name: str, value: int, minimum: int = 1) -> int:
    """``value`` must be a whole number (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}={value!r} must be a whole number (an int).")
    if value < minimum:
        raise ValueError(f"{name}={value} is too small; it must be at least {minimum}.")
    return int(value)


def check_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Return ``probabilities`` as float64 (num_samples, num_classes) with rows summing to 1, or raise."""
    probabilities = check_features("probabilities", probabilities, minimum_samples=1)
    if np.any(probabilities < 0):
        bad_row = int(np.argwhere(probabilities < 0)[0, 0])
        raise ValueError(
            f"probabilities has negative entries (first in row {bad_row}: {probabilities[bad_row].tolist()}); "
            "these look like logits: apply a softmax first."
        )
    row_sums = probabilities.sum(axis=1)
    off = np.abs(row_sums - 1.0) > PROBABILITY_SUM_TOLERANCE
    if np.any(off):
        bad_row = int(np.argmax(off))
        raise ValueError(
            f"probabilities rows must sum to 1, but row {bad_row} sums to {row_sums[bad_row]:.6g} "
            f"({int(off.sum())} row(s) off by more than {PROBABILITY_SUM_TOLERANCE}); apply a softmax first."
        )
    return probabilities


# --------------------------------------------------------------------------------------------------
# Fréchet distance (FID-style)
# --------------------------------------------------------------------------------------------------

def symmetric_matrix_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix, via its eigen-decomposition.

    Eigenvalues that rounding pushed slightly below 0 are treated as 0.
    """
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    root_eigenvalues = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return (eigenvectors * root_eigenvalues) @ eigenvectors.T


def trace_sqrt_product(sigma_a: np.ndarray, sigma_b: np.ndarray) -> float:
    """Tr((sigma_a @ sigma_b)^{1/2}) for symmetric positive semi-definite matrices.

    ``sigma_a @ sigma_b`` is not symmetric, but it has the same eigenvalues as the symmetric
    ``sqrt(sigma_a) @ sigma_b @ sqrt(sigma_a)``, so the trace of its square root is the sum of the
    square roots of those (real, non-negative) eigenvalues. This avoids the complex values and the
    instability of a general matrix square root.
    """
    sqrt_a = symmetric_matrix_sqrt(sigma_a)
    middle = sqrt_a @ sigma_b @ sqrt_a
    middle = (middle + middle.T) / 2  # remove rounding asymmetry
    eigenvalues = np.linalg.eigvalsh(middle)
    return float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))


def frechet_distance_from_stats(mu_a: np.ndarray, sigma_a: np.ndarray,
                                mu_b: np.ndarray, sigma_b: np.ndarray) -> float:
    """Fréchet distance between the Gaussians N(mu_a, sigma_a) and N(mu_b, sigma_b).

    ``||mu_a - mu_b||^2 + Tr(sigma_a + sigma_b - 2 (sigma_a sigma_b)^{1/2})``, in float64.
    ``mu_*`` have shape (D,), ``sigma_*`` shape (D, D) (symmetric, e.g. ``np.cov(f, rowvar=False)``).
    A tiny negative result from rounding is returned as 0.
    """
    arrays = {"mu_a": mu_a, "sigma_a": sigma_a, "mu_b": mu_b, "sigma_b": sigma_b}
    arrays = {name: np.asarray(value, dtype=np.float64) for name, value in arrays.items()}
    if arrays["mu_a"].ndim != 1:
        raise ValueError(f"mu_a has shape {arrays['mu_a'].shape}; expected a 1-D mean vector (D,).")
    feature_dim = len(arrays["mu_a"])
    for name, value in arrays.items():
        expected = (feature_dim,) if name.startswith("mu") else (feature_dim, feature_dim)
        if value.shape != expected:
            raise ValueError(
                f"{name} has shape {value.shape}, expected {expected} to match mu_a of shape ({feature_dim},); "
                "means must be (D,) and covariances (D, D) from features of the same dimension."
            )
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} contains NaN or infinite values; check the features it was computed from.")
    for name in ("sigma_a", "sigma_b"):
        sigma = arrays[name]
        scale = max(float(np.max(np.abs(sigma))), 1e-300)
        if np.max(np.abs(sigma - sigma.T)) > 1e-6 * scale:
            raise ValueError(f"{name} is not symmetric; pass a covariance matrix such as np.cov(features, rowvar=False).")
        arrays[name] = (sigma + sigma.T) / 2

    mean_term = float(np.sum((arrays["mu_a"] - arrays["mu_b"]) ** 2))
    trace_term = (np.trace(arrays["sigma_a"]) + np.trace(arrays["sigma_b"])
                  - 2.0 * trace_sqrt_product(arrays["sigma_a"], arrays["sigma_b"]))
    return max(0.0, mean_term + float(trace_term))


def mean_and_covariance(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of float64 features (num_samples, D)."""
    mu = features.mean(axis=0)
    centered = features - mu
    sigma = centered.T @ centered / (len(features) - 1)
    return mu, sigma


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (FID when the features are Inception's).

    Each set is (num_samples, D) with at least 2 samples (a covariance needs 2) and the same D.
    Symmetric; 0 for identical sets. Computed in float64.
    """
    features_a = check_features("features_a", features_a)
    features_b = check_features("features_b", features_b)
    check_same_feature_dim("features_a", features_a, "features_b", features_b)
    mu_a, sigma_a = mean_and_covariance(features_a)
    mu_b, sigma_b = mean_and_covariance(features_b)
    return frechet_distance_from_stats(mu_a, sigma_a, mu_b, sigma_b)


# --------------------------------------------------------------------------------------------------
# Kernel Inception Distance (KID)
# --------------------------------------------------------------------------------------------------

def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The KID kernel ``k(x, y) = (x.y / D + 1)^3`` for every pair of rows: shape (len(x), len(y))."""
    kernel = x @ y.T  # numpy uses the faster symmetric product when y is x
    kernel /= x.shape[1]
    kernel += 1.0
    cubed = kernel * kernel  # two multiplications: much faster than kernel ** 3
    cubed *= kernel
    return cubed


def unbiased_mmd_squared(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased estimate of MMD^2 between the samples x and y (same size m >= 2), KID's cubic kernel.

    Within-set averages leave out the diagonal (a point against itself), which makes the
    estimate unbiased, so it can be slightly negative when both sets come from one distribution.
    """
    m = len(x)
    kernel_xx = polynomial_kernel(x, x)
    kernel_yy = polynomial_kernel(y, y)
    kernel_xy = polynomial_kernel(x, y)
    within_x = (kernel_xx.sum() - np.trace(kernel_xx)) / (m * (m - 1))
    within_y = (kernel_yy.sum() - np.trace(kernel_yy)) / (m * (m - 1))
    between = kernel_xy.sum() / (m * m)
    return float(within_x + within_y - 2.0 * between)


def kernel_inception_distance(features_a: np.ndarray, features_b: np.ndarray, num_subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID: unbiased MMD^2 with kernel ``(x.y / D + 1)^3``, averaged over random subsets.

    Each of ``num_subsets`` rounds draws ``subset_size`` rows without replacement from each set
    (``subset_size`` is capped at the smaller set's size) and computes the unbiased MMD^2.
    Returns ``(mean, std)`` over the rounds (std with ddof=0, 0 for a single round). The same
    ``seed`` gives the same result.
    """
    features_a = check_features("features_a", features_a)
    features_b = check_features("features_b", features_b)
    check_same_feature_dim("features_a", features_a, "features_b", features_b)
    num_subsets = check_positive_int("num_subsets", num_subsets)
    subset_size = check_positive_int("subset_size", subset_size, minimum=2)
    subset_size = min(subset_size, len(features_a), len(features_b))

    rng = np.random.default_rng(seed)
    mmd_values = np.empty(num_subsets)
    for round_index in range(num_subsets):
        rows_a = rng.choice(len(features_a), size=subset_size, replace=False)
        rows_b = rng.choice(len(features_b), size=subset_size, replace=False)
        mmd_values[round_index] = unbiased_mmd_squared(features_a[rows_a], features_b[rows_b])
    return float(mmd_values.mean()), float(mmd_values.std())


# --------------------------------------------------------------------------------------------------
# Precision and recall (Kynkäänniemi et al. 2019)
# --------------------------------------------------------------------------------------------------

def squared_distance_blocks(queries: np.ndarray, points: np.ndarray):
    """Yield ``(row_slice, squared_distances)`` from every query row to every point, a block of rows at a time.

    Uses ``||q||^2 + ||p||^2 - 2 q.p`` with a float32 matrix product, clipped at 0. Each block is
    (block_rows, len(points)) float32 of at most ``DISTANCE_BLOCK_BYTES``.
    """
    point_norms = np.einsum("ij,ij->i", points, points)
    query_norms = np.einsum("ij,ij->i", queries, queries)
    block_rows = max(1, DISTANCE_BLOCK_BYTES // (4 * len(points)))
    for start in range(0, len(queries), block_rows):
        rows = slice(start, start + block_rows)
        distances = queries[rows] @ points.T
        distances *= -2.0
        distances += query_norms[rows, None]
        distances += point_norms[None, :]
        np.maximum(distances, 0.0, out=distances)
        yield rows, distances


def squared_knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each row to its k-th nearest other row of the same set."""
    radii = np.empty(len(features), dtype=np.float32)
    for rows, distances in squared_distance_blocks(features, features):
        block_indices = np.arange(rows.start, rows.start + len(distances))
        distances[np.arange(len(distances)), block_indices] = 0.0  # a point is its own 0-th neighbour
        radii[rows] = np.partition(distances, k, axis=1)[:, k]
    return radii


def precision_recall(real_features: np.ndarray, fake_features: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of fakes against reals.

    Around every real point draw a ball whose radius is the distance to its k-th nearest real
    neighbour (itself excluded); the union of balls approximates the real data manifold.

    - precision: fraction of fake points inside at least one real ball;
    - recall: fraction of real points inside at least one fake ball (radii from the fakes).

    Both sets need more than ``k`` samples and the same feature dim. Distances are computed in
    memory-bounded blocks (``DISTANCE_BLOCK_BYTES``) with float32 matrix products; features are
    first centred on the real mean, which leaves distances unchanged but reduces rounding.
    """
    real_features = check_features("real_features", real_features)
    fake_features = check_features("fake_features", fake_features)
    check_same_feature_dim("real_features", real_features, "fake_features", fake_features)
    k = check_positive_int("k", k)
    smallest_set = min(len(real_features), len(fake_features))
    if k >= smallest_set:
        raise ValueError(
            f"k={k} needs more than k samples in each set, but the smaller set has {smallest_set}; "
            "lower k or pass more samples."
        )

    center = real_features.mean(axis=0)
    real = (real_features - center).astype(np.float32)
    fake = (fake_features - center).astype(np.float32)
    real_radii = squared_knn_radii(real, k)
    fake_radii = squared_knn_radii(fake, k)

    fake_inside_real_balls = np.zeros(len(fake), dtype=bool)
    real_inside_fake_balls = np.zeros(len(real), dtype=bool)
    for rows, distances in squared_distance_blocks(fake, real):  # distances[i, j]: fake i to real j
        fake_inside_real_balls[rows] = np.any(distances <= real_radii[None, :], axis=1)
        real_inside_fake_balls |= np.any(distances <= fake_radii[rows, None], axis=0)
    return float(fake_inside_real_balls.mean()), float(real_inside_fake_balls.mean())


# --------------------------------------------------------------------------------------------------
# Class-based metrics
# --------------------------------------------------------------------------------------------------

def class_coverage(probabilities: np.ndarray) -> dict:
    """How the predicted classes (argmax of each row) of a sample set spread over the classes.

    ``probabilities`` is (num_samples, num_classes); only the argmax is used, so logits work too.
    Returns a dict with

    - ``"classes_covered"``: number of classes predicted for at least one sample;
    - ``"class_histogram"``: fraction of samples per class, a list of length num_classes;
    - ``"kl_from_uniform"``: KL(histogram || uniform) in nats, 0 when every class is equally
      frequent, ln(num_classes) when all samples fall into one class (0 log 0 counts as 0).
    """
    probabilities = check_features("probabilities", probabilities, minimum_samples=1)
    num_samples, num_classes = probabilities.shape
    predicted = np.argmax(probabilities, axis=1)
    histogram = np.bincount(predicted, minlength=num_classes) / num_samples
    return {
        "classes_covered": int(np.count_nonzero(histogram)),
        "class_histogram": histogram.tolist(),
        "kl_from_uniform": float(np.sum(rel_entr(histogram, 1.0 / num_classes))),
    }


def classifier_score(probabilities: np.ndarray, num_splits: int = 10) -> tuple[float, float]:
    """Inception-Score-style score ``exp(E_x KL(p(y|x) || p(y)))``, as (mean, std) over splits.

    Like the Inception Score protocol, the rows are cut into ``num_splits`` consecutive parts;
    each part has its own marginal ``p(y)`` and score. Ranges from 1 (uninformative or all-one-class
    predictions) to num_classes (confident predictions spread evenly over the classes).
    ``probabilities`` rows must be non-negative and sum to 1 (apply a softmax to logits);
    std uses ddof=0.
    """
    probabilities = check_probabilities(probabilities)
    num_splits = check_positive_int("num_splits", num_splits)
    if num_splits > len(probabilities):
        raise ValueError(
            f"num_splits={num_splits} is more than the {len(probabilities)} samples; "
            "lower num_splits or pass more samples."
        )
    scores = []
    for part in np.array_split(probabilities, num_splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl_per_sample = np.sum(rel_entr(part, marginal), axis=1)
        scores.append(np.exp(kl_per_sample.mean()))
    scores = np.array(scores)
    return float(scores.mean()), float(scores.std())


# --------------------------------------------------------------------------------------------------
# Class-conditional metrics
# --------------------------------------------------------------------------------------------------

def check_labels(name: str, labels: np.ndarray, num_samples: int, num_classes: int | None = None) -> np.ndarray:
    """Return ``labels`` as an int64 array of shape (num_samples,), with values in [0, num_classes)."""
    labels = np.asarray(labels)
    if labels.shape != (num_samples,):
        raise ValueError(f"{name} has shape {labels.shape}; expected ({num_samples},), one class per sample.")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} has dtype {labels.dtype}; expected whole class numbers (ints).")
    if num_classes is not None and len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise ValueError(f"{name} holds class {bad}, outside 0..{num_classes - 1}.")
    return labels.astype(np.int64)


def conditional_accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of samples whose predicted class (argmax of a row) is the class in ``labels``.

    For a conditional generator, ``labels`` are the classes it was asked for and ``probabilities``
    the classifier's output on its images: 1.0 means every image shows the requested class.
    """
    probabilities = check_features("probabilities", probabilities, minimum_samples=1)
    labels = check_labels("labels", labels, len(probabilities), probabilities.shape[1])
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def intra_class_frechet_distance(real_features: np.ndarray, real_labels: np.ndarray, fake_features: np.ndarray,
                                 fake_labels: np.ndarray, num_classes: int | None = None) -> tuple[float, list[float]]:
    """Mean over classes of the Fréchet distance between the real and the fake features of that class.

    Returns (mean, per-class list). Every class in 0..num_classes-1 (default: 1 + the largest label)
    needs at least 2 real and 2 fake samples; a generator that ignores its label gets a large value
    even when its unconditional Fréchet distance is small.
    """
    real_features = check_features("real_features", real_features)
    fake_features = check_features("fake_features", fake_features)
    check_same_feature_dim("real_features", real_features, "fake_features", fake_features)
    real_labels = check_labels("real_labels", real_labels, len(real_features))
    fake_labels = check_labels("fake_labels", fake_labels, len(fake_features))
    if num_classes is None:
        num_classes = int(max(real_labels.max(), fake_labels.max())) + 1
    per_class = []
    for c in range(num_classes):
        real_c, fake_c = real_features[real_labels == c], fake_features[fake_labels == c]
        if len(real_c) < 2 or len(fake_c) < 2:
            raise ValueError(f"class {c} has {len(real_c)} real and {len(fake_c)} fake sample(s); the intra-class "
                             "Fréchet distance needs at least 2 of each per class. Pass more samples of every class.")
        per_class.append(frechet_distance(real_c, fake_c))
    return float(np.mean(per_class)), per_class


# --------------------------------------------------------------------------------------------------
# MiFID (memorization-informed FID)
# --------------------------------------------------------------------------------------------------

# A generated image whose features lie closer than this (cosine distance) to the training images on
# average is taken to be memorising them; the value common MiFID implementations use.
MEMORIZATION_THRESHOLD = 0.1


def memorization_distance(fake_features: np.ndarray, real_features: np.ndarray, block_rows: int = 1024) -> float:
    """Mean over the fakes of the smallest cosine distance ``1 - |cos(fake, real)|`` to any real row.

    0 when every fake is (a multiple of) a real row; near 1 when fakes are orthogonal to all reals.
    Rows that are all zero have no direction and are left out (of both sets).
    """
    fake_features = check_features("fake_features", fake_features, minimum_samples=1)
    real_features = check_features("real_features", real_features, minimum_samples=1)
    check_same_feature_dim("fake_features", fake_features, "real_features", real_features)

    def unit_rows(name: str, features: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(features, axis=1)
        if not np.any(norms > 0):
            raise ValueError(f"{name} holds only all-zero rows, which have no direction; check the features.")
        return features[norms > 0] / norms[norms > 0, None]

    fake, real = unit_rows("fake_features", fake_features), unit_rows("real_features", real_features)
    smallest = np.empty(len(fake))
    for start in range(0, len(fake), block_rows):
        cosine = np.abs(fake[start:start + block_rows] @ real.T)
        smallest[start:start + block_rows] = 1.0 - np.clip(cosine.max(axis=1), 0.0, 1.0)
    return float(smallest.mean())


def mifid(fake_features: np.ndarray, real_features: np.ndarray,
          threshold: float = MEMORIZATION_THRESHOLD) -> dict[str, float]:
    """MiFID of fakes against the real (training) set: ``FID / d`` if ``d < threshold`` else ``FID``.

    ``d`` is `memorization_distance` (fakes to reals): a generator that copies training images
    (small ``d``) sees its FID multiplied by ``1/d``. Returns ``{"mifid", "fid", "memorization_distance",
    "threshold"}`` (``fid`` is `frechet_distance` of the same two sets).
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"threshold={threshold!r} must be a number in (0, 1]; MiFID uses 0.1.")
    fid = frechet_distance(real_features, fake_features)
    distance = memorization_distance(fake_features, real_features)
    penalty = distance if distance < threshold else 1.0
    return {"mifid": fid / max(penalty, 1e-15), "fid": fid, "memorization_distance": distance,
            "threshold": float(threshold)}
