"""Atomic writes: a file or folder appears complete under its name, or not at all.

Everything cadenza writes (audio, reports, caches, checkpoints) is made under a temporary name
in the destination folder and renamed into place, so an interrupted run never leaves a
half-written file behind. The result gets the permissions a plain ``open`` would give it
(``mkstemp`` and ``mkdtemp`` would leave it private to its owner).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextmanager
def replacing(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary file path beside ``path``; renamed to ``path`` if the block succeeds,
    removed if it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        # After the writer, which may have made the file itself (safetensors makes it 0600).
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def replacing_folder(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``folder``; it replaces ``folder`` (and whatever was
    there) if the block succeeds, and is removed if it raises."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())
        yield staging
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    return Path(path)


def write_json(path: str | os.PathLike, value: Any) -> Path:
    """``value`` as indented JSON (anything else by ``str``), written atomically."""
    return write_text(path, json.dumps(value, indent=2, default=str) + "\n")
