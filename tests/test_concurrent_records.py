"""Two `cadenza generate` processes writing into one folder both keep their records."""

import json
import os
import subprocess
import sys
from pathlib import Path


def generate(out: Path, seed: int, batch: int = 1) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from cadenza.cli import main; main()", "generate",
         "--seconds", "0.5", "--steps", "2", "--seed", str(seed), "--batch", str(batch),
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def test_two_generate_processes_into_one_folder_both_keep_their_records(tmp_path):
    out = tmp_path / "shared"
    runs = [generate(out, 0), generate(out, 1, batch=2)]  # started together
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
    document = json.loads((out / "generate.json").read_text())
    records = {run["seed"]: run for run in document["runs"]}
    assert sorted(records) == [0, 1] and len(document["runs"]) == 2
    assert [Path(f).name for f in records[0]["files"]] == ["clip-0-0.wav"]
    assert [Path(f).name for f in records[1]["files"]] == ["clip-1-0.wav", "clip-1-1.wav"]
    assert all(Path(f).exists() for record in records.values() for f in record["files"])
    assert records[0]["run"] != records[1]["run"]
    assert document["seed"] == document["runs"][-1]["seed"]  # the newest record on top
    assert all(record["plan"]["steps"] == 2 for record in records.values())

    # Seed 0 again rewrites clip-0-0.wav: its record replaces the old one, seed 1's stays.
    again = generate(out, 0)
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    document = json.loads((out / "generate.json").read_text())
    assert [run["seed"] for run in document["runs"]] == [1, 0]
    assert document["seed"] == 0 and document["run"] == document["runs"][-1]["run"]
    assert sorted(p.name for p in out.iterdir()) == [
        "clip-0-0.wav", "clip-1-0.wav", "clip-1-1.wav", "generate.json"]
