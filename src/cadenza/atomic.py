"""Atomic writes: a file or folder appears complete under its name, or not at all.

Everything cadenza writes (audio, reports, caches, checkpoints) is made under a temporary name
in the destination folder and renamed into place, so an interrupted run never leaves a
half-written file behind. The result gets the permissions a plain ``open`` would give it
(``mkstemp`` and ``mkdtemp`` would leave it private to its owner).

A file that several processes add to (``generate.json`` in a folder two ``cadenza generate``
runs write into) is changed with ``update_json`` / ``add_record``: read, changed and written
back while holding an exclusive lock on its folder, so no writer loses another's records.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no flock; writers there are not serialised
    fcntl = None  # type: ignore[assignment]


FULL_BELOW_BYTES = 1 << 20
"""Less free space than this after a failed write: the disk was full."""


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
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        if error.errno == errno.ENOSPC:
            raise cannot_write(path, error) from None
        raise
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cannot_write(path: str | os.PathLike, error: BaseException) -> OSError:
    """``error``, met writing ``path``, as one line that names ``path`` (not its temporary
    file) and says when the disk is full: a full disk often surfaces as a vague error from the
    library that writes (libsndfile's "System error.")."""
    path = Path(path)
    try:
        full = shutil.disk_usage(path.parent).free < FULL_BELOW_BYTES
    except OSError:
        full = False
    if getattr(error, "errno", None) == errno.ENOSPC or full:
        return OSError(f"no space left on {path.parent} (writing {path.name})")
    reason = getattr(error, "strerror", None) or str(error)
    return OSError(f"{path}: cannot write it ({reason})")


def check_writable(folder: str | os.PathLike) -> Path:
    """``folder``, made if missing, once a file could be made in it: checked before long work,
    so a wrong output folder is said at once, not after the work is done."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".cadenza-probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise OSError(f"{folder}: cannot write there ({error.strerror or error})") from None
    return folder


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


@contextmanager
def locked_folder(folder: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` for the block (other holders wait).

    The lock is ``flock`` on the folder itself, so no lock file is left among the user's
    files; it ends with the block or when the process dies. Where the file system has no
    locks (some network mounts), the block runs unlocked rather than not at all."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # e.g. ENOLCK: no lock to take
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing the descriptor releases the lock


def read_json(path: str | os.PathLike) -> Any:
    """The JSON value in ``path``, or None if there is no such file; a ValueError naming the
    file if it holds something else."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not a JSON file ({error}); move it away") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValueError(f"{path}: not a JSON file ({error}); move it away") from None


def update_json(path: str | os.PathLike, change: Callable[[Any], Any]) -> Any:
    """Replace the JSON in ``path`` by ``change(current)`` (``current`` is None if the file
    does not exist yet), atomically and under the lock of its folder: concurrent updates
    are applied one after another and none is lost. Returns the value written."""
    path = Path(path)
    with locked_folder(path.parent):
        value = change(read_json(path))
        write_json(path, value)
    return value


_KEYS = itertools.count()  # two keys made in one microsecond by one process still differ


def unique_key(prefix: str) -> str:
    """``prefix`` with the time to the microsecond (UTC), the process id and a count: a key
    no other run, concurrent or later, shares."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    return f"{prefix}-{stamp}-{os.getpid()}-{next(_KEYS)}"


def add_record(path: str | os.PathLike, record: dict[str, Any], key: str) -> dict[str, Any]:
    """Add ``record`` under ``key`` to the records file ``path`` (e.g. ``generate.json``).

    The file holds the newest record's fields at the top (what one run alone would write,
    so readers of a single record keep working) and ``runs``: every record, oldest first,
    each with its key as ``run``. A record with the same key is replaced. A record's ``files`` that
    the new record lists again are now the new record's (the wav was overwritten), so they
    leave the older record, and an older record left with no files is dropped. A file written
    before records were kept (one record, no ``runs``) becomes the first of them. Returns
    the document written."""
    new = {"run": key, **record}

    def merged(current: Any) -> dict[str, Any]:
        if current is None:
            runs = []
        elif isinstance(current, dict) and isinstance(current.get("runs"), list):
            runs = [run for run in current["runs"] if isinstance(run, dict)]
        elif isinstance(current, dict):
            runs = [current]  # a single record from before
        else:
            raise ValueError(f"{path}: not a cadenza records file; move it away")
        taken = set(map(str, new.get("files", [])))
        kept = []
        for run in runs:
            if run.get("run") == key:
                continue
            if taken and isinstance(run.get("files"), list):
                files = [name for name in run["files"] if str(name) not in taken]
                if not files:
                    continue
                run = {**run, "files": files}
            kept.append(run)
        return {**new, "runs": [*kept, new]}

    return update_json(path, merged)
