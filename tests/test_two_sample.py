"""Tests for gan_helpers.two_sample: the classifier two-sample test and the checkerboard measure."""

from __future__ import annotations

import numpy as np
import pytest

from gan_helpers.two_sample import checkerboard_energy, two_sample_floor, two_sample_test


def blobs(count: int, seed: int, side: int = 16) -> np.ndarray:
    """Smooth images: one bright Gaussian blob at a random place and of a random colour, on grey."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:side, 0:side]
    centres = rng.uniform(3, side - 3, (count, 2))
    colours = rng.uniform(0.2, 1.0, (count, 3))
    bump = np.exp(-((rows - centres[:, 0, None, None]) ** 2 + (cols - centres[:, 1, None, None]) ** 2) / 8.0)
    return (bump[..., None] * colours[:, None, None, :] * 2 - 1).astype(np.float32)


def checkerboard(side: int = 16) -> np.ndarray:
    rows, cols = np.mgrid[0:side, 0:side]
    return np.where((rows + cols) % 2 == 0, 1.0, -1.0)


def test_two_draws_of_one_distribution_are_indistinguishable_and_different_ones_are_not():
    same = two_sample_test(blobs(150, seed=1), blobs(150, seed=2), epochs=8)
    assert 0.35 <= same["accuracy"] <= 0.65, same
    assert same["images_per_set"] == 150 and len(same["fold_accuracies"]) == 3

    artefacts = blobs(150, seed=3) + 0.15 * checkerboard()[None, :, :, None]  # faint, as a transposed conv leaves
    different = two_sample_test(blobs(150, seed=1), np.clip(artefacts, -1, 1), epochs=8)
    assert different["accuracy"] >= 0.95, different


def test_the_floor_splits_the_real_set_in_two_and_small_sets_are_refused():
    floor = two_sample_floor(blobs(120, seed=4), epochs=4)
    assert floor["images_per_set"] == 60 and 0.3 <= floor["accuracy"] <= 0.7
    with pytest.raises(ValueError, match="needs at least 6 images per set"):
        two_sample_test(blobs(5, seed=0), blobs(50, seed=1))


def test_checkerboard_energy_is_one_for_a_checkerboard_and_near_zero_for_smooth_images():
    board = checkerboard()[None, :, :, None].repeat(3, axis=-1)
    assert checkerboard_energy(board) == pytest.approx(1.0)
    assert checkerboard_energy(np.ones((2, 16, 16, 3))) == 0.0
    assert checkerboard_energy(blobs(20, seed=5)) < 1e-3
    mixed = blobs(20, seed=5) + 0.2 * board
    assert 0.05 < checkerboard_energy(mixed) < 1.0
    uint8 = ((board + 1) * 127.5).astype(np.uint8)
    assert checkerboard_energy(uint8) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="even H and W"):
        checkerboard_energy(np.zeros((1, 15, 16, 3)))
