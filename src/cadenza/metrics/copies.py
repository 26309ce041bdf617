"""Copy (memorisation) detection: which generated clips are near-copies of training clips.

As in seed 002 (EDMSound's copy detection, after Somepalli et al. 2023): embed every clip in
sliding windows, score a pair of clips by the highest cosine similarity between any window of
one and any window of the other (a copy may be partial, or shifted in time), and compare

- each generated clip's nearest training clip (``generated_nn``), with
- each training clip's nearest *other* training clip (``train_nn``): how alike the training
  set already is.

If the upper tail of ``generated_nn`` (its 95th percentile) lies above that of ``train_nn``,
the model produces clips closer to its training data than the training clips are to each
other: a sign of copying. ``gap`` is that difference. The pairs above 0.95 / 0.90 / 0.85 /
0.80 are the ones to listen to; the thresholds are only meaningful for the embedder at hand.

Before the cosine, window embeddings are standardised with the training windows' mean and
standard deviation (floored at the median over features): raw features share a large common
component (every spectrum is positive) that would make every pair look alike. Windows are
loudness-normalised first, so a copy played quieter is still a copy.

With the model-free embedder, use ``embedder("mel_stats", top_db=40)``: it ignores what lies
more than 40 dB below each window's peak, such as the hiss or artefacts a copy may carry
(a log-spectral feature otherwise sees noise in every band the music leaves empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cadenza.data.audio import loudness_normalize, resample
from cadenza.metrics.arrays import as_clips, sliding_windows
from cadenza.metrics.embedders import Embedder

THRESHOLDS = (0.95, 0.90, 0.85, 0.80)
_CHUNK = 2**22  # similarity values held at once (32 MiB of float64)


@dataclass
class CopyReport:
    """What ``detect_copies`` found; indices refer to the generated and training arrays."""

    similarity: np.ndarray  # (generated, train): best window-pair cosine similarity
    top_indices: np.ndarray  # (generated, k): training clips, most similar first
    top_similarity: np.ndarray  # (generated, k)
    generated_nn: np.ndarray  # (generated,): similarity to the nearest training clip
    train_nn: np.ndarray  # (train,): similarity to the nearest other training clip
    percentile: float
    generated_percentile: float  # percentile of generated_nn
    train_percentile: float  # percentile of train_nn
    # threshold → (generated, its nearest training clip, similarity) for every generated clip
    # whose best match reaches the threshold, strongest first: the pairs to listen to.
    pairs: dict[float, list[tuple[int, int, float]]] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """``generated_percentile − train_percentile``; above 0 suggests copying."""
        return self.generated_percentile - self.train_percentile

    def summary(self) -> dict[str, float | int]:
        """Scalars for a JSON record or a report table."""
        return {
            "generated": len(self.generated_nn),
            "train": len(self.train_nn),
            f"generated_nn_p{self.percentile:g}": self.generated_percentile,
            f"train_nn_p{self.percentile:g}": self.train_percentile,
            "gap": self.gap,
            **{f"pairs_above_{t:.2f}": len(p) for t, p in self.pairs.items()},
        }


def window_embeddings(
    clips: np.ndarray,
    embedder: Embedder,
    window_seconds: float = 4.0,
    hop_seconds: float = 2.0,
    normalize_loudness: bool = True,
) -> np.ndarray:
    """Embed every window of every clip: ``(n, windows, dim)``; clips at the embedder's rate."""
    rate = embedder.sample_rate
    windows = sliding_windows(clips, round(window_seconds * rate), round(hop_seconds * rate))
    n, count, length = windows.shape
    flat = windows.reshape(n * count, length)
    if normalize_loudness:
        flat = np.stack([loudness_normalize(w) for w in flat])
    return np.asarray(embedder(flat), dtype=np.float64).reshape(n, count, -1)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b``: ``(len(a), len(b))``."""
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return a @ b.T


def clip_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Best window-pair cosine similarity of clips: ``(n, wa, dim)``, ``(m, wb, dim)`` → ``(n, m)``.

    Computed a block of ``a`` at a time, so memory stays bounded for large sets.
    """
    n, wa, dim = a.shape
    m, wb, _ = b.shape
    flat_b = b.reshape(m * wb, dim)
    block = max(1, _CHUNK // max(1, wa * m * wb))
    out = np.empty((n, m))
    for start in range(0, n, block):
        part = a[start:start + block]
        scores = cosine_similarity(part.reshape(-1, dim), flat_b)
        out[start:start + len(part)] = scores.reshape(len(part), wa, m, wb).max(axis=(1, 3))
    return out


def detect_copies(
    generated: np.ndarray,
    train: np.ndarray,
    embedder: Embedder,
    sample_rate: int | None = None,
    window_seconds: float = 4.0,
    hop_seconds: float = 2.0,
    top_k: int = 5,
    thresholds: Sequence[float] = THRESHOLDS,
    percentile: float = 95.0,
    normalize_loudness: bool = True,
) -> CopyReport:
    """Compare generated clips ``(n, samples)`` with training clips ``(m, samples)``.

    ``sample_rate`` is the clips' rate when it differs from the embedder's (then they are
    resampled). Needs at least two training clips (``train_nn`` leaves each clip itself out).
    """
    generated, train = as_clips(generated, "generated"), as_clips(train, "train")
    if len(train) < 2:
        raise ValueError("need at least two training clips")
    if sample_rate is not None and sample_rate != embedder.sample_rate:
        generated = resample(generated, sample_rate, embedder.sample_rate).astype(np.float64)
        train = resample(train, sample_rate, embedder.sample_rate).astype(np.float64)
    options = {"window_seconds": window_seconds, "hop_seconds": hop_seconds,
               "normalize_loudness": normalize_loudness}
    train_windows = window_embeddings(train, embedder, **options)
    generated_windows = window_embeddings(generated, embedder, **options)
    flat = train_windows.reshape(-1, train_windows.shape[-1])
    # A feature that hardly varies over the training set (a band the music never reaches) is
    # scaled as a typical one, not blown up: a little hiss there is no evidence of anything.
    spread = flat.std(axis=0)
    centre, scale = flat.mean(axis=0), np.maximum(spread, max(float(np.median(spread)), 1e-12))
    train_windows = (train_windows - centre) / scale
    generated_windows = (generated_windows - centre) / scale

    similarity = clip_similarity(generated_windows, train_windows)
    train_similarity = clip_similarity(train_windows, train_windows)
    np.fill_diagonal(train_similarity, -np.inf)  # a clip is not its own neighbour

    k = min(top_k, len(train))
    top_indices = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    top_similarity = np.take_along_axis(similarity, top_indices, axis=1)
    generated_nn, train_nn = top_similarity[:, 0], train_similarity.max(axis=1)
    order = np.argsort(-generated_nn, kind="stable")
    pairs = {
        float(t): [(int(g), int(top_indices[g, 0]), float(generated_nn[g]))
                   for g in order if generated_nn[g] >= t]
        for t in sorted(thresholds, reverse=True)
    }
    return CopyReport(
        similarity, top_indices, top_similarity, generated_nn, train_nn, float(percentile),
        float(np.percentile(generated_nn, percentile)), float(np.percentile(train_nn, percentile)),
        pairs,
    )
