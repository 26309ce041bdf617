"""Inception score from a classifier's class probabilities (IS; seed 001's PIS and IIS).

IS = exp(E_x KL(p(y|x) || p(y))), with p(y) the mean of p(y|x) over the clips. It is high
when each clip is classified confidently (low-entropy rows) and the classes are used evenly
(high-entropy marginal): at most K for K classes, at least 1. PIS and IIS are this score on a
pitch or an instrument classifier's probabilities: pass those.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import xlogy

from cadenza.metrics.arrays import as_embeddings


class InceptionScore(NamedTuple):
    mean: float  # the score, or the mean of the per-split scores
    std: float  # standard deviation over splits; 0 with one split
    splits: int


def _score(probabilities: np.ndarray) -> float:
    marginal = probabilities.mean(axis=0, keepdims=True)
    # xlogy gives 0·log 0 = 0, so hard (one-hot) predictions are fine.
    divergence = (xlogy(probabilities, probabilities) - xlogy(probabilities, marginal)).sum(1)
    return float(np.exp(divergence.mean()))


def inception_score(probabilities: np.ndarray, splits: int = 1) -> InceptionScore:
    """IS of ``(n, classes)`` probabilities (rows sum to 1); ``splits`` > 1 adds a spread.

    With splits, the clips are cut into ``splits`` consecutive groups, each scored on its own
    (the convention of Salimans et al. 2016); shuffle first if the order means something.
    """
    p = as_embeddings(probabilities, "probabilities", minimum=1)
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("probabilities must be non-negative and each row must sum to 1")
    if not 1 <= splits <= len(p):
        raise ValueError(f"splits must be between 1 and the number of clips ({len(p)})")
    scores = [_score(part) for part in np.array_split(p, splits)]
    return InceptionScore(float(np.mean(scores)), float(np.std(scores)), splits)
