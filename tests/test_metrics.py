"""GAN quality metrics (gan_helpers.metrics): checked against independent references and known cases."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import scipy.linalg
from scipy.spatial.distance import cdist

from gan_helpers import metrics


def gaussian_samples(num_samples: int, dim: int, seed: int, shift: float = 0.0) -> np.ndarray:
    """Samples of one fixed correlated Gaussian (the same for every seed), moved by ``shift`` in every dim."""
    mixing = np.random.default_rng(1234).normal(size=(dim, dim)) / np.sqrt(dim) + np.eye(dim)
    return np.random.default_rng(seed).normal(size=(num_samples, dim)) @ mixing + shift


def ring_of_clusters(num_samples: int, clusters: list[int], seed: int) -> np.ndarray:
    """2-D points from the given clusters (of 10 unit Gaussians on a circle of radius 30), equally many per cluster."""
    angles = 2 * np.pi * np.arange(10) / 10
    centers = 30 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = np.asarray(clusters)[np.arange(num_samples) % len(clusters)]
    return centers[labels] + np.random.default_rng(seed).normal(size=(num_samples, 2))


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    return np.eye(num_classes)[labels]


# --------------------------------------------------------------------------------------------------
# Fréchet distance
# --------------------------------------------------------------------------------------------------

def reference_frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """The textbook formula with scipy.linalg.sqrtm on the plain (non-symmetric) product, float64."""
    mu_a, mu_b = features_a.mean(axis=0), features_b.mean(axis=0)
    sigma_a, sigma_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    sqrt_product = np.real(scipy.linalg.sqrtm(sigma_a @ sigma_b))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(sigma_a + sigma_b - 2 * sqrt_product))


def test_frechet_distance_matches_scipy_sqrtm_reference():
    features_a = gaussian_samples(2000, 16, seed=1)
    features_b = np.random.default_rng(2).normal(size=(2000, 16)) * np.linspace(0.5, 2.0, 16) + 0.3
    expected = reference_frechet_distance(features_a, features_b)
    assert expected > 1.0  # a real difference, so the relative check means something
    assert metrics.frechet_distance(features_a, features_b) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_from_stats_matches_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(3)
    mu_a, mu_b = rng.normal(size=8), rng.normal(size=8)
    variances_a, variances_b = rng.uniform(0.1, 4.0, size=8), rng.uniform(0.1, 4.0, size=8)
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(variances_a) - np.sqrt(variances_b)) ** 2)
    result = metrics.frechet_distance_from_stats(mu_a, np.diag(variances_a), mu_b, np.diag(variances_b))
    assert result == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_is_zero_for_identical_sets_and_symmetric():
    features_a = gaussian_samples(500, 12, seed=4)
    features_b = gaussian_samples(500, 12, seed=5, shift=0.5)
    # zero up to the round-off of the matrix square root (traces here are ~24; seen: 1.4e-9 under load)
    assert metrics.frechet_distance(features_a, features_a.copy()) == pytest.approx(0.0, abs=1e-7)
    assert metrics.frechet_distance(features_a, features_b) == pytest.approx(
        metrics.frechet_distance(features_b, features_a), rel=1e-9)


def test_frechet_distance_accepts_float32_and_fewer_samples_than_dims():
    features_a = gaussian_samples(5, 12, seed=6).astype(np.float32)  # singular covariances
    features_b = gaussian_samples(5, 12, seed=7).astype(np.float32)
    result = metrics.frechet_distance(features_a, features_b)
    assert np.isfinite(result) and result >= 0.0
    assert result == pytest.approx(reference_frechet_distance(features_a.astype(np.float64),
                                                              features_b.astype(np.float64)), rel=1e-4)


def test_frechet_distance_is_small_for_one_distribution_and_grows_with_shift_and_noise():
    real = gaussian_samples(1000, 8, seed=10)
    same = metrics.frechet_distance(real, gaussian_samples(1000, 8, seed=11))
    shifted = [metrics.frechet_distance(real, gaussian_samples(1000, 8, seed=11, shift=shift))
               for shift in (0.25, 0.5, 1.0, 2.0)]
    assert same < 0.2 * shifted[0]
    assert all(lower < higher for lower, higher in zip(shifted, shifted[1:]))

    noise = np.random.default_rng(12).normal(size=real.shape)
    noisy = [metrics.frechet_distance(real, gaussian_samples(1000, 8, seed=11) + level * noise)
             for level in (0.0, 0.5, 1.0, 2.0)]
    assert all(lower < higher for lower, higher in zip(noisy, noisy[1:]))


# --------------------------------------------------------------------------------------------------
# Kernel Inception Distance
# --------------------------------------------------------------------------------------------------

def reference_unbiased_mmd(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with k(a, b) = (a.b / D + 1)^3, written pair by pair."""
    m, dim = x.shape
    kernel = lambda a, b: (np.dot(a, b) / dim + 1.0) ** 3  # noqa: E731
    within_x = sum(kernel(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    within_y = sum(kernel(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    between = sum(kernel(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return within_x + within_y - 2 * between


def test_kid_matches_pairwise_reference_when_subsets_are_whole_sets():
    x = gaussian_samples(30, 4, seed=20)
    y = gaussian_samples(30, 4, seed=21, shift=0.7)
    # subset_size is capped at 30, so every subset is the whole set (in some order): std is 0
    mean, std = metrics.kernel_inception_distance(x, y, num_subsets=3, subset_size=1000)
    assert mean == pytest.approx(reference_unbiased_mmd(x, y), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_kid_is_near_zero_for_one_distribution_and_clearly_positive_for_shifted():
    real = gaussian_samples(1000, 16, seed=22)
    same_mean, same_std = metrics.kernel_inception_distance(
        real, gaussian_samples(1000, 16, seed=23), num_subsets=20, subset_size=200)
    shifted_mean, shifted_std = metrics.kernel_inception_distance(
        real, gaussian_samples(1000, 16, seed=23, shift=0.5), num_subsets=20, subset_size=200)
    assert abs(same_mean) <= 3 * same_std
    assert abs(same_mean) < 0.05 * shifted_mean
    assert shifted_mean > 3 * shifted_std > 0


def test_kid_is_unbiased_so_single_estimates_can_be_negative():
    real = gaussian_samples(400, 8, seed=24)
    fake = gaussian_samples(400, 8, seed=25)
    estimates = [metrics.kernel_inception_distance(real, fake, num_subsets=1, subset_size=50, seed=seed)[0]
                 for seed in range(20)]
    assert min(estimates) < 0 < max(estimates)  # a biased (V-statistic) estimate is never negative


def test_kid_is_reproducible_for_a_fixed_seed():
    real, fake = gaussian_samples(300, 8, seed=26), gaussian_samples(300, 8, seed=27, shift=0.2)
    first = metrics.kernel_inception_distance(real, fake, num_subsets=5, subset_size=100, seed=7)
    again = metrics.kernel_inception_distance(real, fake, num_subsets=5, subset_size=100, seed=7)
    other = metrics.kernel_inception_distance(real, fake, num_subsets=5, subset_size=100, seed=8)
    assert first == again
    assert first != other


# --------------------------------------------------------------------------------------------------
# Precision and recall
# --------------------------------------------------------------------------------------------------

def reference_precision_recall(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    """Brute force in float64 with scipy's cdist: k-th neighbour radii, then ball membership."""
    real_radii = np.sort(cdist(real, real), axis=1)[:, k]  # column 0 is the point itself
    fake_radii = np.sort(cdist(fake, fake), axis=1)[:, k]
    fake_to_real = cdist(fake, real)
    precision = np.mean(np.any(fake_to_real <= real_radii[None, :], axis=1))
    recall = np.mean(np.any(fake_to_real.T <= fake_radii[None, :], axis=1))
    return float(precision), float(recall)


@pytest.mark.parametrize("block_bytes", [metrics.DISTANCE_BLOCK_BYTES, 3000])
def test_precision_recall_matches_brute_force_reference_in_any_block_size(monkeypatch, block_bytes):
    monkeypatch.setattr(metrics, "DISTANCE_BLOCK_BYTES", block_bytes)  # 3000 bytes: blocks of 2-3 rows
    real = gaussian_samples(300, 6, seed=30)
    fake = gaussian_samples(250, 6, seed=31, shift=0.6)
    for k in (1, 3, 5):
        precision, recall = metrics.precision_recall(real, fake, k=k)
        assert (precision, recall) == pytest.approx(reference_precision_recall(real, fake, k), abs=1 / 250)
        assert 0.05 < precision < 0.95 and 0.05 < recall < 0.95  # the case is not trivially 0 or 1


def test_precision_recall_are_high_for_one_distribution():
    precision, recall = metrics.precision_recall(gaussian_samples(1000, 8, seed=32),
                                                 gaussian_samples(1000, 8, seed=33), k=3)
    assert precision > 0.7 and recall > 0.7


def test_mode_dropping_keeps_precision_and_halves_recall():
    real = ring_of_clusters(1000, clusters=list(range(10)), seed=34)
    fake = ring_of_clusters(1000, clusters=list(range(5)), seed=35)
    precision, recall = metrics.precision_recall(real, fake, k=3)
    assert precision > 0.9
    assert 0.4 < recall < 0.6


def test_fakes_far_away_have_zero_precision_and_recall():
    real = ring_of_clusters(500, clusters=list(range(10)), seed=36)
    precision, recall = metrics.precision_recall(real, real + 1000.0, k=3)
    assert precision == 0.0 and recall == 0.0


def test_precision_recall_on_10000_samples_stays_within_memory_bound():
    real = np.random.default_rng(37).normal(size=(10_000, 64)).astype(np.float32)
    fake = np.random.default_rng(38).normal(size=(10_000, 64)).astype(np.float32)
    tracemalloc.start()
    try:
        precision, recall = metrics.precision_recall(real, fake, k=3)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # one full 10,000 x 10,000 float32 distance matrix alone would be 400 MB
    assert peak_bytes < 300e6, f"peak {peak_bytes / 1e6:.0f} MB"
    assert 0.0 <= precision <= 1.0 and 0.0 <= recall <= 1.0


# --------------------------------------------------------------------------------------------------
# Class coverage and classifier score
# --------------------------------------------------------------------------------------------------

def test_class_coverage_single_class_uniform_and_half():
    single = metrics.class_coverage(one_hot(np.full(200, 3)))
    assert single["classes_covered"] == 1
    assert single["class_histogram"] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert single["kl_from_uniform"] == pytest.approx(math.log(10))

    uniform = metrics.class_coverage(one_hot(np.arange(200) % 10))
    assert uniform["classes_covered"] == 10
    assert uniform["class_histogram"] == pytest.approx([0.1] * 10)
    assert uniform["kl_from_uniform"] == pytest.approx(0.0, abs=1e-12)

    soft = 0.5 * one_hot(np.arange(200) % 5) + 0.05  # soft rows; argmax is one of classes 0-4
    half = metrics.class_coverage(soft)
    assert half["classes_covered"] == 5
    assert half["kl_from_uniform"] == pytest.approx(math.log(2))


def reference_classifier_score(probabilities: np.ndarray, num_splits: int) -> tuple[float, float]:
    scores = []
    for part in np.array_split(probabilities, num_splits):
        marginal = part.mean(axis=0)
        kl = [sum(p * math.log(p / q) for p, q in zip(row, marginal) if p > 0) for row in part]
        scores.append(math.exp(np.mean(kl)))
    return float(np.mean(scores)), float(np.std(scores))


def test_classifier_score_known_cases():
    spread = metrics.classifier_score(one_hot(np.arange(1000) % 10), num_splits=10)
    assert spread == pytest.approx((10.0, 0.0), abs=1e-9)
    assert metrics.classifier_score(one_hot(np.full(1000, 7)))[0] == pytest.approx(1.0)
    assert metrics.classifier_score(np.full((1000, 10), 0.1))[0] == pytest.approx(1.0)


def test_classifier_score_uses_a_marginal_per_split_and_matches_reference():
    # first half all class 0, second half all class 1: each of 2 splits is one class (score 1),
    # one split over everything sees two classes (score 2)
    two_halves = one_hot(np.repeat([0, 1], 50))
    assert metrics.classifier_score(two_halves, num_splits=2)[0] == pytest.approx(1.0)
    assert metrics.classifier_score(two_halves, num_splits=1)[0] == pytest.approx(2.0)

    logits = np.random.default_rng(40).normal(size=(300, 10)) * 3
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert metrics.classifier_score(probabilities, num_splits=4) == pytest.approx(
        reference_classifier_score(probabilities, 4), rel=1e-10)


# --------------------------------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------------------------------

GOOD = np.random.default_rng(50).normal(size=(20, 4))
WITH_NAN = GOOD.copy()
WITH_NAN[5, 2] = np.nan
PROBABILITIES = one_hot(np.arange(20) % 10)


@pytest.mark.parametrize("call, expected", [
    (lambda: metrics.frechet_distance(GOOD, GOOD[:, :3]), "feature_dim 4 but features_b has 3"),
    (lambda: metrics.frechet_distance(GOOD, WITH_NAN), "features_b contains NaN"),
    (lambda: metrics.frechet_distance(GOOD[:1], GOOD), "features_a has 1 sample(s); at least 2"),
    (lambda: metrics.frechet_distance(GOOD[:, 0], GOOD), "expected a 2-D array"),
    (lambda: metrics.frechet_distance_from_stats(np.zeros(4), np.eye(4), np.zeros(3), np.eye(4)),
     "mu_b has shape (3,), expected (4,)"),
    (lambda: metrics.frechet_distance_from_stats(np.zeros(4), np.triu(np.ones((4, 4))), np.zeros(4), np.eye(4)),
     "sigma_a is not symmetric"),
    (lambda: metrics.kernel_inception_distance(GOOD, GOOD[:, :2]), "feature_dim 4 but features_b has 2"),
    (lambda: metrics.kernel_inception_distance(WITH_NAN, GOOD), "features_a contains NaN"),
    (lambda: metrics.kernel_inception_distance(GOOD, GOOD, num_subsets=0), "num_subsets=0 is too small"),
    (lambda: metrics.kernel_inception_distance(GOOD, GOOD, subset_size=1), "subset_size=1 is too small"),
    (lambda: metrics.precision_recall(GOOD, GOOD[:3], k=3), "k=3 needs more than k samples"),
    (lambda: metrics.precision_recall(GOOD, GOOD, k=0), "k=0 is too small"),
    (lambda: metrics.precision_recall(GOOD, GOOD[:, :3]), "feature_dim 4 but fake_features has 3"),
    (lambda: metrics.classifier_score(PROBABILITIES * 2), "row 0 sums to 2"),
    (lambda: metrics.classifier_score(PROBABILITIES - 0.05), "negative entries"),
    (lambda: metrics.classifier_score(PROBABILITIES, num_splits=21), "num_splits=21 is more than the 20"),
    (lambda: metrics.classifier_score(WITH_NAN), "probabilities contains NaN"),
    (lambda: metrics.class_coverage(np.zeros(10)), "expected a 2-D array"),
])
def test_bad_inputs_raise_value_error_naming_the_problem(call, expected):
    with pytest.raises(ValueError) as error:
        call()
    assert expected in str(error.value)


# --------------------------------------------------------------------------------------------------
# MiFID
# --------------------------------------------------------------------------------------------------

def test_memorization_distance_known_cases():
    reals = np.array([[1.0, 1.0], [0.0, 2.0]])
    # (1, 0) is 45 degrees from (1, 1): 1 - cos 45° ; (0, -3) is (0, 2) reversed: |cos| = 1, distance 0.
    fakes = np.array([[1.0, 0.0], [0.0, -3.0]])
    assert metrics.memorization_distance(fakes, reals) == pytest.approx(((1 - np.sqrt(0.5)) + 0.0) / 2)
    assert metrics.memorization_distance(reals * 7.0, reals) == pytest.approx(0.0, abs=1e-12)  # scaled copies
    assert metrics.memorization_distance(np.array([[0.0, 0.0, 1.0]]), np.eye(3)[:2]) == pytest.approx(1.0)


def test_memorization_distance_ignores_all_zero_rows_and_matches_brute_force():
    rng = np.random.default_rng(8)
    reals, fakes = rng.normal(size=(300, 6)), rng.normal(size=(50, 6))
    expected = np.mean(np.min(1 - np.abs(1 - cdist(fakes, reals, "cosine")), axis=1))
    padded = np.vstack([fakes, np.zeros((3, 6))])
    assert metrics.memorization_distance(padded, reals, block_rows=7) == pytest.approx(expected, rel=1e-9)


def test_mifid_divides_fid_only_below_the_threshold():
    rng = np.random.default_rng(9)
    reals = rng.normal(size=(400, 8))
    copies = reals[:200] + rng.normal(scale=0.05, size=(200, 8))  # near-copies of training images
    distance = metrics.memorization_distance(copies, reals)
    fid = metrics.frechet_distance(reals, copies)
    assert 0 < distance < 0.05

    penalised = metrics.mifid(copies, reals)  # default threshold 0.1
    assert penalised["fid"] == pytest.approx(fid) and penalised["memorization_distance"] == pytest.approx(distance)
    assert penalised["mifid"] == pytest.approx(fid / distance) and penalised["threshold"] == 0.1
    assert metrics.mifid(copies, reals, threshold=distance / 2)["mifid"] == pytest.approx(fid)  # not below: FID


@pytest.mark.parametrize("threshold", [0, -0.1, 1.5, True, "0.1"])
def test_mifid_rejects_a_bad_threshold(threshold):
    features = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="threshold="):
        metrics.mifid(features, features, threshold=threshold)
