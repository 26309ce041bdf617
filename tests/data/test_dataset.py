import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cadenza.data import audio
from cadenza.data.dataset import Manifest, RandomCrops, scan, split
from cadenza.data.prepare import CachedChunks, prepare
from cadenza.representations import representation

RATE = 8000


def tone(seconds: float, frequency: float, rate: int = RATE, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * frequency * t) * np.exp(-t)
    return np.repeat(wave[None].astype(np.float32), channels, axis=0)


@pytest.fixture()
def collection(tmp_path) -> Path:
    """Good files in nested folders, formats and rates, plus every kind of bad file."""
    root = tmp_path / "recordings"
    for i in range(6):
        audio.write(root / f"set{i % 2}" / f"take{i}.wav", tone(2 + i % 3, 220 + 40 * i), RATE)
    import soundfile

    soundfile.write(root / "stereo.flac", tone(3, 330, 16000, channels=2).T, 16000)
    (root / "notes.txt").write_text("not audio, wrong suffix: ignored")
    (root / "fake.wav").write_bytes(b"this is text pretending to be a wav")
    (root / "empty.wav").write_bytes(b"")
    audio.write(root / "short.wav", tone(0.2, 440), RATE)
    audio.write(root / "silent.wav", np.zeros((1, RATE), dtype=np.float32), RATE)
    truncated = (root / "set0" / "take0.wav").read_bytes()
    (root / "truncated.wav").write_bytes(truncated[:30])  # cut inside the header
    return root


def test_scan_keeps_good_files_and_names_every_bad_one(collection):
    manifest = scan(collection, min_seconds=1.0, progress=False)
    kept = {entry.path for entry in manifest.entries}
    assert kept == {f"set{i % 2}/take{i}.wav" for i in range(6)} | {"stereo.flac"}
    reasons = {item["path"]: item["reason"] for item in manifest.skipped}
    assert set(reasons) == {"fake.wav", "empty.wav", "short.wav", "silent.wav", "truncated.wav"}
    assert "too short" in reasons["short.wav"] and "minimum is 1 s" in reasons["short.wav"]
    assert "silence" in reasons["silent.wav"]
    stereo = next(e for e in manifest.entries if e.path == "stereo.flac")
    assert (stereo.sample_rate, stereo.channels, stereo.seconds) == (16000, 2, 3.0)
    report = manifest.report()
    assert "7 usable files" in report and "fake.wav" in report


def test_manifest_round_trips_and_a_damaged_one_is_a_clear_error(collection, tmp_path):
    manifest = scan(collection, progress=False)
    path = manifest.save(tmp_path / "manifest.json")
    assert Manifest.load(path).entries == manifest.entries
    path.write_text("{broken")
    with pytest.raises(ValueError, match="not a cadenza manifest"):
        Manifest.load(path)


def test_split_is_by_file_deterministic_and_independent_of_order(collection):
    manifest = scan(collection, progress=False)
    train, validation = split(manifest, 0.3, seed=1)
    assert len(validation) == 3 and len(train) == len(manifest.entries) - 3
    assert not {e.path for e in train} & {e.path for e in validation}
    manifest.entries.reverse()
    assert split(manifest, 0.3, seed=1)[1] == sorted(validation, key=manifest.entries.index)


def test_random_crops_are_deterministic_resampled_and_not_silent(collection):
    manifest = scan(collection, progress=False)
    crops = RandomCrops(manifest, manifest.entries, seconds=1.0, sample_rate=16000, seed=3)
    first = [crops[i] for i in range(8)]
    again = RandomCrops(manifest, manifest.entries, seconds=1.0, sample_rate=16000, seed=3)
    assert all(torch.equal(a, again[i]) for i, a in enumerate(first))
    assert all(crop.shape == (1, 16000) and crop.dtype == torch.float32 for crop in first)
    assert all(crop.pow(2).mean().sqrt() > 10 ** (-50 / 20) for crop in first)
    crops.set_epoch(1)
    assert not torch.equal(crops[0], first[0])


def _shard_bytes(cache: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((cache / "shards").glob("*.safetensors"))}


def test_prepare_writes_shards_that_load_back(collection, tmp_path):
    manifest = scan(collection, progress=False)
    rep = representation("mel", sample_rate=RATE, n_fft=256, hop_length=64, n_mels=32)
    summary = prepare(manifest, tmp_path / "cache", rep, chunk_seconds=1.0, files_per_shard=3,
                      progress=False)
    assert summary == {"shards": 3, "encoded": 3, "skipped": 0}
    chunks = CachedChunks(tmp_path / "cache")
    assert len(chunks) == sum(round(e.seconds) for e in manifest.entries)
    assert chunks[0].shape == (1, 32, rep.frames(RATE)) and chunks.representation.fitted
    again = prepare(manifest, tmp_path / "cache", rep, chunk_seconds=1.0, files_per_shard=3,
                    progress=False)
    assert again == {"shards": 3, "encoded": 0, "skipped": 3}
    with pytest.raises(ValueError, match="other files or settings"):
        prepare(manifest, tmp_path / "cache", rep, chunk_seconds=0.5, progress=False)


def test_shard_slices_and_workers_give_the_same_cache_as_one_process(collection, tmp_path):
    manifest = scan(collection, progress=False)
    rep = representation("waveform", sample_rate=RATE)
    for index in range(2):
        prepare(manifest, tmp_path / "cache", rep, chunk_seconds=1.0, files_per_shard=2,
                shard=(index, 2), progress=False)
    whole = tmp_path / "whole"  # one machine, two worker processes
    prepare(manifest, whole, rep, chunk_seconds=1.0, files_per_shard=2, workers=2,
            progress=False)
    assert _shard_bytes(tmp_path / "cache") == _shard_bytes(whole)


def test_a_killed_prepare_resumes_to_the_same_shards(collection, tmp_path):
    """SIGKILL a run after its second shard, leave a half-written shard behind, re-run the CLI,
    and compare with an unbroken run."""
    manifest_path = scan(collection, min_seconds=1, progress=False).save(tmp_path / "m.json")

    def prepare_cli(folder):
        return subprocess.run(
            [sys.executable, "-c", "from cadenza.cli import main; main()", "data", "prepare",
             str(manifest_path), str(folder), "--representation", "complex_stft",
             "--sample-rate", str(RATE), "--chunk-seconds", "0.5", "--files-per-shard", "1"],
            capture_output=True, text=True, timeout=300,
        )

    # The CLI's settings, with a hook that kills the process once two shards are complete.
    kill_after_two = (
        "import os, signal, sys\n"
        "from cadenza.data.dataset import Manifest\n"
        "from cadenza.data.prepare import prepare\n"
        "from cadenza.representations import representation\n"
        "done = []\n"
        "def after_shard(index):\n"
        "    done.append(index)\n"
        "    if len(done) == 2:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        f"prepare(Manifest.load(sys.argv[1]), sys.argv[2], representation('complex_stft', "
        f"sample_rate={RATE}), chunk_seconds=0.5, files_per_shard=1, progress=False, "
        "after_shard=after_shard)\n"
    )
    interrupted = tmp_path / "interrupted"
    killed = subprocess.run([sys.executable, "-c", kill_after_two, str(manifest_path),
                             str(interrupted)], capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert len(_shard_bytes(interrupted)) == 2
    (interrupted / "shards" / ".shard-00002.safetensors.x1y2.tmp").write_bytes(b"half")
    resumed, unbroken = prepare_cli(interrupted), prepare_cli(tmp_path / "unbroken")
    assert resumed.returncode == 0 and unbroken.returncode == 0, resumed.stderr
    assert "5 shards encoded, 2 already done" in resumed.stdout
    assert _shard_bytes(interrupted) == _shard_bytes(tmp_path / "unbroken")
    assert len(_shard_bytes(interrupted)) == 7
    assert not [p for p in (interrupted / "shards").iterdir() if p.name.startswith(".")]
    assert json.loads((interrupted / "plan.json").read_text())["chunk_seconds"] == 0.5
