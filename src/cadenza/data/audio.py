"""Audio in and out: read any soundfile format, resample with soxr, write wav atomically.

Waves are float32 arrays of shape ``(channels, samples)`` in [-1, 1] (numpy here; tensors
elsewhere). Every reading error names the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr

from cadenza.atomic import replacing

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif")
WAV_SUBTYPES = {"pcm16": "PCM_16", "pcm24": "PCM_24", "float": "FLOAT"}


class AudioError(ValueError):
    """A file that cannot be used as audio; the message names the file and the reason."""


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    sample_rate: int
    channels: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def _existing_file(path: str | os.PathLike) -> Path:
    """``path`` if it is a file; else an AudioError that says what it is instead."""
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    return path


def info(path: str | os.PathLike) -> AudioInfo:
    """Header facts of an audio file, without decoding it."""
    path = _existing_file(path)
    try:
        header = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise AudioError(f"{path}: not readable as audio ({error})") from None
    return AudioInfo(path, int(header.samplerate), int(header.channels), int(header.frames))


def load(
    path: str | os.PathLike,
    sample_rate: int | None = None,
    *,
    channels: int | None = None,
    start_seconds: float = 0.0,
    seconds: float | None = None,
) -> tuple[np.ndarray, int]:
    """Read ``(channels, samples)`` float32, optionally a window, resampled and re-channelled.

    Returns the wave and its sample rate (``sample_rate`` if given, else the file's).
    """
    path = _existing_file(path)
    try:
        with soundfile.SoundFile(str(path)) as handle:
            native_rate = handle.samplerate
            start = round(start_seconds * native_rate)
            frames = -1 if seconds is None else round(seconds * native_rate)
            handle.seek(min(start, handle.frames))
            data = handle.read(frames, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise AudioError(f"{path}: not readable as audio ({error})") from None
    wave = np.ascontiguousarray(data.T)
    if not np.isfinite(wave).all():
        raise AudioError(f"{path}: contains NaN or infinite samples")
    if channels is not None:
        wave = to_channels(wave, channels)
    if sample_rate is not None and sample_rate != native_rate:
        wave = resample(wave, native_rate, sample_rate)
        native_rate = sample_rate
    return wave, int(native_rate)


def resample(wave: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited resampling with soxr (VHQ), per channel."""
    if from_rate == to_rate:
        return wave.astype(np.float32, copy=False)
    out = soxr.resample(np.ascontiguousarray(wave.T), from_rate, to_rate, quality="VHQ")
    return np.ascontiguousarray(out.T, dtype=np.float32)


def to_channels(wave: np.ndarray, channels: int) -> np.ndarray:
    """Mono by averaging, stereo by duplicating mono; other conversions are an error."""
    have = wave.shape[0]
    if have == channels:
        return wave
    if channels == 1:
        return wave.mean(axis=0, keepdims=True)
    if have == 1:
        return np.repeat(wave, channels, axis=0)
    raise ValueError(f"cannot convert {have} channels to {channels}")


def peak_normalize(wave: np.ndarray, peak: float = 0.95) -> np.ndarray:
    """Scale so that the largest absolute sample is ``peak`` (silence is returned unchanged)."""
    largest = float(np.abs(wave).max()) if wave.size else 0.0
    return wave if largest == 0 else wave * (peak / largest)


def fit_peak(wave: np.ndarray, peak: float | None) -> np.ndarray:
    """The note renderers' level rule: the loudest sample scaled to ``peak``; with
    ``peak=None`` levels are kept, only scaled down to 0.99 if louder (silence is unchanged)."""
    largest = float(np.abs(wave).max()) if wave.size else 0.0
    if largest == 0:
        return wave
    if peak is not None:
        return wave * np.float32(peak / largest)
    return wave * np.float32(0.99 / largest) if largest > 0.99 else wave


def fade_out(count: int) -> np.ndarray:
    """Raised-cosine gain from 1 to 0 over ``count`` samples: cuts a sound without a click."""
    return (0.5 * (1.0 + np.cos(np.pi * (np.arange(count) + 1) / count))).astype(np.float32)


def loudness_normalize(wave: np.ndarray, target_dbfs: float = -20.0) -> np.ndarray:
    """Scale to an RMS level of ``target_dbfs`` dB full scale, then limit the peak to 1."""
    rms = float(np.sqrt(np.mean(np.square(wave, dtype=np.float64)))) if wave.size else 0.0
    if rms == 0:
        return wave
    scaled = wave * (10 ** (target_dbfs / 20) / rms)
    largest = float(np.abs(scaled).max())
    return scaled / largest if largest > 1 else scaled


def write(
    path: str | os.PathLike, wave: np.ndarray, sample_rate: int, subtype: str = "pcm16"
) -> Path:
    """Write a wav atomically (temp file in the same folder, then rename); never half-written.

    ``subtype`` is ``pcm16``, ``pcm24`` or ``float``. Integer formats clip to [-1, 1].
    """
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim == 1:
        wave = wave[None]
    with open_wav(path, sample_rate, wave.shape[0], subtype) as append:
        append(wave)
    return Path(path)


@contextmanager
def open_wav(
    path: str | os.PathLike, sample_rate: int, channels: int, subtype: str = "pcm16"
) -> Iterator[Callable[[np.ndarray], None]]:
    """Write a wav piece by piece: yields ``append(wave)`` taking ``(channels, samples)`` chunks.

    The file grows in a temporary file in the same folder and is renamed to ``path`` when the
    block ends without error (removed otherwise), so memory stays flat however long the audio
    and nothing half-written is ever left at ``path``. Integer subtypes clip to [-1, 1].
    """
    if subtype not in WAV_SUBTYPES:
        raise ValueError(f"unknown wav subtype {subtype!r}; choose {', '.join(WAV_SUBTYPES)}")

    def append_to(file: soundfile.SoundFile) -> Callable[[np.ndarray], None]:
        def append(wave: np.ndarray) -> None:
            wave = np.asarray(wave, dtype=np.float32).reshape(channels, -1)
            # libsndfile does not clip out-of-range floats when it writes integer formats.
            file.write((wave if subtype == "float" else np.clip(wave, -1.0, 1.0)).T)

        return append

    with replacing(path, ".wav") as temporary, soundfile.SoundFile(
        str(temporary), "w", sample_rate, channels, WAV_SUBTYPES[subtype], format="WAV"
    ) as file:
        yield append_to(file)
