"""Datasets from any folder of recordings: a checked manifest, a split by file, random crops.

``scan`` reads every audio file under a folder once, a block at a time (memory stays flat
however long a file): it records duration, sample rate, channels and a content hash, and
names every file it cannot use (unreadable, corrupt, empty, too short, longer than
``audio.max_seconds()``, an implausible header or content; see ``cadenza.data.audio``) in a
report instead of failing. ``split`` assigns whole files to train
or validation, never crops, deterministically. ``RandomCrops`` is a torch ``Dataset`` of
fixed-length crops that rejects near-silent ones, fully determined by its seed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from cadenza.atomic import write_json
from cadenza.data import audio
from cadenza.data.walk import audio_files


@dataclass(frozen=True)
class Entry:
    """One usable recording, its path relative to the manifest's root."""

    path: str
    seconds: float
    sample_rate: int
    channels: int
    sha256: str


@dataclass
class Manifest:
    root: str
    entries: list[Entry] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"} per unusable file

    @property
    def seconds(self) -> float:
        return sum(entry.seconds for entry in self.entries)

    def save(self, path: str | os.PathLike) -> Path:
        return write_json(
            Path(path),
            {
                "root": self.root,
                "entries": [asdict(entry) for entry in self.entries],
                "skipped": self.skipped,
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> Manifest:
        try:
            data = json.loads(Path(path).read_text())
            entries = [Entry(**entry) for entry in data["entries"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}: not a cadenza manifest ({error})") from None
        return cls(data["root"], entries, data.get("skipped", []))

    def absolute(self, entry: Entry) -> Path:
        return Path(self.root) / entry.path

    def report(self) -> str:
        """A short human-readable account: what was kept, what was skipped and why."""
        lines = [
            f"{len(self.entries)} usable files, {self.seconds / 3600:.2f} h of audio "
            f"under {self.root}"
        ]
        if self.skipped:
            lines.append(f"{len(self.skipped)} skipped:")
            lines += [f"  {item['path']}: {item['reason']}" for item in self.skipped]
        return "\n".join(lines)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: Path, min_seconds: float = 0.0,
               max_seconds: float | None = None) -> tuple[Entry | None, str | None]:
    """Decode one file completely, a block at a time; return its entry, or the reason it
    cannot be used. ``max_seconds``: the longest file accepted (``audio.max_seconds()`` by
    default), checked on the header before anything is decoded."""
    try:
        found = audio.info(path)
        frames, sound = 0, False
        for block in audio.blocks(path, limit=max_seconds):
            frames += block.shape[1]
            sound = sound or bool(block.any())
    except audio.AudioError as error:
        return None, str(error).removeprefix(f"{path}: ")
    if frames == 0:
        return None, "empty (no samples)"
    seconds = frames / found.sample_rate
    if seconds < min_seconds:
        return None, f"too short ({seconds:.2f} s; the minimum is {min_seconds:g} s)"
    if not sound:
        return None, "digital silence throughout"
    return Entry(str(path), seconds, found.sample_rate, found.channels, _sha256(path)), None


def scan(
    root: str | os.PathLike, *, min_seconds: float = 0.0, max_seconds: float | None = None,
    progress: bool = True,
) -> Manifest:
    """Recursively check every audio file (by suffix) under ``root`` into a manifest.

    Files are visited in sorted order so the manifest is the same on every machine. Files
    with other suffixes are ignored; audio files that fail are listed in ``skipped``.
    ``max_seconds``: the longest file kept (``audio.max_seconds()`` by default).
    """
    root = Path(root)
    if not root.exists():
        raise ValueError(f"{root}: no such folder")
    if not root.is_dir():
        raise ValueError(f"{root}: is a file, not a folder of recordings")
    if not (math.isfinite(min_seconds) and min_seconds >= 0):
        raise ValueError(f"min_seconds must be 0 or more, got {min_seconds:g}")
    # Links that loop or dangle, folders named like audio: reported in skipped, not dropped.
    paths, passed_over = audio_files(root)
    manifest = Manifest(str(root.resolve()), skipped=passed_over)
    for path in tqdm(paths, desc="scanning", unit="file", disable=not progress):
        entry, reason = check_file(path, min_seconds, max_seconds)
        relative = str(path.relative_to(root))
        if entry is None:
            manifest.skipped.append({"path": relative, "reason": reason})
        else:
            manifest.entries.append(
                Entry(relative, entry.seconds, entry.sample_rate, entry.channels, entry.sha256)
            )
    return manifest


def split(
    manifest: Manifest, validation_fraction: float = 0.1, seed: int = 0
) -> tuple[list[Entry], list[Entry]]:
    """Assign whole files to (train, validation) by a seeded hash of their content.

    Identical recordings (same hash) always land on the same side, so validation never
    hears a duplicate of a training file; the assignment does not depend on file order.
    """
    if not 0 <= validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")

    def score(entry: Entry) -> int:
        return int(hashlib.sha256(f"{seed}:{entry.sha256}".encode()).hexdigest()[:15], 16)

    ranked = sorted(manifest.entries, key=score)
    count = math.ceil(validation_fraction * len(ranked)) if validation_fraction > 0 else 0
    count = min(count, len(ranked) - 1)  # never leave nothing to train on
    validation_hashes = {entry.sha256 for entry in ranked[:count]}
    train = [entry for entry in manifest.entries if entry.sha256 not in validation_hashes]
    validation = [entry for entry in manifest.entries if entry.sha256 in validation_hashes]
    return train, validation


class RandomCrops(torch.utils.data.Dataset):
    """Fixed-length crops of a list of recordings, resampled and re-channelled on the fly.

    Item ``i`` of epoch ``e`` depends only on (seed, e, i): a file chosen with probability
    proportional to its duration, then a start time; crops quieter than ``silence_db`` (RMS,
    dB full scale) are redrawn up to ``attempts`` times. Files shorter than a crop are
    zero-padded at the end. Returns float32 tensors of shape (channels, samples).
    ``positional``: item i is already a fresh random draw, so a trainer may use any index once.
    """

    positional = True

    def __init__(
        self,
        manifest: Manifest,
        entries: list[Entry],
        *,
        seconds: float,
        sample_rate: int,
        channels: int = 1,
        length: int = 1000,
        seed: int = 0,
        silence_db: float = -50.0,
        attempts: int = 10,
    ):
        if not entries:
            raise ValueError("no recordings to crop from")
        self.manifest = manifest
        self.entries = entries
        self.seconds = seconds
        self.sample_rate = sample_rate
        self.channels = channels
        self.length = length
        self.seed = seed
        self.epoch = 0
        self.silence_db = silence_db
        self.attempts = attempts
        durations = np.array([entry.seconds for entry in entries])
        self.weights = durations / durations.sum()
        self.samples = round(seconds * sample_rate)

    def __len__(self) -> int:
        return self.length

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        crop = None
        for _ in range(self.attempts):
            entry = self.entries[rng.choice(len(self.entries), p=self.weights)]
            start = rng.uniform(0, max(entry.seconds - self.seconds, 0.0))
            crop = self._read(entry, start)
            rms = float(np.sqrt(np.mean(np.square(crop, dtype=np.float64))))
            if rms > 0 and 20 * math.log10(rms) > self.silence_db:
                break
        return torch.from_numpy(crop)

    def _read(self, entry: Entry, start_seconds: float) -> np.ndarray:
        wave, _ = audio.load(
            self.manifest.absolute(entry),
            self.sample_rate,
            channels=self.channels,
            start_seconds=start_seconds,
            seconds=self.seconds,
        )
        if wave.shape[1] < self.samples:
            wave = np.pad(wave, ((0, 0), (0, self.samples - wave.shape[1])))
        return np.ascontiguousarray(wave[:, : self.samples])
