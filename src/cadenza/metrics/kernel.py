"""Kernel distance: the unbiased squared MMD between embedding sets (KID, PKID, IKID).

The kernel is seed 001's inverse multi-quadratic,

    k(x, y) = 1 / (1 + ||x − y||² / (2 γ²)) = C / (C + ||x − y||²),   C = 2 γ² = 16 (γ² = 8),

whose heavy tail keeps it sensitive to outliers where a Gaussian kernel flattens out. The
polynomial kernel ``(x·y / dim + 1)³`` of the original KID (Bińkowski et al. 2018) is offered
for comparison with published numbers. PKID and IKID are this same distance on the embeddings
of a pitch or an instrument classifier: pass those embeddings.

The unbiased estimator (Gretton et al. 2012) leaves out the diagonals of the within-set kernel
matrices, so for two samples of one distribution its mean is 0 and single values may be
negative; that is the estimator working, not a bug, and negatives are not clipped.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cadenza.metrics.arrays import as_embeddings

IMQ_C = 16.0  # C = 2 γ² with seed 001's γ² = 8
KERNELS = ("imq", "polynomial")


class KernelDistance(NamedTuple):
    mean: float  # mean of the unbiased MMD² over subsets
    std: float  # its standard deviation over subsets (the subsets overlap: not an error bar)
    subsets: int
    subset_size: int


def _squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    squared = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T
    return np.clip(squared, 0, None)  # the expansion can go slightly negative by rounding


def kernel_matrix(
    x: np.ndarray, y: np.ndarray, kernel: str = "imq", c: float = IMQ_C
) -> np.ndarray:
    """``k(x_i, y_j)`` for ``(n, dim)`` and ``(m, dim)`` embeddings: ``(n, m)``."""
    if kernel == "imq":
        return c / (c + _squared_distances(x, y))
    if kernel == "polynomial":
        return (x @ y.T / x.shape[1] + 1) ** 3
    raise ValueError(f"unknown kernel {kernel!r}; choose {', '.join(KERNELS)}")


def mmd2_unbiased(
    a: np.ndarray, b: np.ndarray, kernel: str = "imq", c: float = IMQ_C
) -> float:
    """Unbiased MMD² between all of ``a`` ``(n, dim)`` and all of ``b`` ``(m, dim)``."""
    a, b = as_embeddings(a, "a"), as_embeddings(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"dimensions differ: {a.shape[1]} and {b.shape[1]}")
    kaa, kbb = kernel_matrix(a, a, kernel, c), kernel_matrix(b, b, kernel, c)
    n, m = len(a), len(b)
    within_a = (kaa.sum() - np.trace(kaa)) / (n * (n - 1))
    within_b = (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
    return float(within_a + within_b - 2 * kernel_matrix(a, b, kernel, c).mean())


def kid(
    a: np.ndarray,
    b: np.ndarray,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
    kernel: str = "imq",
    c: float = IMQ_C,
) -> KernelDistance:
    """Kernel (inception) distance: unbiased MMD² averaged over random subsets of both sets.

    Each subset draws ``subset_size`` embeddings (capped at the smaller set) without
    replacement from each set; subsets bound the cost at ``O(subsets · subset_size²)``. When
    that takes all of both sets every subset is the same, so the distance is computed once and
    reported as 1 subset (its std, 0, is then no spread at all).
    """
    a, b = as_embeddings(a, "a"), as_embeddings(b, "b")
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError(f"subset_size must be at least 2, got {size}")
    if size == len(a) == len(b):
        return KernelDistance(mmd2_unbiased(a, b, kernel, c), 0.0, 1, size)
    rng = np.random.default_rng(seed)
    values = np.array([
        mmd2_unbiased(a[rng.choice(len(a), size, replace=False)],
                      b[rng.choice(len(b), size, replace=False)], kernel, c)
        for _ in range(subsets)
    ])
    return KernelDistance(float(values.mean()), float(values.std()), subsets, size)
