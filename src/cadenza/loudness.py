"""Loudness and headroom: ITU-R BS.1770 integrated loudness (pyloudnorm) and a gain that brings
a clip to a target loudness without any sample, or the true peak between samples, reaching full
scale.

A diffusion model's level drifts with the sampler and the number of steps; a listener hears a
quiet clip as a worse one. Generated audio is therefore brought to a target loudness (by
default the training corpus's median, stored with the model) by one gain per clip, lowered
where the clip's true peak would otherwise pass ``PEAK_CEILING_DB``. No limiter: one gain per
clip changes nothing but the level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyloudnorm
import soxr

BLOCK_SECONDS = 0.4
"""BS.1770's gating block: a shorter clip has no integrated loudness."""

PEAK_CEILING_DB = -1.0
"""Headroom for the true peak (4x oversampled), in dB below full scale."""

SILENCE_LUFS = -70.0
"""BS.1770's absolute gate: below it a clip counts as silent and is left as it is."""


def integrated_loudness(wave: np.ndarray, sample_rate: int) -> float:
    """BS.1770 integrated loudness of ``(channels, samples)`` in LUFS; nan for a clip shorter
    than one gating block, -inf for silence."""
    wave = np.asarray(wave, dtype=np.float64)
    if wave.shape[-1] < math.ceil(BLOCK_SECONDS * sample_rate):
        return math.nan
    meter = pyloudnorm.Meter(sample_rate)
    with np.errstate(divide="ignore"):
        return float(meter.integrated_loudness(wave.T))


def true_peak_db(wave: np.ndarray, sample_rate: int) -> float:
    """The peak of ``wave`` between its samples too (4x oversampled, as BS.1770 suggests), dBFS."""
    wave = np.asarray(wave, dtype=np.float64)
    if wave.size == 0:
        return -math.inf
    upsampled = soxr.resample(np.ascontiguousarray(wave.T), sample_rate, 4 * sample_rate)
    peak = max(float(np.abs(upsampled).max()), float(np.abs(wave).max()))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def match(wave: np.ndarray, sample_rate: int, target_lufs: float,
          ceiling_db: float = PEAK_CEILING_DB) -> tuple[np.ndarray, dict]:
    """``wave`` scaled by one gain to ``target_lufs`` (less if its true peak would pass
    ``ceiling_db``), and what was done: ``gain_db``, ``loudness_before`` / ``_after``,
    ``true_peak_db`` after, ``peak_limited`` (the gain was lowered for headroom). A clip too
    short to measure is only kept under the ceiling; a silent one is left as it is."""
    before = integrated_loudness(wave, sample_rate)
    peak = true_peak_db(wave, sample_rate)
    gain_db = 0.0 if not math.isfinite(before) or before < SILENCE_LUFS else target_lufs - before
    limited = math.isfinite(peak) and peak + gain_db > ceiling_db
    if limited:
        gain_db = ceiling_db - peak
    scaled = (np.asarray(wave) * 10 ** (gain_db / 20)).astype(np.asarray(wave).dtype)
    return scaled, {"gain_db": round(gain_db, 3), "loudness_before": _rounded(before),
                    "loudness_after": _rounded(integrated_loudness(scaled, sample_rate)),
                    "true_peak_db": _rounded(peak + gain_db), "peak_limited": bool(limited)}


def level_difference_db(new: np.ndarray, context: np.ndarray, sample_rate: int) -> float | None:
    """How much louder ``context`` is than ``new`` (both ``(channels, samples)``), in dB: by
    BS.1770 integrated loudness when both are long enough to measure, else by RMS level (the
    same measure on both sides). None when either is silent: there is nothing to match."""
    if min(new.shape[-1], context.shape[-1]) >= math.ceil(BLOCK_SECONDS * sample_rate):
        levels = integrated_loudness(new, sample_rate), integrated_loudness(context, sample_rate)
        floor = SILENCE_LUFS
    else:
        levels = tuple(10 * math.log10(max(float(np.mean(np.square(np.asarray(side, np.float64)))),
                                           1e-20)) for side in (new, context))
        floor = SILENCE_LUFS - 0.691  # the same absolute gate on the unweighted scale
    if not all(math.isfinite(level) and level > floor for level in levels):
        return None
    return levels[1] - levels[0]


def median_loudness(paths: Iterable[str | Path], sample_rate: int,
                    seconds: float = 30.0) -> float:
    """The median integrated loudness of recordings (their first ``seconds``, at
    ``sample_rate``, mono): the level a model trained on them should sound at."""
    from cadenza.data import audio

    levels = [integrated_loudness(audio.load(path, sample_rate, channels=1, seconds=seconds)[0],
                                  sample_rate) for path in paths]
    finite = [level for level in levels if math.isfinite(level)]
    if not finite:
        raise ValueError("no recording is long and loud enough to measure its loudness")
    return float(np.median(finite))


def _rounded(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None
