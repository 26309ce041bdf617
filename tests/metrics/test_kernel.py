import numpy as np
import pytest

from cadenza.metrics.kernel import IMQ_C, kernel_matrix, kid, mmd2_unbiased


def test_imq_kernel_is_seed_001s_with_gamma_squared_8():
    x, y = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])  # squared distance 25
    gamma2 = 8.0
    assert 2 * gamma2 == IMQ_C
    assert kernel_matrix(x, y)[0, 0] == pytest.approx(1 / (1 + 25 / (2 * gamma2)))
    assert kernel_matrix(x, x)[0, 0] == 1.0


def test_mmd2_estimator_is_unbiased():
    # Two samples of one distribution: single estimates scatter around 0 (some negative),
    # and their mean over many independent repetitions is within three standard errors of 0.
    rng = np.random.default_rng(0)
    values = np.array([
        mmd2_unbiased(rng.standard_normal((40, 8)), rng.standard_normal((40, 8)))
        for _ in range(300)
    ])
    assert (values < 0).any()
    assert abs(values.mean()) < 3 * values.std() / np.sqrt(len(values))


def test_kid_is_about_zero_for_one_distribution_and_positive_for_shifted_ones():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((600, 16)), rng.standard_normal((600, 16))
    same = kid(a, b, subsets=50, subset_size=200, seed=0)
    assert abs(same.mean) < 3 * same.std
    shifted = kid(a, b + 0.5, subsets=50, subset_size=200, seed=0)
    assert shifted.mean > 10 * shifted.std > 0
    assert shifted.subset_size == 200 and shifted.subsets == 50
    # The polynomial kernel of the original KID agrees on which is further.
    cubic = kid(a, b + 0.5, subsets=20, subset_size=200, kernel="polynomial")
    assert cubic.mean > 10 * cubic.std


def test_kid_caps_subsets_at_the_smaller_set():
    rng = np.random.default_rng(2)
    result = kid(rng.standard_normal((30, 4)), rng.standard_normal((50, 4)), subsets=5)
    assert result.subset_size == 30


def test_kid_of_whole_sets_is_one_subset_not_a_spread():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((12, 4)), rng.standard_normal((12, 4)) + 1
    result = kid(a, b, subsets=100)
    assert (result.subsets, result.subset_size, result.std) == (1, 12, 0.0)
    assert result.mean == mmd2_unbiased(a, b)
