"""Loudness and headroom: ITU-R BS.1770 integrated loudness (pyloudnorm), a gain that brings a
clip to a target loudness, and a limiter that keeps every sample, and the true peak between
samples, under ``PEAK_CEILING_DB``.

A diffusion model's level drifts with the sampler and the number of steps; a listener hears a
quiet clip as a worse one, and new audio quieter than the audio around it as a hole. Generated
audio is therefore brought to a target loudness (by default the training corpus's median,
stored with the model; for an edit, the audio around it) by one gain per clip. Where that gain
would lift a peak past the ceiling, a limiter lowers the gain around that peak only: cutting
the whole clip's gain instead would leave a spiky clip several dB under its target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pyloudnorm
import soxr
from scipy.ndimage import minimum_filter1d, uniform_filter1d

BLOCK_SECONDS = 0.4
"""BS.1770's gating block: a shorter clip has no integrated loudness."""

PEAK_CEILING_DB = -1.0
"""Headroom for the true peak (4x oversampled), in dB below full scale."""

LIMITER_SECONDS = 0.01
"""How long before a peak the limiter starts to lower the gain, and how long after it it
recovers: long enough not to distort a tone, short enough to leave the notes around alone."""

MAKEUP_PASSES = 3
"""How often the loudness a limiter took is measured and given back (each pass limits again)."""

MAX_MAKEUP_DB = 6.0
"""The most gain given back for what the limiter took: past it, a clip is mostly peaks."""

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
    peak = float(_peaks(wave, sample_rate).max(initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def limit(wave: np.ndarray, sample_rate: int, ceiling_db: float = PEAK_CEILING_DB
          ) -> tuple[np.ndarray, float]:
    """``wave`` ``(channels, samples)`` with its true peak at most ``ceiling_db``, and the
    deepest cut in dB (0 where nothing passed the ceiling, and then ``wave`` itself).

    A look-ahead limiter, one gain for all channels: each sample needs the gain that brings
    its (oversampled) peak to the ceiling; the gain curve is the minimum of those needs within
    ``LIMITER_SECONDS`` either side, averaged over the same window. Every sample of that
    window needs at most the gain at its middle, so the smooth curve never lets a peak
    through, and it is 1 wherever no peak is that close."""
    wave = np.asarray(wave)
    ceiling = 10 ** (ceiling_db / 20)
    peaks = _peaks(wave, sample_rate)
    if wave.size == 0 or peaks.max() <= ceiling:
        return wave, 0.0
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-30))
    width = 2 * max(1, round(LIMITER_SECONDS * sample_rate)) + 1
    gain = uniform_filter1d(minimum_filter1d(need, width, mode="nearest"), width, mode="nearest")
    limited = wave * np.minimum(gain, 1.0)
    overshoot = true_peak_db(limited, sample_rate) - ceiling_db
    if overshoot > 0:  # the resampler's ringing around the lowered peak: a last hair of gain
        limited = limited * 10 ** (-overshoot / 20)
        gain = gain * 10 ** (-overshoot / 20)
    return limited.astype(wave.dtype), round(-20 * math.log10(float(gain.min())), 3)


def limit_made_up(gained: Callable[[float], np.ndarray], sample_rate: int,
                  ceiling_db: float = PEAK_CEILING_DB) -> tuple[np.ndarray, float, float]:
    """``gained(0)`` limited under ``ceiling_db`` at the loudness it had before limiting:
    ``gained(extra_db)`` is the same audio with ``extra_db`` more gain where it is being
    matched, and the limiter's loss is measured and given back (``MAKEUP_PASSES`` times, at
    most ``MAX_MAKEUP_DB``): clicks carry loudness, and lowering them leaves the rest of a
    spiky clip under its target. Returns the audio, the gain given back and the deepest cut
    (both dB)."""
    planned = gained(0.0)
    limited, cut_db = limit(planned, sample_rate, ceiling_db)
    if not cut_db:  # nothing limited, nothing to give back: no loudness to measure
        return limited, 0.0, 0.0
    target, extra_db = integrated_loudness(planned, sample_rate), 0.0
    for _ in range(MAKEUP_PASSES):
        loss = target - integrated_loudness(limited, sample_rate)
        if not cut_db or not math.isfinite(loss) or abs(loss) < 0.05:
            break
        extra_db = min(MAX_MAKEUP_DB, max(0.0, extra_db + loss))
        limited, cut_db = limit(gained(extra_db), sample_rate, ceiling_db)
    return limited, round(extra_db, 3), cut_db


def match(wave: np.ndarray, sample_rate: int, target_lufs: float,
          ceiling_db: float = PEAK_CEILING_DB) -> tuple[np.ndarray, dict]:
    """``wave`` scaled by one gain to ``target_lufs``, its peaks limited under ``ceiling_db``
    (:func:`limit_made_up`), and what was done: ``gain_db`` (with the make-up),
    ``loudness_before`` / ``_after``, ``true_peak_db`` after, ``peak_limited`` (the limiter
    acted) and ``limiter_db`` (its deepest cut). A clip too short to measure is only kept
    under the ceiling; a silent one is left as it is."""
    wave = np.asarray(wave)
    before = integrated_loudness(wave, sample_rate)
    gain_db = 0.0 if not math.isfinite(before) or before < SILENCE_LUFS else target_lufs - before
    scaled, extra_db, cut_db = limit_made_up(
        lambda extra_db: wave * 10 ** ((gain_db + extra_db) / 20), sample_rate, ceiling_db)
    scaled = scaled.astype(wave.dtype)
    return scaled, {"gain_db": round(gain_db + extra_db, 3), "loudness_before": _rounded(before),
                    "loudness_after": _rounded(integrated_loudness(scaled, sample_rate)),
                    "true_peak_db": _rounded(true_peak_db(scaled, sample_rate)),
                    "peak_limited": cut_db > 0, "limiter_db": cut_db}


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


def _peaks(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """Each sample's peak over all channels, between it and the next sample too (4x
    oversampled, as BS.1770 suggests)."""
    wave = np.atleast_2d(np.asarray(wave, dtype=np.float64))
    if wave.size == 0:
        return np.zeros(wave.shape[-1])
    upsampled = soxr.resample(np.ascontiguousarray(wave.T), sample_rate, 4 * sample_rate)
    between = np.abs(upsampled).max(axis=1)
    between = np.pad(between, (0, max(0, 4 * wave.shape[-1] - between.size)))
    between = between[: 4 * wave.shape[-1]].reshape(-1, 4).max(axis=1)
    return np.maximum(np.abs(wave).max(axis=0), between)


def _rounded(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None
