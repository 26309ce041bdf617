"""Audio in and out: read any soundfile format, resample with soxr, write wav atomically.

Waves are float32 arrays of shape ``(channels, samples)`` in [-1, 1] (numpy here; tensors
elsewhere). Every reading error names the file.

Nothing is decoded before the header is checked: its sample rate must lie between
``MIN_SAMPLE_RATE`` and ``MAX_SAMPLE_RATE``, an uncompressed file must hold the bytes its
header claims, and a file decoded whole must last at most ``max_seconds()`` (3 hours unless
the environment variable ``CADENZA_MAX_SECONDS`` says otherwise), so a crafted or damaged
header cannot make a reader allocate gigabytes. Files are decoded ``BLOCK_FRAMES`` at a time
(``blocks``, ``resampled_blocks``; ``load`` copies them into one array), decoding stops at
that limit even where a compressed format's header lies, and each block is checked as it
comes: NaN or infinite samples, or a float file peaking above ``MAX_FLOAT_PEAK`` times full
scale, make the file unusable.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr

from cadenza.atomic import cannot_write, replacing

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif")
WAV_SUBTYPES = {"pcm16": "PCM_16", "pcm24": "PCM_24", "float": "FLOAT"}

MIN_SAMPLE_RATE = 1000  # below this no music is left; a 1 Hz header makes 5 samples "5 s"
MAX_SAMPLE_RATE = 768_000  # the highest rate audio interfaces record at
# Float files may go past full scale (a mix with overs), but not by 60 dB: such a file is
# data of another kind, or scaled wrongly, and would swamp every statistic fitted on it.
MAX_FLOAT_PEAK = 1000.0
DEFAULT_MAX_SECONDS = 3 * 3600.0
MAX_SECONDS_VARIABLE = "CADENZA_MAX_SECONDS"
BLOCK_FRAMES = 1 << 16  # frames decoded at a time: a few MB whatever the file's length

# Bytes per sample of the uncompressed subtypes, in the containers that store them plainly.
_SAMPLE_BYTES = {"PCM_S8": 1, "PCM_U8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4,
                 "FLOAT": 4, "DOUBLE": 8, "ULAW": 1, "ALAW": 1}
_PLAIN_CONTAINERS = {"WAV", "WAVEX", "AIFF", "W64", "RF64", "CAF", "AU"}
_SOUNDFILE_ERRORS = (soundfile.LibsndfileError, RuntimeError, OSError)


class AudioError(ValueError):
    """A file that cannot be used as audio; the message names the file and the reason."""


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    sample_rate: int
    channels: int
    frames: int
    subtype: str = ""  # libsndfile's name of the sample format, e.g. PCM_16 or FLOAT
    format: str = ""  # and of the container, e.g. WAV, FLAC or MP3

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def max_seconds() -> float:
    """The longest audio decoded at once: ``CADENZA_MAX_SECONDS`` if set, else
    ``DEFAULT_MAX_SECONDS``."""
    text = os.environ.get(MAX_SECONDS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{MAX_SECONDS_VARIABLE} must be a positive number of seconds, "
                         f"got {text!r}")
    return value


def check_seconds(seconds: float, what: str) -> float:
    """``seconds`` of audio to make, if it is positive, finite and within ``max_seconds()``
    (an extension streams, but a year of it is still a mistake); else a ValueError naming
    ``what``."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{what} must be a positive number of seconds, got {seconds:g}")
    limit = max_seconds()
    if seconds > limit:
        raise ValueError(f"{what}: {_duration(seconds)} is more than the {_duration(limit)} "
                         f"cadenza makes at once; set {MAX_SECONDS_VARIABLE} to allow more")
    return seconds


def _reason(error: Exception) -> str:
    """libsndfile's complaint without the path it repeats; its decoders say "File does not
    exist" of an existing file whose bytes are not in their format."""
    text = str(error).split(": ", 1)[-1] if str(error).startswith("Error opening") else str(error)
    if "does not exist" in text or "not a regular file" in text:
        return "its bytes are not in a format libsndfile reads"
    return text


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 60:.3g} min" if seconds >= 60 else f"{seconds:.3g} s"


def _existing_file(path: str | os.PathLike) -> Path:
    """``path`` if it is a file; else an AudioError that says what it is instead."""
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    return path


def info(path: str | os.PathLike) -> AudioInfo:
    """Header facts of an audio file, checked (rate, channels, size), without decoding it."""
    path = _existing_file(path)
    try:
        header = soundfile.info(str(path))
    except _SOUNDFILE_ERRORS as error:
        raise AudioError(f"{path}: not readable as audio ({_reason(error)})") from None
    found = AudioInfo(path, int(header.samplerate), int(header.channels), int(header.frames),
                      str(header.subtype), str(header.format))
    if not MIN_SAMPLE_RATE <= found.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(f"{path}: its header gives a sample rate of {found.sample_rate} Hz, "
                         f"outside {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz; the header is "
                         "damaged or this is not a recording")
    if found.channels < 1:
        raise AudioError(f"{path}: its header gives no channels")
    width = _SAMPLE_BYTES.get(found.subtype)
    if width is not None and found.format in _PLAIN_CONTAINERS:
        claimed, size = found.frames * found.channels * width, path.stat().st_size
        if claimed > size:
            raise AudioError(f"{path}: its header claims {_duration(found.seconds)} of audio "
                             f"({claimed} bytes) but the file holds {size} bytes; it is "
                             "truncated or damaged")
    return found


def check_length(found: AudioInfo, seconds: float | None = None,
                 limit: float | None = None) -> None:
    """An AudioError if decoding ``seconds`` of ``found`` (all of it by default) would pass
    ``limit`` (default ``max_seconds()``); it says how to allow more."""
    limit = max_seconds() if limit is None else limit
    seconds = found.seconds if seconds is None else seconds
    if seconds > limit:
        raise AudioError(
            f"{found.path}: {_duration(seconds)} of audio, more than the {_duration(limit)} "
            "cadenza decodes at once; cut it into shorter files, or set "
            f"{MAX_SECONDS_VARIABLE}={math.ceil(seconds)} to allow it"
        )


def _checked(block: np.ndarray, path: Path) -> np.ndarray:
    """``block`` unless it holds NaN / infinite samples or an implausible peak."""
    if block.size:
        high, low = float(block.max()), float(block.min())  # NaN propagates; no temporaries
        if not (math.isfinite(high) and math.isfinite(low)):
            raise AudioError(f"{path}: contains NaN or infinite samples")
        if max(high, -low) > MAX_FLOAT_PEAK:
            raise AudioError(f"{path}: peaks at {max(high, -low):.3g} times full scale (the "
                             f"most accepted is {MAX_FLOAT_PEAK:g}); scale it to [-1, 1]")
    return block


def _frames(path: Path, found: AudioInfo, start: int, count: int | None,
            limit: float | None, first: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """Decoded ``(frames, channels)`` blocks from frame ``start``, ``count`` frames (all if
    None), the first block ``first`` frames, the rest ``BLOCK_FRAMES``; stopping with an
    AudioError past the limit whatever the header said."""
    most = math.floor((max_seconds() if limit is None else limit) * found.sample_rate)
    done, size = 0, max(first, 1)
    try:
        with soundfile.SoundFile(str(path)) as handle:
            handle.seek(min(start, handle.frames))
            while count is None or done < count:
                want = size if count is None else min(size, count - done)
                data = handle.read(want, dtype="float32", always_2d=True)
                if not len(data):
                    return
                done, size = done + len(data), BLOCK_FRAMES
                if done > most:  # a compressed file's header may understate its length
                    check_length(found, done / found.sample_rate, limit)
                yield data
    except _SOUNDFILE_ERRORS as error:
        raise AudioError(f"{path}: not readable as audio ({_reason(error)})") from None


def blocks(path: str | os.PathLike, *, limit: float | None = None) -> Iterator[np.ndarray]:
    """The whole file as checked ``(channels, frames)`` blocks of up to ``BLOCK_FRAMES``:
    memory stays flat however long the file (up to ``limit`` seconds, ``max_seconds()`` by
    default). The samples are ``load``'s, but for MP3 near each block's start, where
    libsndfile's decoder differs slightly after a partial read."""
    found = info(path)
    check_length(found, limit=limit)
    for data in _frames(found.path, found, 0, None, limit):
        yield _checked(data.T, found.path)


def resampled_blocks(path: str | os.PathLike, sample_rate: int, channels: int,
                     *, limit: float | None = None) -> Iterator[np.ndarray]:
    """``blocks`` at ``sample_rate`` with ``channels`` (as ``to_channels``), streamed through
    soxr: the same samples as ``load(path, sample_rate, channels=channels)``."""
    native = info(path).sample_rate
    stream = None if native == sample_rate else soxr.ResampleStream(
        native, sample_rate, channels, dtype="float32", quality="VHQ")
    for block in blocks(path, limit=limit):
        block = to_channels(block, channels)
        if stream is None:
            yield np.ascontiguousarray(block)
        else:
            yield np.ascontiguousarray(stream.resample_chunk(
                np.ascontiguousarray(block.T), last=False).T)
    if stream is not None:
        yield np.ascontiguousarray(stream.resample_chunk(
            np.zeros((0, channels), np.float32), last=True).T)


def load(
    path: str | os.PathLike,
    sample_rate: int | None = None,
    *,
    channels: int | None = None,
    start_seconds: float = 0.0,
    seconds: float | None = None,
    limit: float | None = None,
) -> tuple[np.ndarray, int]:
    """Read ``(channels, samples)`` float32, optionally a window, resampled and re-channelled.

    Returns the wave and its sample rate (``sample_rate`` if given, else the file's). A file
    (or window) longer than ``limit`` seconds (``max_seconds()`` by default) is refused
    before it is decoded.
    """
    found = info(path)
    native_rate = found.sample_rate
    start = min(round(start_seconds * native_rate), found.frames)
    count = None if seconds is None else max(round(seconds * native_rate), 0)
    expected = found.frames - start if count is None else min(count, found.frames - start)
    check_length(found, expected / native_rate, limit)
    # Blocks are copied into one array made up front: no second copy of the whole file.
    # Except MP3: libsndfile's MPEG decoder gives slightly other samples after a partial
    # read, so it is read at once, and an edit keeps the samples as the file decodes.
    first = expected if found.format == "MP3" else BLOCK_FRAMES
    wave = np.empty((found.channels, expected), dtype=np.float32)
    filled, extra = 0, []
    for data in _frames(found.path, found, start, count, limit, first):
        block = _checked(data.T, found.path)
        room = min(block.shape[1], expected - filled)
        wave[:, filled:filled + room] = block[:, :room]
        filled += room
        if room < block.shape[1]:  # more than the header said (some compressed formats)
            extra.append(block[:, room:])
    if extra:
        wave = np.concatenate([wave, *extra], axis=1)
    elif filled < expected:  # fewer (a truncated file)
        wave = np.ascontiguousarray(wave[:, :filled])
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

    try:
        with replacing(path, ".wav") as temporary, soundfile.SoundFile(
            str(temporary), "w", sample_rate, channels, WAV_SUBTYPES[subtype], format="WAV"
        ) as file:
            yield append_to(file)
    except soundfile.LibsndfileError as error:  # names the temporary file; say what it was
        raise cannot_write(path, error) from None
