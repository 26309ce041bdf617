"""The GPU loan's one command works before a GPU is lent: its dry run, on the CPU."""

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[2]


def test_the_gpu_script_dry_run_measures_trains_and_packs(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    time = np.arange(3 * 16000) / 16000
    for index in range(2):
        tone = 0.2 * np.sin(2 * np.pi * 220 * (index + 1) * time) * np.exp(-time)
        soundfile.write(data / f"{index}.wav", tone + 0.01 * rng.standard_normal(time.size),
                        16000)
    out = tmp_path / "out"
    environment = {**os.environ, "OUT": str(out), "DATA": str(data),
                   "WORK": str(tmp_path / "work"), "PYTHON": sys.executable}
    subprocess.run(["bash", str(ROOT / "benchmarks/gpu/run.sh"), "--dry-run"], check=True,
                   env=environment, timeout=600)
    results = json.loads((out / "results.json").read_text())
    assert results["dry_run"] and results["device"] == "cpu"
    assert all(row["examples_per_second"] > 0 for row in results["presets"])
    assert results["sampling"][0]["real_time_factor"] > 0
    made = results["training"]
    assert all(made[role]["steps_done"] == 3 for role in ("model", "vocoder", "vocoder-gan"))
    assert {row["vocoder"] for row in made["decoders"]} == {
        "shipped", "trained here", "shipped, fine-tuned with a GAN here"}
    assert all(row["mr_stft"] > 0 for row in made["decoders"])
    files = sorted(path.name for path in out.iterdir())
    assert {"results.json", "made.tar.0"} <= set(files)
    with tarfile.open(fileobj=io.BytesIO(b"".join(
            (out / name).read_bytes() for name in files if name.startswith("made.tar.")))) as tar:
        names = tar.getnames()
    assert {"model/network.safetensors", "vocoder/vocoder.safetensors",
            "vocoder-gan/vocoder.safetensors", "sample.wav"} <= set(names)
    assert len(files) <= 8 and all(path.stat().st_size <= 16 * 2**20 for path in out.iterdir())
