"""Kolmogorov–Smirnov D between generated and original audio (seeds 000 and 003).

D is the largest gap between two empirical distribution functions: 0 for identical value
distributions, 1 for disjoint ones, and unchanged by any monotone transform of the values (RMS
in dB or linear gives the same D). Compared here:

- per-frame features: RMS, spectral centroid, and f0 where voiced (``ks_features``);
- raw sample values, loudness-normalised per clip and subsampled (``ks_samples``);
- the same, at every step of a denoising history (``ks_history``), as in seed 003's figure.

The seeds report "higher is better" of a KS test; cadenza reports D (lower is closer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import librosa
import numpy as np
from scipy import stats

from cadenza.data.audio import loudness_normalize
from cadenza.metrics.arrays import as_clips
from cadenza.metrics.pitch import FMAX, FMIN, pitch_track

FEATURES = ("rms", "centroid", "f0")


class KS(NamedTuple):
    statistic: float  # D
    pvalue: float  # only meaningful for independent values (see ks_samples)


def ks(generated: np.ndarray, original: np.ndarray) -> KS:
    """Two-sample KS of two sets of values (any shape, flattened; NaNs dropped).

    NaN for both fields when either side has no values (say, no voiced frames).
    """
    a = np.asarray(generated, dtype=np.float64).ravel()
    b = np.asarray(original, dtype=np.float64).ravel()
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return KS(float("nan"), float("nan"))
    result = stats.ks_2samp(a, b)
    return KS(float(result.statistic), float(result.pvalue))


def frame_features(
    clips: np.ndarray,
    sample_rate: int,
    frame_length: int = 2048,
    hop_length: int = 512,
    pitch_method: str = "pyin",
    fmin: float = FMIN,
    fmax: float = FMAX,
    features: Sequence[str] = FEATURES,
) -> dict[str, np.ndarray]:
    """Per-frame ``rms``, ``centroid`` (Hz) and ``f0`` (Hz, voiced frames only), pooled over
    clips ``(n, samples)``: one flat array per feature."""
    clips = as_clips(clips)
    unknown = set(features) - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown features {sorted(unknown)}; choose from {', '.join(FEATURES)}")
    out: dict[str, np.ndarray] = {}
    if "rms" in features:
        out["rms"] = librosa.feature.rms(y=clips, frame_length=frame_length,
                                         hop_length=hop_length).ravel()
    if "centroid" in features:
        centroid = librosa.feature.spectral_centroid(y=clips, sr=sample_rate, n_fft=frame_length,
                                                     hop_length=hop_length)
        out["centroid"] = centroid.ravel()
    if "f0" in features:
        tracks = [pitch_track(clip, sample_rate, pitch_method, fmin, fmax, frame_length,
                              hop_length) for clip in clips]
        out["f0"] = np.concatenate([track.f0[track.voiced] for track in tracks])
    return out


def ks_features(
    generated: np.ndarray,
    original: np.ndarray,
    sample_rate: int,
    features: Sequence[str] = FEATURES,
    **options,
) -> dict[str, KS]:
    """KS of each per-frame feature, generated vs original clips (``options``: see
    ``frame_features``; ``pitch_method="yin"`` is much faster than pYIN)."""
    a = frame_features(generated, sample_rate, features=features, **options)
    b = frame_features(original, sample_rate, features=features, **options)
    return {name: ks(a[name], b[name]) for name in features}


def _clip_rows(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    return as_clips(array.reshape(len(array), -1) if array.ndim > 2 else array)


def ks_samples(
    generated: np.ndarray,
    original: np.ndarray,
    max_values: int = 20000,
    normalize: bool = True,
    target_dbfs: float = -20.0,
    seed: int = 0,
) -> KS:
    """KS of raw sample values, each clip loudness-normalised to ``target_dbfs`` first.

    Up to ``max_values`` values are drawn at random from each side. Caveat: neighbouring
    samples are strongly correlated, so the values are far from independent and the p-value
    (which assumes independence) is not meaningful: report D. Subsampling keeps the test fast
    and spreads the draws over the clips, but does not make them independent.

    Clips are rows (``(n, samples)`` or one clip); arrays with more axes (``(n, channels,
    samples)``, or a representation's tensors with ``normalize=False``) are flattened per clip.
    """
    def values(clips: np.ndarray) -> np.ndarray:
        clips = _clip_rows(clips)
        if normalize:
            clips = np.stack([loudness_normalize(clip, target_dbfs) for clip in clips])
        flat = clips.ravel()
        if flat.size > max_values:
            # A fresh generator per side: arrays of one size are read at the same positions,
            # so identical inputs give D = 0 exactly and the steps of a history stay comparable.
            rng = np.random.default_rng(seed)
            flat = flat[rng.choice(flat.size, max_values, replace=False)]
        return flat

    return ks(values(generated), values(original))


def ks_history(
    history: Sequence[np.ndarray], original: np.ndarray, **options
) -> np.ndarray:
    """D of every step of a denoising history against the original: ``(steps,)``.

    ``history`` holds one array per step (say, the decoded ``x_t`` or the ``x0`` estimate of
    every step); ``options`` go to ``ks_samples``. Early steps are mostly noise, so D falls
    as the sampler approaches the data; a method that keeps a known region consistent with its
    surroundings falls earlier.
    """
    return np.array([ks_samples(step, original, **options).statistic for step in history])
