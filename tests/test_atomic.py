import os
import stat

import pytest

from cadenza.atomic import replacing, replacing_folder, write_text


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
