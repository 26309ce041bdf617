import os

import numpy as np
import pytest
import soundfile

from cadenza.clips import BATCH_CLIPS, ClipSet, clip_batches, load_clips

RATE = 22050  # files are written at 22.05 kHz; load_clips resamples them to 16 kHz


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio")
    t = np.arange(2 * RATE) / RATE
    for i in range(4):
        soundfile.write(root / f"clip{i}.wav", 0.3 * np.sin(2 * np.pi * 220 * (i + 1) * t), RATE)
    # A stereo file in a subfolder (read recursively, averaged to mono) ...
    (root / "more").mkdir()
    soundfile.write(root / "more" / "stereo.flac", np.stack([0.3 * np.sin(600 * t)] * 2, 1), RATE)
    # ... and files that must be skipped and listed, not crash the run.
    (root / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    soundfile.write(root / "short.wav", np.zeros(RATE // 4), RATE)
    (root / "notes.txt").write_text("not audio, ignored")
    os.symlink("missing.wav", root / "gone.wav")  # a dangling link is named, not dropped
    return root


def test_load_clips_cuts_files_and_lists_what_it_skips(folder):
    clips = load_clips(folder, 16000, 1.0, progress=False)
    # 4 files + stereo, 2 s each: 10 clips of 1 s; the 0.25 s file and the broken one are
    # skipped with their reasons; notes.txt is not audio and not mentioned.
    assert clips.clips.shape == (10, 16000) and clips.files == 5
    reasons = {item["path"]: item["reason"] for item in clips.skipped}
    assert set(reasons) == {"broken.wav", "short.wav", "gone.wav"}
    assert reasons["gone.wav"].startswith("dangling symbolic link")
    assert "not readable" in reasons["broken.wav"] and "shorter than one clip" in reasons[
        "short.wav"]
    assert ("more/stereo.flac", 1.0) in clips.sources
    assert clips.native_rates == {RATE: 5}  # the files' own rate, before resampling


def test_clip_batches_are_bounded_float64_at_the_models_rate():
    waves = np.random.default_rng(0).uniform(-0.5, 0.5, (2 * BATCH_CLIPS + 2, 800))
    clips = ClipSet.from_array("noise", waves, 8000)
    same = list(clip_batches(clips, 8000, desc="same rate", progress=False))
    assert [len(batch) for batch in same] == [BATCH_CLIPS, BATCH_CLIPS, 2]
    assert all(batch.dtype == np.float64 for batch in same)
    assert np.array_equal(np.concatenate(same), clips.clips.astype(np.float64))
    doubled = list(clip_batches(clips, 16000, desc="resampled", progress=False))
    assert [batch.shape for batch in doubled] == [(BATCH_CLIPS, 1600)] * 2 + [(2, 1600)]
