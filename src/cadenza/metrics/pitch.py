"""Pitch tracks: YIN and pYIN (librosa) with frame times in seconds, as in seed 003's analysis.

``pitch_track`` is the one-call helper: ``(times, f0, voiced)`` with ``f0`` NaN where the
frame is unvoiced. pYIN decides voicing itself (an HMM over pitch and voicing); YIN has no
voicing decision, so frames more than ``silence_db`` below the loudest frame count as unvoiced,
which is enough to blank out silence and decayed tails in music.
"""

from __future__ import annotations

from typing import NamedTuple

import librosa
import numpy as np

from cadenza.metrics.arrays import as_mono

METHODS = ("pyin", "yin")
FMIN = 65.41  # C2: below the fundamental of most melodic lines, above the hum
FMAX = 2093.0  # C7: pYIN's cost grows with the range, and few fundamentals lie above


class PitchTrack(NamedTuple):
    times: np.ndarray  # frame centres, seconds
    f0: np.ndarray  # Hz, NaN where unvoiced
    voiced: np.ndarray  # bool


def _times(frames: int, sample_rate: int, hop_length: int) -> np.ndarray:
    return librosa.frames_to_time(np.arange(frames), sr=sample_rate, hop_length=hop_length)


def yin(
    wave: np.ndarray,
    sample_rate: int,
    fmin: float = FMIN,
    fmax: float = FMAX,
    frame_length: int = 2048,
    hop_length: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """YIN f0 of every frame: ``(times, f0)``, no voicing decision (see ``pitch_track``)."""
    hop_length = hop_length or frame_length // 4
    f0 = librosa.yin(as_mono(wave), fmin=fmin, fmax=fmax, sr=sample_rate,
                     frame_length=frame_length, hop_length=hop_length)
    return _times(len(f0), sample_rate, hop_length), f0


def pyin(
    wave: np.ndarray,
    sample_rate: int,
    fmin: float = FMIN,
    fmax: float = FMAX,
    frame_length: int = 2048,
    hop_length: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pYIN: ``(times, f0, voiced, voiced_probability)``; ``f0`` is NaN where unvoiced."""
    hop_length = hop_length or frame_length // 4
    f0, voiced, probability = librosa.pyin(as_mono(wave), fmin=fmin, fmax=fmax, sr=sample_rate,
                                           frame_length=frame_length, hop_length=hop_length)
    return _times(len(f0), sample_rate, hop_length), f0, voiced, probability


def pitch_track(
    wave: np.ndarray,
    sample_rate: int,
    method: str = "pyin",
    fmin: float = FMIN,
    fmax: float = FMAX,
    frame_length: int = 2048,
    hop_length: int | None = None,
    silence_db: float = 40.0,
) -> PitchTrack:
    """``(times, f0, voiced)`` by ``pyin`` (default, slower) or ``yin`` with an energy gate."""
    hop_length = hop_length or frame_length // 4
    options = {"fmin": fmin, "fmax": fmax, "frame_length": frame_length,
               "hop_length": hop_length}
    if method == "pyin":
        times, f0, voiced, _ = pyin(wave, sample_rate, **options)
        return PitchTrack(times, f0, voiced)
    if method == "yin":
        times, f0 = yin(wave, sample_rate, **options)
        rms = librosa.feature.rms(y=as_mono(wave), frame_length=frame_length,
                                  hop_length=hop_length)[0][: len(f0)]
        level = librosa.amplitude_to_db(rms, ref=np.max, top_db=None)
        voiced = (level > -silence_db) & (rms > 1e-5)  # and never digital silence (-100 dBFS)
        return PitchTrack(times, np.where(voiced, f0, np.nan), voiced)
    raise ValueError(f"unknown pitch method {method!r}; choose {', '.join(METHODS)}")
