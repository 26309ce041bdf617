"""Which entries under a folder are audio files, and the ones passed over, with the reason."""

import os

import numpy as np
import pytest
import soundfile

from cadenza.data.dataset import scan
from cadenza.data.walk import audio_files


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "music"
    (root / "sub").mkdir(parents=True)
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    soundfile.write(root / "real.wav", tone, 16000)
    os.symlink("../real.wav", root / "sub" / "link.wav")  # a link to a file is followed
    os.symlink("b.wav", root / "a.wav")  # a loop of two links
    os.symlink("a.wav", root / "b.wav")
    os.symlink("missing.wav", root / "dangling.wav")
    (root / "x.wav").mkdir()  # a folder named like an audio file
    os.symlink("..", root / "sub" / "up")  # a link back up: never followed
    (root / "notes.txt").write_text("not audio, ignored")
    return root


def test_links_and_folders_named_like_audio_are_reported_not_dropped(folder):
    found, passed = audio_files(folder)
    assert [p.relative_to(folder).as_posix() for p in found] == ["real.wav", "sub/link.wav"]
    reasons = {item["path"]: item["reason"] for item in passed}
    assert reasons == {
        "a.wav": "symbolic link loop (a.wav -> b.wav)",
        "b.wav": "symbolic link loop (b.wav -> a.wav)",
        "dangling.wav": "dangling symbolic link (to missing.wav, which does not exist)",
        "sub/up": "symbolic link to an enclosing folder (..): a loop, not followed",
        "x.wav": "a folder named like an audio file, not a file (its contents are scanned)",
    }
    report = scan(folder, progress=False).report()  # data scan names them too
    assert "2 usable files" in report
    assert all(f"  {path}: {reason}" in report for path, reason in reasons.items())
    with pytest.raises(ValueError, match="not a folder"):
        audio_files(folder / "real.wav")
