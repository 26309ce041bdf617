import json
import os
import stat
import subprocess
import sys

import pytest

from cadenza.atomic import (
    add_record,
    replacing,
    replacing_folder,
    unique_key,
    write_json,
    write_text,
)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_written_file_gets_the_permissions_of_a_plain_open(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    written = write_text(tmp_path / "sub" / "report.html", "<p>hello</p>\n")
    assert written.read_text() == "<p>hello</p>\n"
    assert mode(written) == mode(plain)
    assert sorted(p.name for p in written.parent.iterdir()) == ["report.html"]


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.wav"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target, ".wav") as temporary:
        temporary.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


def test_a_folder_replaces_the_old_one_whole_or_not_at_all(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    folder = tmp_path / "model"
    with replacing_folder(folder) as staging:
        (staging / "a.json").write_text("{}")
    assert mode(folder) == mode(plain) and (folder / "a.json").exists()
    with pytest.raises(KeyError), replacing_folder(folder) as staging:
        (staging / "b.json").write_text("{}")
        raise KeyError("interrupted")
    assert sorted(p.name for p in folder.iterdir()) == ["a.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "plain"]


def test_safetensors_files_get_normal_permissions_too(tmp_path):
    import torch

    from cadenza.checkpoint import load_tensors, save_tensors

    plain = tmp_path / "plain"
    plain.write_text("x")
    save_tensors(tmp_path / "weights.safetensors", {"w": torch.ones(3)})
    assert mode(tmp_path / "weights.safetensors") == mode(plain)
    assert torch.equal(load_tensors(tmp_path / "weights.safetensors")["w"], torch.ones(3))


# Each process adds its records one by one; argv: path, writer name, count.
ADD_RECORDS = """
import sys
from cadenza.atomic import add_record, update_json
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(count):
    add_record(path, {"writer": name, "files": [f"{name}-{i}.wav"]}, f"{name}-{i}")
    update_json(path + ".count", lambda value: (value or 0) + 1)
"""


def test_concurrent_writers_keep_every_record(tmp_path):
    """Four processes, 25 records each, into one file at once: all 100 are there."""
    path = tmp_path / "out" / "generate.json"
    writers = [subprocess.Popen([sys.executable, "-c", ADD_RECORDS, str(path), f"w{n}", "25"])
               for n in range(4)]
    assert [writer.wait(timeout=120) for writer in writers] == [0] * 4
    document = json.loads(path.read_text())
    assert sorted(run["run"] for run in document["runs"]) == sorted(
        f"w{n}-{i}" for n in range(4) for i in range(25))
    assert json.loads((tmp_path / "out" / "generate.json.count").read_text()) == 100
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "generate.json", "generate.json.count"]  # no lock or temporary file left behind


def test_a_record_file_keeps_each_run_and_the_newest_on_top(tmp_path):
    path = tmp_path / "generate.json"
    write_json(path, {"seed": 0, "files": ["clip-0-0.wav"]})  # one record, as before
    add_record(path, {"seed": 1, "files": ["clip-1-0.wav", "clip-1-1.wav"]}, "seed-1-a")
    document = add_record(path, {"seed": 2, "files": ["clip-2-0.wav"]}, "seed-2-a")
    assert document["seed"] == 2 and document["run"] == "seed-2-a"
    assert [run["seed"] for run in document["runs"]] == [0, 1, 2]
    # The same seed again overwrote clip-1-0.wav: the older record keeps only clip-1-1.wav.
    document = add_record(path, {"seed": 1, "files": ["clip-1-0.wav"]}, "seed-1-b")
    assert [(run["seed"], run["files"]) for run in document["runs"]] == [
        (0, ["clip-0-0.wav"]), (1, ["clip-1-1.wav"]), (2, ["clip-2-0.wav"]),
        (1, ["clip-1-0.wav"])]
    document = add_record(path, {"seed": 0, "files": ["clip-0-0.wav"]}, "seed-0-b")
    assert [run.get("run") for run in document["runs"]] == [
        "seed-1-a", "seed-2-a", "seed-1-b", "seed-0-b"]  # the first record had only that file
    assert json.loads(path.read_text()) == document
    assert add_record(path, {"seed": 0, "files": []}, "seed-0-b")["runs"][-1]["files"] == []


def test_a_damaged_record_file_is_a_one_line_error_naming_it(tmp_path):
    path = tmp_path / "generate.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"generate\.json: not a JSON file .*move it") as error:
        add_record(path, {"seed": 0}, "k")
    assert "\n" not in str(error.value) and path.read_text() == "{not json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"generate\.json: not a cadenza records file"):
        add_record(path, {"seed": 0}, "k")


def test_unique_keys_differ_between_calls():
    first, second = unique_key("seed-0"), unique_key("seed-0")
    assert first.startswith("seed-0-") and first != second
