"""Fréchet distance between embedding sets: FAD, FAD-∞ and bootstrap confidence intervals.

Each set is summarised by a Gaussian (mean and covariance) and the distance between the two
Gaussians is (Dowson and Landau 1982)

    d² = ||m1 − m2||² + tr(C1 + C2 − 2 (C1^½ C2 C1^½)^½).

The trace of the matrix square root is taken from the eigenvalues of the symmetric matrix
``C1^½ C2 C1^½`` (``eigh``, eigenvalues clipped at 0), which stays real and stable where the
general ``scipy.linalg.sqrtm`` of ``C1 C2`` can return complex noise or fail on singular
covariances (fewer embeddings than dimensions). The result is clipped at 0: the exact distance
is never negative, and tiny negatives are rounding.

FAD with ``n`` embeddings is biased upwards by roughly ``b / n`` (Chong and Forsyth 2020);
``fad_infinity`` fits that line and reports its intercept, the value for infinitely many, and
``withheld_reason`` says when the fit is too poor for the intercept to mean anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from scipy.stats import beta

from cadenza.metrics.arrays import as_embeddings

# FAD-∞ is withheld unless its line explains more of the spread than all but 1% of lines
# fitted to the same number of points with no trend at all would (see withheld_reason).
FIT_CONFIDENCE = 0.99


class FadInfinity(NamedTuple):
    """FAD extrapolated to infinitely many embeddings, with the fit it came from."""

    value: float  # the intercept of FAD(n) = value + slope / n
    slope: float
    sizes: np.ndarray  # subsample sizes n of the first set
    fads: np.ndarray  # mean FAD at each size
    r2: float  # coefficient of determination of the line; near 1 when the 1/n law holds


class ConfidenceInterval(NamedTuple):
    value: float  # the statistic on the full sets
    low: float
    high: float
    level: float


def gaussian_statistics(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(dim,)`` and unbiased covariance ``(dim, dim)`` of ``(n, dim)`` embeddings."""
    x = as_embeddings(embeddings)
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix; negative eigenvalues → 0."""
    symmetric = (matrix + matrix.T) / 2  # rounding makes covariances slightly asymmetric
    eigenvalues, eigenvectors = np.linalg.eigh(symmetric)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T


def frechet_distance(
    mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray
) -> float:
    """Squared Fréchet distance between N(mean1, cov1) and N(mean2, cov2); never negative."""
    mean1, mean2 = np.atleast_1d(mean1), np.atleast_1d(mean2)
    cov1, cov2 = np.atleast_2d(cov1), np.atleast_2d(cov2)
    if mean1.shape != mean2.shape or cov1.shape != cov2.shape or cov1.shape != mean1.shape * 2:
        raise ValueError(
            f"mismatched statistics: means {mean1.shape}, {mean2.shape}; "
            f"covariances {cov1.shape}, {cov2.shape}"
        )
    root1 = psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = float(np.sqrt(np.clip(eigenvalues, 0, None)).sum())
    difference = mean1 - mean2
    distance = float(difference @ difference + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt)
    return max(distance, 0.0)


def fad(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet audio distance between embedding sets ``a`` ``(n, dim)`` and ``b`` ``(m, dim)``."""
    return frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b))


def fad_infinity(
    a: np.ndarray,
    b: np.ndarray,
    sizes: Sequence[int] | None = None,
    repeats: int = 1,
    seed: int = 0,
) -> FadInfinity:
    """FAD-∞: fit FAD(n) = value + slope / n over subsamples of ``a``; ``value`` is the intercept.

    ``a`` is the set being judged (generated), ``b`` the reference, used whole. Each size ``n``
    draws ``repeats`` subsets of ``a`` without replacement (duplicates would shrink the set's
    effective size). ``sizes`` defaults to 8 sizes evenly spaced from a quarter of ``a`` to
    all of it; the extrapolation is only as good as the line, so check ``r2``.
    """
    a = as_embeddings(a, "a")
    reference = gaussian_statistics(as_embeddings(b, "b"))
    if sizes is None:
        sizes = np.linspace(max(2, len(a) // 4), len(a), 8)
    sizes = np.unique(np.asarray(sizes, dtype=int))
    if len(sizes) < 2 or sizes[0] < 2 or sizes[-1] > len(a):
        raise ValueError(f"need two or more sizes within [2, {len(a)}], got {sizes.tolist()}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    rng = np.random.default_rng(seed)
    fads = np.array([
        np.mean([
            frechet_distance(*gaussian_statistics(a[rng.choice(len(a), n, replace=False)]),
                             *reference)
            for _ in range(repeats)
        ])
        for n in sizes
    ])
    design = np.stack([np.ones(len(sizes)), 1.0 / sizes], axis=1)
    (intercept, slope), *_ = np.linalg.lstsq(design, fads, rcond=None)
    residual = fads - design @ np.array([intercept, slope])
    spread = float(np.sum((fads - fads.mean()) ** 2))
    r2 = 1.0 - float(residual @ residual) / spread if spread > 0 else 1.0
    return FadInfinity(float(intercept), float(slope), sizes, fads, r2)


def trendless_r2(points: int, confidence: float = FIT_CONFIDENCE) -> float:
    """The r² that a straight line fitted to ``points`` trendless points (independent Gaussian
    scatter) stays below with probability ``confidence``: r² ~ Beta(1/2, (points - 2) / 2)."""
    if points < 3:
        return 1.0  # two points are always fitted exactly: no evidence of a line
    return float(beta.ppf(confidence, 0.5, (points - 2) / 2))


def withheld_reason(fit: FadInfinity, confidence: float = FIT_CONFIDENCE) -> str | None:
    """Why ``fit``'s intercept is not a usable FAD-∞, or None when it is.

    The bias FAD(n) - FAD-∞ is positive and shrinks as 1/n, so the slope must be positive; a
    negative one means the subsets' FADs are noise around a level (or fall the wrong way).
    And the 1/n trend must stand out from noise: r² at or above what a trendless fit through
    as many points reaches with probability ``confidence`` (``trendless_r2``). Otherwise the
    intercept is an extrapolation of scatter.
    """
    threshold = trendless_r2(len(fit.sizes), confidence)
    if len(fit.sizes) < 3:
        return f"{len(fit.sizes)} subset sizes: a line through two points shows no 1/n law"
    if not fit.slope > 0:
        return (f"the fit's slope is {fit.slope:.3g}: FAD does not fall as 1/n over these "
                f"subsets (r² {fit.r2:.3f})")
    if not fit.r2 >= threshold:
        return (f"r² {fit.r2:.3f} is below {threshold:.4g}, which {1 - confidence:.0%} of "
                f"trendless fits through {len(fit.sizes)} points reach: the 1/n law is not seen")
    return None


def bootstrap_ci(
    a: np.ndarray,
    b: np.ndarray,
    statistic: Callable[[np.ndarray, np.ndarray], float] = fad,
    resamples: int = 100,
    level: float = 0.95,
    seed: int = 0,
    floor: float | None = 0.0,
) -> ConfidenceInterval:
    """Bias-corrected percentile bootstrap interval of ``statistic(a, b)`` (FAD by default).

    Both sets are resampled with replacement, independently. A resampled set repeats rows, so
    it holds fewer distinct embeddings and its FAD carries a larger small-sample bias: the raw
    percentiles sit above ``value``, and with few clips the whole interval can lie above it.
    The percentiles are therefore shifted down by that bias (the bootstrap mean minus
    ``value``), which centres the spread on the estimate; the low end is kept at or above
    ``floor`` (FAD is never negative; None for a statistic that can be, like unbiased KID).
    It describes the spread of FAD at this set size; for a size-independent number use
    ``fad_infinity``.
    """
    a, b = as_embeddings(a, "a"), as_embeddings(b, "b")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    values = np.array([
        statistic(a[rng.integers(0, len(a), len(a))], b[rng.integers(0, len(b), len(b))])
        for _ in range(resamples)
    ])
    value = float(statistic(a, b))
    bias = float(values.mean()) - value
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail]) - bias
    low = float(low) if floor is None else max(float(low), floor)
    return ConfidenceInterval(value, low, float(high), level)
