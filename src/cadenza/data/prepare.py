"""Encode a collection once into sharded, resumable caches of representation tensors.

A cache folder holds ``plan.json`` (the representation, chunk length and which files go into
which shard, fixed before any work starts), ``representation.safetensors`` (fitted statistics,
if the representation has any) and ``shards/shard-NNNNN.safetensors``. A shard file appears
only when complete (written to a temporary name, then renamed), so an interrupted run is
finished by running the same command again: complete shards are skipped, the rest redone.
``shard=(i, n)`` takes every n-th shard starting at i, so n machines can share the work.

Recordings are read, resampled and cut into chunks a block at a time, so a long file never
sits in memory as a whole wave; only its encoded chunks are kept until its shard is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from cadenza.atomic import replacing, write_json
from cadenza.data import audio
from cadenza.data.dataset import Manifest
from cadenza.representations import Representation, representation

PLAN_VERSION = 1
FIT_CHUNKS = 256  # the representation's statistics see at most this many chunks of a file


def _save_atomic(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    with replacing(path) as temporary:
        save_file(tensors, str(temporary), metadata=metadata)


def _chunks(wave: np.ndarray, samples: int) -> np.ndarray:
    """Non-overlapping chunks of ``samples``; a tail shorter than half a chunk is dropped."""
    count, tail = divmod(wave.shape[1], samples)
    if tail >= samples // 2:
        wave = np.pad(wave, ((0, 0), (0, samples - tail)))
        count += 1
    return wave[:, : count * samples].reshape(wave.shape[0], count, samples).transpose(1, 0, 2)


def _chunk_batches(path: Path, sample_rate: int, samples: int, channels: int, batch: int,
                   limit: float | None = None) -> Iterator[torch.Tensor]:
    """A recording as (<= batch, channels, samples) tensors at the representation's rate,
    streamed: the chunks of ``_chunks`` on the whole wave, never holding the whole wave."""
    pending, held = [], 0  # blocks not yet cut into a batch, and their samples
    for block in audio.resampled_blocks(path, sample_rate, channels, limit=limit):
        pending.append(block)
        held += block.shape[1]
        while held >= batch * samples:
            wave = np.concatenate(pending, axis=1)
            cut = batch * samples
            yield torch.from_numpy(np.ascontiguousarray(_chunks(wave[:, :cut], samples)))
            pending, held = [wave[:, cut:]], held - cut
    wave = np.concatenate(pending, axis=1) if pending else np.zeros((channels, 0), np.float32)
    if wave.shape[1] and len(chunks := _chunks(wave, samples)):  # the last, maybe padded
        yield torch.from_numpy(np.ascontiguousarray(chunks))


def _encode_file(rep: Representation, path: Path, samples: int, channels: int,
                 limit: float | None = None, batch: int = 16) -> torch.Tensor:
    with torch.no_grad():
        parts = [rep.encode(chunks) for chunks in
                 _chunk_batches(path, rep.sample_rate, samples, channels, batch, limit)]
    return torch.cat(parts) if parts else torch.empty(0)


def _load_representation(cache: Path, plan: dict) -> Representation:
    rep = representation(**plan["representation"])
    state_path = cache / "representation.safetensors"
    if state_path.exists():
        rep.load_state_dict(load_file(str(state_path)))
    return rep


def _encode_shard(cache: str, index: int, limit: float | None = None) -> str:
    """Worker: encode every file of shard ``index`` into one safetensors file."""
    torch.set_num_threads(1)
    cache = Path(cache)
    plan = json.loads((cache / "plan.json").read_text())
    rep = _load_representation(cache, plan)
    samples = round(plan["chunk_seconds"] * rep.sample_rate)
    root = Path(plan["root"])
    tensors, owners = [], []
    for position, item in enumerate(plan["shards"][index]):
        try:
            encoded = _encode_file(rep, root / item["path"], samples, plan["channels"], limit)
        except audio.AudioError as error:  # scanned fine once, so it changed since
            raise audio.AudioError(f"{error}; it is not as when the collection was scanned: "
                                   "scan it again into a new cache") from None
        tensors.append(encoded)
        owners.append(torch.full((len(encoded),), position, dtype=torch.int64))
    path = cache / "shards" / f"shard-{index:05d}.safetensors"
    filled = [tensor for tensor in tensors if tensor.numel()]
    if filled:
        data = torch.cat(filled)
    else:  # every file shorter than half a chunk: an empty shard of the right shape
        with torch.no_grad():
            data = rep.encode(torch.zeros(1, plan["channels"], samples))[:0]
    metadata = {"files": json.dumps([item["path"] for item in plan["shards"][index]])}
    _save_atomic({"data": data.contiguous(), "file": torch.cat(owners)}, path, metadata)
    return str(path)


def plan_cache(
    manifest: Manifest,
    cache: str | os.PathLike,
    rep: Representation,
    *,
    chunk_seconds: float,
    channels: int = 1,
    files_per_shard: int = 16,
    fit_files: int = 32,
    max_seconds: float | None = None,
) -> dict:
    """Write (or check) ``plan.json`` and fit the representation's statistics once, on the
    first ``FIT_CHUNKS`` chunks of each of the plan's first ``fit_files`` files."""
    cache = Path(cache)
    entries = sorted(manifest.entries, key=lambda entry: (entry.sha256, entry.path))
    shards = [
        [{"path": entry.path, "sha256": entry.sha256} for entry in entries[i : i + files_per_shard]]
        for i in range(0, len(entries), files_per_shard)
    ]
    plan: dict[str, Any] = {
        "version": PLAN_VERSION,
        "root": manifest.root,
        "representation": rep.config(),
        "chunk_seconds": chunk_seconds,
        "channels": channels,
        "shards": shards,
    }
    existing = cache / "plan.json"
    if existing.exists():
        previous = json.loads(existing.read_text())
        if previous != plan:
            raise ValueError(
                f"{cache} already holds a cache of other files or settings; "
                "use a new folder or delete this one"
            )
    else:
        (cache / "shards").mkdir(parents=True, exist_ok=True)
        write_json(existing, plan)
    state_path = cache / "representation.safetensors"
    if hasattr(rep, "fit") and not state_path.exists():
        # Statistics from the first files of the fixed plan: every machine computes the same.
        samples = round(chunk_seconds * rep.sample_rate)
        root = Path(manifest.root)
        batches = (_first_chunks(root / e.path, rep.sample_rate, samples, channels,
                                 max_seconds) for e in entries[:fit_files])
        rep.fit(batch for batch in batches if batch is not None and len(batch))
        _save_atomic(
            {k: v.contiguous() for k, v in rep.state_dict().items()}, state_path, {}
        )
    return plan


def _first_chunks(path: Path, sample_rate: int, samples: int, channels: int,
                  limit: float | None) -> torch.Tensor | None:
    """The first ``FIT_CHUNKS`` chunks of a recording (all, if it has fewer), one batch."""
    batches = _chunk_batches(path, sample_rate, samples, channels, FIT_CHUNKS, limit)
    try:
        return next(batches, None)
    finally:
        batches.close()  # the file is closed now, not when the generator is collected


def _remove_stale_temporaries(folder: Path, mine: range, alone: bool) -> None:
    """Delete what a killed run of this slice left half-written (never other slices' files)."""
    owned = {f".shard-{i:05d}.safetensors." for i in mine}
    for path in folder.iterdir():
        name = path.name
        if any(name.startswith(prefix) for prefix in owned) or (alone and name.startswith(".tmp")):
            path.unlink(missing_ok=True)


def prepare(
    manifest: Manifest,
    cache: str | os.PathLike,
    rep: Representation,
    *,
    chunk_seconds: float,
    channels: int = 1,
    files_per_shard: int = 16,
    workers: int = 1,
    shard: tuple[int, int] = (0, 1),
    progress: bool = True,
    after_shard: Callable[[int], None] | None = None,
    max_seconds: float | None = None,
) -> dict:
    """Encode this machine's slice of the collection; returns a summary of what was done.

    ``after_shard`` is called in this process with each shard's index once its file is
    complete (tests use it to interrupt a run between shards). ``max_seconds``: the longest
    recording read (``audio.max_seconds()`` by default), as ``scan`` checked it.
    """
    index, count = shard
    if not 0 <= index < count:
        raise ValueError(f"--shard must be i/n with 0 <= i < n, got {index}/{count}")
    cache = Path(cache)
    plan = plan_cache(
        manifest, cache, rep, chunk_seconds=chunk_seconds, channels=channels,
        files_per_shard=files_per_shard, max_seconds=max_seconds,
    )
    mine = range(index, len(plan["shards"]), count)
    _remove_stale_temporaries(cache / "shards", mine, alone=count == 1)
    todo = [i for i in mine if not (cache / "shards" / f"shard-{i:05d}.safetensors").exists()]
    bar = tqdm(total=len(mine), initial=len(mine) - len(todo), desc="shards", unit="shard",
               disable=not progress)
    if workers <= 1:
        for i in todo:
            _encode_shard(str(cache), i, max_seconds)
            bar.update()
            if after_shard is not None:
                after_shard(i)
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            done = pool.map(_encode_shard, [str(cache)] * len(todo), todo,
                            [max_seconds] * len(todo))
            for i, _ in zip(todo, done, strict=True):
                bar.update()
                if after_shard is not None:
                    after_shard(i)
    bar.close()
    return {"shards": len(mine), "encoded": len(todo), "skipped": len(mine) - len(todo)}


class CachedChunks(torch.utils.data.Dataset):
    """Every chunk of a finished cache, in shard order; memory-maps one shard at a time."""

    def __init__(self, cache: str | os.PathLike):
        self.cache = Path(cache)
        plan = json.loads((self.cache / "plan.json").read_text())
        self.representation = _load_representation(self.cache, plan)
        self.paths = []
        self.offsets = [0]
        for i in range(len(plan["shards"])):
            path = self.cache / "shards" / f"shard-{i:05d}.safetensors"
            if not path.exists():
                raise ValueError(f"{self.cache}: shard {i} is missing; finish `prepare` first")
            with safe_open(str(path), "pt") as handle:
                rows = handle.get_slice("data").get_shape()[0]
            self.paths.append(path)
            self.offsets.append(self.offsets[-1] + rows)
        self._open: tuple[int, Any] | None = None

    def __len__(self) -> int:
        return self.offsets[-1]

    def __getitem__(self, index: int) -> torch.Tensor:
        shard = int(np.searchsorted(self.offsets, index, side="right") - 1)
        if self._open is None or self._open[0] != shard:
            self._open = (shard, safe_open(str(self.paths[shard]), "pt"))
        return self._open[1].get_slice("data")[index - self.offsets[shard]]

