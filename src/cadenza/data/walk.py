"""The audio files under a folder, and the entries that look like audio but cannot be read.

``audio_files`` walks a folder recursively in sorted order and returns the regular files with
an audio suffix (``cadenza.data.audio.AUDIO_SUFFIXES``), following links to files. What it
passes over is reported, not dropped in silence: links that loop or point nowhere, folders
named like audio files, other non-files with an audio suffix, and links to folders (never
followed, so a folder is scanned once and a link back up cannot loop).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from cadenza.data import audio


def _why_not_a_file(path: Path, root: Path) -> str | None:
    """Why ``path`` (an entry named like audio, or a link) is not scanned; None for a file."""
    try:
        target = os.readlink(path) if path.is_symlink() else None
    except OSError:
        target = None
    try:
        mode = path.stat()  # follows links
    except OSError as error:
        if error.errno == errno.ELOOP:
            return f"symbolic link loop ({path.name} -> {target})"
        if target is not None:
            return f"dangling symbolic link (to {target}, which does not exist)"
        return f"cannot be read ({error.strerror})"
    if path.is_dir():
        if target is None:
            return "a folder named like an audio file, not a file (its contents are scanned)"
        resolved, here = path.resolve(), path.parent.resolve()
        if resolved == here or resolved in here.parents or resolved == root.resolve():
            return f"symbolic link to an enclosing folder ({target}): a loop, not followed"
        return f"symbolic link to a folder ({target}), not followed"
    if not path.is_file():
        return f"not a regular file (mode {oct(mode.st_mode)})"
    return None


def audio_files(root: str | os.PathLike) -> tuple[list[Path], list[dict]]:
    """Regular audio files under ``root`` (sorted), and ``{"path", "reason"}`` (relative to
    ``root``) for each audio-named entry or folder link passed over."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    found, passed = [], []
    for path in sorted(root.rglob("*")):
        named_like_audio = path.suffix.lower() in audio.AUDIO_SUFFIXES
        folder_link = path.is_symlink() and path.is_dir()
        if not (named_like_audio or folder_link):
            continue
        reason = _why_not_a_file(path, root)
        if reason is None:
            found.append(path)
        else:
            passed.append({"path": str(path.relative_to(root)), "reason": reason})
    return found, passed
