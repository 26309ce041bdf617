"""Shape and dtype checks shared by the metrics (clips and embeddings as float64 arrays), and
cutting clips into windows."""

from __future__ import annotations

import numpy as np


def as_clips(clips: np.ndarray, name: str = "clips") -> np.ndarray:
    """``(n, samples)`` float64; a single clip ``(samples,)`` becomes ``(1, samples)``."""
    array = np.asarray(clips, dtype=np.float64)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(f"{name}: expected clips (n, samples), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains NaN or infinite samples")
    return array


def as_embeddings(embeddings: np.ndarray, name: str = "embeddings", minimum: int = 2) -> np.ndarray:
    """``(n, dim)`` float64 with at least ``minimum`` rows; ``(n,)`` is read as ``dim = 1``."""
    array = np.asarray(embeddings, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name}: expected embeddings (n, dim), got shape {array.shape}")
    if array.shape[0] < minimum:
        raise ValueError(f"{name}: need at least {minimum} embeddings, got {array.shape[0]}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return array


def as_mono(wave: np.ndarray, name: str = "wave") -> np.ndarray:
    """One clip as ``(samples,)`` float64; ``(channels, samples)`` is averaged to mono."""
    array = np.asarray(wave, dtype=np.float64)
    if array.ndim == 2 and array.shape[0] <= 2:
        array = array.mean(axis=0)  # (channels, samples), as everywhere in cadenza
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name}: expected one clip (samples,) or (channels, samples), "
                         f"got shape {np.shape(wave)}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains NaN or infinite samples")
    return array


def sliding_windows(clips: np.ndarray, window: int, hop: int) -> np.ndarray:
    """``(n, samples)`` → ``(n, windows, window)``; the last window ends at the clip's end.

    A clip shorter than ``window`` is one window of its own length.
    """
    clips = as_clips(clips)
    samples = clips.shape[1]
    if window >= samples:
        return clips[:, None, :]
    if hop < 1:
        raise ValueError(f"hop must be at least one sample, got {hop}")
    starts = list(range(0, samples - window + 1, hop))
    if starts[-1] != samples - window:
        starts.append(samples - window)  # cover the tail, or a copy there goes unseen
    return np.stack([clips[:, s:s + window] for s in starts], axis=1)
