"""Bandwidth of a set of clips: the frequency below which a given share of their power lies.

Two sets compared at one sample rate can still differ in what they contain: clips made at
8 kHz and resampled to 16 kHz hold nothing above 4 kHz. Every spectral metric sees that
missing band, so ``cadenza eval`` warns when the sets' bandwidths differ by a lot.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

from cadenza.metrics.arrays import as_clips


def power_spectrum(clips: np.ndarray, sample_rate: int, n_fft: int = 2048
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and the mean power spectrum of ``(n, samples)`` clips (Welch)."""
    clips = as_clips(clips)
    size = min(n_fft, clips.shape[1])
    frequencies, power = welch(clips, fs=sample_rate, nperseg=size, axis=-1)
    return frequencies, power.mean(axis=0)


def bandwidth(clips: np.ndarray, sample_rate: int, fraction: float = 0.99) -> float:
    """The frequency (Hz) below which ``fraction`` of the clips' power lies; 0 for silence."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    frequencies, power = power_spectrum(clips, sample_rate)
    cumulative = np.cumsum(power)
    if cumulative[-1] <= 0:
        return 0.0
    return float(frequencies[np.searchsorted(cumulative, fraction * cumulative[-1])])


def power_above(clips: np.ndarray, sample_rate: int, frequency_hz: float) -> float:
    """The share of the clips' power above ``frequency_hz`` (0 for silence): what a model that
    works below it cannot make."""
    frequencies, power = power_spectrum(clips, sample_rate)
    total = float(power.sum())
    return float(power[frequencies > frequency_hz].sum()) / total if total > 0 else 0.0
