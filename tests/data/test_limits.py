"""Faults and limits of reading audio: headers are checked before anything is decoded, files
are read a block at a time, implausible content is named; a sparse file whose header claims
hours is refused fast and small by scan, prepare, the edit commands and eval."""

import json
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from cadenza.data import audio
from cadenza.data.dataset import scan
from cadenza.data.prepare import prepare
from cadenza.representations import representation

RATE = 8000


def tone(seconds: float, rate: int = RATE, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-t % 1)
    return np.stack([wave, 0.5 * wave][:channels]).astype(np.float32)


def sparse_wav(path: Path, data_bytes: int = 0xFFFFFF00) -> Path:
    """A 16-bit stereo 44.1 kHz wav header over ``data_bytes`` of holes (6.8 hours by
    default): the file is as long as its header says but takes no disk space."""
    header = (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16)
              + b"data" + struct.pack("<I", data_bytes))
    with path.open("wb") as handle:
        handle.write(header)
        handle.truncate(len(header) + data_bytes)
    return path


def lying_flac(path: Path) -> Path:
    """A short FLAC whose STREAMINFO claims 2**36 - 1 samples (18 days at 44.1 kHz)."""
    soundfile.write(path, tone(0.5, 44100)[0], 44100)
    data = bytearray(path.read_bytes())
    field = int.from_bytes(data[18:26], "big") | ((1 << 36) - 1)  # the low 36 bits: samples
    data[18:26] = field.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def test_headers_are_checked_before_anything_is_decoded(tmp_path, monkeypatch):
    slow = tmp_path / "one-hertz.wav"
    soundfile.write(slow, np.full(5, 0.1), 1)  # "5 seconds" of 5 samples
    with pytest.raises(audio.AudioError, match=r"one-hertz\.wav: .* 1 Hz, outside 1000 to"):
        audio.info(slow)
    three = audio.write(tmp_path / "three.wav", tone(3.0), RATE)
    with pytest.raises(audio.AudioError, match=r"three\.wav: 3 s of audio, more than the 2 s "
                                               r".*CADENZA_MAX_SECONDS=3 to allow it"):
        audio.load(three, limit=2)
    assert audio.load(three, start_seconds=1.5, seconds=1.0, limit=2)[0].shape == (1, RATE)
    monkeypatch.setenv("CADENZA_MAX_SECONDS", "2.5")
    with pytest.raises(audio.AudioError, match=r"more than the 2\.5 s"):
        audio.load(three)
    monkeypatch.setenv("CADENZA_MAX_SECONDS", "lots")
    with pytest.raises(ValueError, match="CADENZA_MAX_SECONDS must be a positive number"):
        audio.load(three)
    monkeypatch.delenv("CADENZA_MAX_SECONDS")
    flac = lying_flac(tmp_path / "days.flac")
    with pytest.raises(audio.AudioError, match=r"days\.flac: 433 h of audio"):
        audio.load(flac)

    # libsndfile already clamps a plain file's frames to its size; this holds whatever it does.
    real = soundfile.info

    def inflated(path):
        header = real(path)
        header.frames *= 1000
        return header

    monkeypatch.setattr(soundfile, "info", inflated)
    with pytest.raises(audio.AudioError, match=r"claims 50 min of audio \(48000000 bytes\) "
                                               r"but the file holds \d+ bytes; it is truncated"):
        audio.info(three)


def test_implausible_content_is_named_wherever_it_lies(tmp_path):
    loud = tone(1.0)
    loud[0, 100] = 1e30
    audio.write(tmp_path / "loud.wav", loud, RATE, "float")
    with pytest.raises(audio.AudioError, match=r"loud\.wav: peaks at 1e\+30 times full scale "
                                               r"\(the most accepted is 1000\)"):
        audio.load(tmp_path / "loud.wav")
    hot = tone(1.0) * 50  # a float file well over full scale, but audio still
    audio.write(tmp_path / "hot.wav", hot, RATE, "float")
    assert np.array_equal(audio.load(tmp_path / "hot.wav")[0], hot)
    late = tone(3 * audio.BLOCK_FRAMES / RATE)
    late[0, -5] = np.nan  # in the last block
    audio.write(tmp_path / "late.wav", late, RATE, "float")
    with pytest.raises(audio.AudioError, match=r"late\.wav: contains NaN or infinite"):
        audio.load(tmp_path / "late.wav")
    with pytest.raises(audio.AudioError, match="NaN or infinite"):
        list(audio.blocks(tmp_path / "late.wav"))


def test_blocks_give_the_samples_of_one_read(tmp_path):
    """Block by block into one array, or streamed through soxr: the samples of one read."""
    wave = tone(3.5 * audio.BLOCK_FRAMES / 22050, 22050, channels=2)
    path = audio.write(tmp_path / "long.wav", wave, 22050, "float")
    assert np.array_equal(audio.load(path)[0], wave)
    assert np.array_equal(np.concatenate(list(audio.blocks(path)), axis=1), wave)
    whole, _ = audio.load(path, RATE, channels=1)
    streamed = np.concatenate(list(audio.resampled_blocks(path, RATE, 1)), axis=1)
    assert np.array_equal(streamed, whole)
    window, _ = audio.load(path, start_seconds=1.0, seconds=2.0)
    assert np.array_equal(window, wave[:, 22050:3 * 22050])
    mp3 = tmp_path / "long.mp3"  # read at once: its decoder differs after a partial read
    soundfile.write(mp3, wave.T, 22050)
    assert np.array_equal(audio.load(mp3)[0], soundfile.read(mp3, dtype="float32")[0].T)


def test_scan_and_prepare_skip_what_cannot_be_used(tmp_path):
    root = tmp_path / "recordings"
    audio.write(root / "good.wav", tone(3.0), RATE)
    audio.write(root / "long.wav", tone(8.0), RATE)
    loud = tone(2.0)
    loud[0, 10] = -5e3
    audio.write(root / "loud.wav", loud, RATE, "float")
    soundfile.write(root / "slow.wav", np.full(5, 0.1), 1)
    manifest = scan(root, max_seconds=5, progress=False)
    assert [entry.path for entry in manifest.entries] == ["good.wav"]
    reasons = {item["path"]: item["reason"] for item in manifest.skipped}
    assert reasons["long.wav"].startswith("8 s of audio, more than the 5 s")
    assert reasons["loud.wav"].startswith("peaks at 5e+03 times full scale")
    assert "1 Hz" in reasons["slow.wav"]
    # A file that changed after the scan is named when the cache is made.
    changed = tone(3.0)
    changed[0, 5] = np.inf
    audio.write(root / "good.wav", changed, RATE, "float")
    rep = representation("waveform", sample_rate=RATE)
    with pytest.raises(audio.AudioError, match=r"good\.wav: contains NaN or inf.*scan it again"):
        prepare(manifest, tmp_path / "cache", rep, chunk_seconds=1.0, progress=False)


# Runs the command as its only child and reports the child's peak memory and time.
MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                  "seconds": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def measured(*args: str) -> dict:
    command = [sys.executable, "-c", "from cadenza.cli import main; main()", *args]
    env = {key: value for key, value in os.environ.items() if key != "CADENZA_MAX_SECONDS"}
    result = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True,
                            text=True, timeout=600, env={**env, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_sparse_file_claiming_hours_is_refused_in_seconds_in_under_a_gigabyte(tmp_path):
    """Its header is honest about the file's size (4 GB, 6.8 hours of 44.1 kHz stereo), so
    only the duration limit stands between it and 4 GB of samples (16 GB as float32)."""
    root = tmp_path / "recordings"
    root.mkdir()
    sparse = sparse_wav(root / "sparse.wav")
    assert sparse.stat().st_size > 4e9 and sparse.stat().st_blocks * 512 < 1e6
    lying_flac(root / "days.flac")
    audio.write(root / "good.wav", tone(3.0), RATE)
    refused = r"sparse\.wav: 6\.76 h of audio, more than the 3 h cadenza decodes at once"

    scanned = measured("data", "scan", str(root))
    prepared = measured("data", "prepare", str(root), str(tmp_path / "cache"),
                        "--representation", "waveform", "--sample-rate", str(RATE),
                        "--chunk-seconds", "1")
    options = {"inpaint": ["--gaps", "1-2"], "outpaint": ["--seconds", "1"],
               "extend": ["--seconds", "1"], "transfer": [], "interpolate": [str(sparse)]}
    edits = {task: measured(task, str(sparse), *extra, "--steps", "2",
                            "--out", str(tmp_path / f"{task}.wav"))
             for task, extra in options.items()}
    timings = {name: (round(run["seconds"], 1), round(run["peak_mb"]))
               for name, run in [("scan", scanned), ("prepare", prepared), *edits.items()]}
    print("seconds and peak MB:", timings)

    for run in (scanned, prepared):
        assert run["returncode"] == 0, run["stderr"]
        assert "1 usable files" in run["stdout"]
        assert len([line for line in run["stdout"].splitlines()
                    if "sparse.wav: 6.76 h of audio" in line or "days.flac: " in line]) == 2
    assert json.loads((root / "manifest.json").read_text())["entries"][0]["path"] == "good.wav"
    assert (tmp_path / "cache" / "shards" / "shard-00000.safetensors").exists()
    for task, edited in edits.items():
        assert edited["returncode"] == 2, (task, edited["stderr"])
        lines = edited["stderr"].strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in lines[0]
        assert re.search(refused, lines[0]), lines[0]
        assert not (tmp_path / f"{task}.wav").exists()
    for name, (seconds, peak_mb) in timings.items():
        assert seconds < 30 and peak_mb < 1024, (name, seconds, peak_mb)


def test_eval_reads_skip_the_sparse_file_with_its_reason(tmp_path):
    from cadenza.clips import load_clips

    sparse_wav(tmp_path / "sparse.wav")
    audio.write(tmp_path / "good.wav", tone(3.0), RATE)
    started = time.perf_counter()
    clips = load_clips(tmp_path, RATE, 1.0, progress=False)
    assert time.perf_counter() - started < 10
    assert clips.files == 1 and len(clips) == 3
    assert clips.skipped[0]["path"] == "sparse.wav"
    assert clips.skipped[0]["reason"].startswith("6.76 h of audio, more than the 3 h")
