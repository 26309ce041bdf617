"""Every malformed input a person can give gets a clear answer: exit code 2, one line that
starts with ``error:``, no traceback, and nothing half-written.

Each case is one command line run in-process through ``cadenza.cli.main`` (so it is quick);
the test ids list the inputs, and a failure prints the message that came back. The files
below are made once: damaged audio of every kind, a broken model folder, an empty folder.
"""

from __future__ import annotations

import json
import re
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

SECONDS = 2.0
RATE = 16000


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fuzz")
    made: dict[str, Path] = {}
    t = np.arange(round(SECONDS * RATE)) / RATE
    good = (0.3 * np.sin(2 * np.pi * 261.6 * t)).astype(np.float32)
    made["good"] = root / "good.wav"
    soundfile.write(made["good"], good, RATE)
    rng = np.random.default_rng(0)
    for suffix in ("wav", "flac", "mp3", "ogg", "aiff"):
        made[f"random bytes .{suffix}"] = root / f"random.{suffix}"
        made[f"random bytes .{suffix}"].write_bytes(rng.bytes(4096))
    made["empty file"] = root / "empty.wav"
    made["empty file"].write_bytes(b"")
    made["text as .wav"] = root / "text.wav"
    made["text as .wav"].write_text("this is not audio\n")
    whole = made["good"].read_bytes()
    made["truncated header"] = root / "truncated-header.wav"
    made["truncated header"].write_bytes(whole[:20])
    made["one sample"] = root / "one.wav"
    soundfile.write(made["one sample"], good[:1], RATE)
    made["nan samples"] = root / "nan.wav"
    soundfile.write(made["nan samples"], np.full(RATE, np.nan, np.float32), RATE,
                    subtype="FLOAT")
    made["1e30 peak"] = root / "huge.wav"
    soundfile.write(made["1e30 peak"], np.full(RATE, 1e30, np.float32), RATE, subtype="FLOAT")
    made["1 Hz rate"] = root / "one-hertz.wav"
    header = b"RIFF" + struct.pack("<I", 36 + 10) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, 1, 2, 2, 16) + b"data" + struct.pack("<I", 10) + bytes(10)
    made["1 Hz rate"].write_bytes(header)
    made["folder"] = root / "a-folder.wav"
    made["folder"].mkdir()
    made["missing"] = root / "missing.wav"
    made["empty folder"] = root / "empty-folder"
    made["empty folder"].mkdir()
    made["broken model"] = root / "broken-model"
    made["broken model"].mkdir()
    (made["broken model"] / "pipeline.json").write_text("{not json")
    made["alien model"] = root / "alien-model"
    made["alien model"].mkdir()
    (made["alien model"] / "pipeline.json").write_text(json.dumps({"format": "other"}))
    made["model is a file"] = made["good"]
    return made


BAD_FILES = ["random bytes .wav", "random bytes .flac", "random bytes .mp3",
             "random bytes .ogg", "random bytes .aiff", "empty file", "text as .wav",
             "truncated header", "one sample", "nan samples", "1e30 peak", "1 Hz rate",
             "folder", "missing"]


def edit_line(task: str, audio: str) -> list[str]:
    """A sane command line for ``task`` on ``audio`` (2 s), apart from whatever a case breaks."""
    tails = {
        "extend": ["--seconds", "0.5", "--window", "1.5", "--context", "1"],
        "inpaint": ["--gaps", "0.5-0.8"],
        "outpaint": ["--seconds", "0.5"],
        "transfer": ["--strength", "0.5"],
        "interpolate": [],
    }
    inputs = [audio, audio] if task == "interpolate" else [audio]
    return [task, *inputs, *tails[task], "--steps", "2"]


def cases() -> list[tuple[str, list[str]]]:
    """(id, command line) with ``{name}`` for a made file and ``{out}`` for the output."""
    found: list[tuple[str, list[str]]] = []
    for task in ("extend", "inpaint", "outpaint", "transfer", "interpolate"):
        for name in BAD_FILES:
            found.append((f"{task}: {name}", [*edit_line(task, f"{{{name}}}"),
                                              "--out", "{out}/x.wav"]))
    good = "{good}"
    numbers = {
        "extend": [("--seconds", "0"), ("--seconds", "-1"), ("--seconds", "nan"),
                   ("--seconds", "inf"), ("--seconds", "1e9"), ("--seconds", "abc"),
                   ("--window", "0"), ("--context", "3"), ("--context", "-1")],
        "inpaint": [("--gaps", ""), ("--gaps", "a-b"), ("--gaps", "3-1"), ("--gaps", "0-100"),
                    ("--gaps", "1-2,1.5-1.8"), ("--gaps", "0-2"), ("--gaps", "nan-1"),
                    ("--steps", "0"), ("--steps", "-3"), ("--steps", "abc")],
        "outpaint": [("--seconds", "0"), ("--seconds", "nan"), ("--seconds", "1e9"),
                     ("--side", "middle")],
        "transfer": [("--strength", "0"), ("--strength", "1.5"), ("--strength", "nan")],
        "interpolate": [("--ratio", "-0.1"), ("--ratio", "2"), ("--mode", "cubic")],
    }
    for task, changes in numbers.items():
        for option, value in changes:
            line = edit_line(task, good)
            if option in line:
                line[line.index(option) + 1] = value
            else:
                line += [option, value]
            found.append((f"{task}: {option} {value!r}", [*line, "--out", "{out}/x.wav"]))
    names = [("--model", "nosuch"), ("--model", "tiny-piano-mell"), ("--model", "{broken model}"),
             ("--model", "{alien model}"), ("--model", "{model is a file}"),
             ("--sampler", "nope"), ("--strategy", "foo"), ("--lambda-curve", "cubic")]
    for option, value in names:
        line = [*edit_line("inpaint", good), option, value]
        if option == "--lambda-curve":
            line += ["--strategy", "interp"]
        found.append((f"inpaint: {option} {value}", [*line, "--out", "{out}/x.wav"]))
    found += [
        ("inpaint: --out not a wav", [*edit_line("inpaint", good), "--out", "{out}/x.mp4"]),
        ("inpaint: --out inside a file", [*edit_line("inpaint", good), "--out", "{good}/x.wav"]),
        ("inpaint: --out in /proc", [*edit_line("inpaint", good), "--out", "/proc/x.wav"]),
        ("inpaint: --rate 0", [*edit_line("inpaint", good), "--rate", "0", "--out", "{out}/x.wav"]),
        ("inpaint: --channels 0",
         [*edit_line("inpaint", good), "--channels", "0", "--out", "{out}/x.wav"]),
    ]
    generate = [("--seconds", "0"), ("--seconds", "0.001"), ("--seconds", "-2"),
                ("--seconds", "nan"), ("--seconds", "inf"), ("--seconds", "1e9"),
                ("--batch", "0"), ("--steps", "0"), ("--sampler", "nope"),
                ("--model", "nosuch"), ("--model", "{broken model}"), ("--loudness", "loud"),
                ("--loudness", "5")]
    for option, value in generate:
        line = ["generate", "--seconds", "0.5", "--steps", "2"]
        if option in line:
            line[line.index(option) + 1] = value
        else:
            line += [option, value]
        found.append((f"generate: {option} {value}", [*line, "--out", "{out}"]))
    found += [
        ("eval: missing folders", ["eval", "{missing}", "{missing}", "--out", "{out}"]),
        ("eval: empty folders", ["eval", "{empty folder}", "{empty folder}", "--out", "{out}"]),
        ("eval: a file, not a folder", ["eval", "{good}", "{good}", "--out", "{out}"]),
        ("eval: --seconds 0", ["eval", "{empty folder}", "{empty folder}", "--seconds", "0",
                               "--out", "{out}"]),
        ("eval: unknown embedder", ["eval", "{empty folder}", "{empty folder}", "--embedder",
                                    "nope", "--out", "{out}"]),
        ("data scan: missing folder", ["data", "scan", "{missing}"]),
        ("data scan: a file", ["data", "scan", "{good}"]),
        ("data scan: --min-seconds nan", ["data", "scan", "{empty folder}", "--min-seconds",
                                          "nan"]),
        ("data prepare: missing folder", ["data", "prepare", "{missing}", "{out}/c",
                                          "--representation", "mel"]),
        ("data prepare: empty folder", ["data", "prepare", "{empty folder}", "{out}/c",
                                        "--representation", "mel"]),
        ("data prepare: unknown representation", ["data", "prepare", "{empty folder}",
                                                  "{out}/c", "--representation", "nope"]),
        ("data prepare: --chunk-seconds 0", ["data", "prepare", "{empty folder}", "{out}/c",
                                             "--chunk-seconds", "0"]),
        ("data prepare: --sample-rate 0", ["data", "prepare", "{empty folder}", "{out}/c",
                                           "--sample-rate", "0"]),
        ("unknown command", ["nosuch"]),
        ("unknown option", ["generate", "--nope"]),
        ("train: unknown preset", ["train", "--preset", "nope", "--data", "{empty folder}",
                                   "--out", "{out}/run"]),
        ("train: --set steps=abc", ["train", "--preset", "tiny-diffwave-piano", "--data",
                                    "{empty folder}", "--out", "{out}/run", "--set",
                                    "training.steps=abc"]),
        ("train: --set batch_size=0", ["train", "--preset", "tiny-diffwave-piano", "--data",
                                       "{empty folder}", "--out", "{out}/run", "--set",
                                       "training.batch_size=0"]),
        ("train: --set unknown", ["train", "--preset", "tiny-diffwave-piano", "--data",
                                  "{empty folder}", "--out", "{out}/run", "--set", "model.x=1"]),
        ("train: no recordings", ["train", "--preset", "tiny-diffwave-piano", "--data",
                                  "{empty folder}", "--out", "{out}/run"]),
    ]
    return found


CASES = cases()


def test_there_are_at_least_a_hundred_cases():
    assert len(CASES) >= 100


@pytest.mark.parametrize("line", [line for _, line in CASES], ids=[name for name, _ in CASES])
def test_a_malformed_input_gets_one_clear_line(line, files, tmp_path, monkeypatch, capsys):
    from cadenza.cli import main

    out = tmp_path / "out"
    out.mkdir()
    names = {"out": str(out), **{name: str(path) for name, path in files.items()}}
    argv = [re.sub(r"\{([^}]+)\}", lambda found: names[found.group(1)], part) for part in line]
    monkeypatch.setattr(sys, "argv", ["cadenza", *argv])
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    # A progress bar may have been drawn (and cleared with a carriage return) before the error.
    lines = [line.split("\r")[-1] for line in captured.err.strip().splitlines()]
    message = lines[-1] if lines else ""
    assert code == 2, (argv, code, message, captured.out[-300:])
    assert message.startswith("error:"), captured.err[-500:]
    assert not any(line.startswith("error") for line in lines[:-1]), captured.err[-500:]
    assert "Traceback" not in captured.err
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert left == [], (message, left)  # nothing half-written


@pytest.fixture
def small_disk(tmp_path):
    """A 200 kB filesystem, where this machine lets the tests mount one."""
    import subprocess

    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("this machine does not let the tests mount a small filesystem")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_full_disk_is_named_and_the_complete_files_listed(small_disk, monkeypatch, capsys):
    from cadenza.cli import main

    out = small_disk / "out"
    monkeypatch.setattr(sys, "argv", ["cadenza", "generate", "--seconds", "4", "--batch", "3",
                                      "--steps", "2", "--out", str(out)])
    with pytest.raises(SystemExit) as stop:
        main()
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert stop.value.code == 2
    assert message.startswith(f"error: no space left on {out}"), message
    assert "complete before it: clip-0-0.wav" in message
    assert sorted(p.name for p in out.iterdir()) == ["clip-0-0.wav"]  # no temporary left
