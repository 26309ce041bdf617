"""Equal-length mono clips cut from the audio files under a folder, and batches of them.

``load_clips`` reads every audio file under a folder (recursively; files that cannot be used
are skipped and listed with the reason) and cuts it into non-overlapping mono clips of
``clip_seconds`` at ``sample_rate``; a shorter remainder at the end of a file is dropped.
``clip_batches`` hands a set to a model a batch at a time, at the model's rate.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from cadenza.data import audio, walk

BATCH_CLIPS = 64  # clips handed to a model at once: bounds memory for large folders


@dataclass
class ClipSet:
    """Equal-length mono clips cut from the audio files under a folder, and what was skipped."""

    name: str
    folder: str
    sample_rate: int
    clips: np.ndarray  # (n, samples) float32
    sources: list[tuple[str, float]]  # (file relative to folder, start in seconds) per clip
    files: int = 0  # files that gave at least one clip
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"} per unused file
    # the files' own sample rates before resampling: rate -> files (what the clips can hold)
    native_rates: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def seconds(self) -> float:
        return float(self.clips.size / self.sample_rate)

    def label(self, index: int) -> str:
        path, start = self.sources[index]
        return f"{path} @ {start:g} s"

    def summary(self) -> dict:
        return {"folder": self.folder, "files": self.files, "clips": len(self),
                "seconds": round(self.seconds, 3), "skipped": self.skipped,
                "native_rates": {str(rate): count for rate, count in
                                 sorted(self.native_rates.items())}}

    @classmethod
    def from_array(cls, name: str, clips: np.ndarray, sample_rate: int) -> ClipSet:
        """Clips already in memory, ``(n, samples)``; each is its own "file"."""
        clips = np.asarray(clips, dtype=np.float32)
        sources = [(f"{name}-{i}", 0.0) for i in range(len(clips))]
        return cls(name, f"<{name}>", sample_rate, clips, sources, files=len(clips),
                   native_rates={sample_rate: len(clips)} if len(clips) else {})


def audio_files(folder: str | os.PathLike) -> list[Path]:
    """Every file with an audio suffix under ``folder``, recursively, in sorted order
    (``cadenza.data.walk.audio_files`` without what it passed over)."""
    return walk.audio_files(folder)[0]


def load_clips(
    folder: str | os.PathLike,
    sample_rate: int = 16000,
    clip_seconds: float = 4.0,
    *,
    name: str = "clips",
    progress: bool = True,
) -> ClipSet:
    """Cut every audio file under ``folder`` into mono clips; never fails on a bad file.

    Each file is read, averaged to mono and resampled to ``sample_rate``, then cut into
    non-overlapping clips of ``clip_seconds`` from its start; the remainder shorter than a
    clip is dropped. A file that cannot be decoded, holds NaN / infinite samples, is empty, or
    is shorter than one clip is listed in ``skipped`` with the reason, as are links that loop
    or dangle and folders named like audio files.
    """
    if sample_rate <= 0 or clip_seconds <= 0:
        raise ValueError("sample_rate and clip_seconds must be positive")
    root = Path(folder)
    length = round(clip_seconds * sample_rate)
    clips: list[np.ndarray] = []
    sources: list[tuple[str, float]] = []
    paths, skipped = walk.audio_files(root)  # links that loop or dangle are listed too
    native_rates: dict[int, int] = {}
    files = 0
    for path in tqdm(paths, desc=f"reading {name}", unit="file", disable=not progress):
        relative = str(path.relative_to(root))
        try:
            native_rate = audio.info(path).sample_rate
            wave, _ = audio.load(path, sample_rate, channels=1)
        except audio.AudioError as error:
            skipped.append({"path": relative,
                            "reason": str(error).removeprefix(f"{path}: ")})
            continue
        except Exception as error:  # a broken file is reported, never the end of the run
            skipped.append({"path": relative, "reason": f"{type(error).__name__}: {error}"})
            continue
        samples = wave[0]
        count = samples.size // length
        if samples.size == 0:
            skipped.append({"path": relative, "reason": "empty (no samples)"})
            continue
        if count == 0:
            skipped.append({"path": relative, "reason": (
                f"shorter than one clip ({samples.size / sample_rate:.2f} s < "
                f"{clip_seconds:g} s)")})
            continue
        files += 1
        native_rates[native_rate] = native_rates.get(native_rate, 0) + 1
        clips.append(samples[: count * length].reshape(count, length))
        sources += [(relative, round(i * clip_seconds, 6)) for i in range(count)]
    stacked = (np.concatenate(clips) if clips
               else np.zeros((0, length), dtype=np.float32)).astype(np.float32, copy=False)
    return ClipSet(name, str(root), sample_rate, stacked, sources, files, skipped, native_rates)


def clip_batches(
    clips: ClipSet, sample_rate: int, *, desc: str, progress: bool = True,
) -> Iterator[np.ndarray]:
    """The clips ``BATCH_CLIPS`` at a time, float64, resampled to ``sample_rate`` (a model's
    rate) when it differs from theirs; ``desc`` labels the progress bar."""
    for start in tqdm(range(0, len(clips), BATCH_CLIPS), desc=desc, unit="batch",
                      disable=not progress):
        batch = clips.clips[start:start + BATCH_CLIPS]
        if sample_rate != clips.sample_rate:
            batch = audio.resample(batch, clips.sample_rate, sample_rate)
        yield batch.astype(np.float64)
