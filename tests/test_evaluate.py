import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from cadenza.evaluate import evaluate, floor_folders

RATE = 22050  # files are written at 22.05 kHz; evaluate resamples them to 16 kHz


def chords(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Piano-ish audio: a random three-note chord of decaying harmonic tones every 0.5 s."""
    t = np.arange(round(0.5 * RATE)) / RATE
    pieces = []
    for _ in range(round(seconds / 0.5)):
        chord = np.zeros_like(t)
        for midi in rng.integers(48, 84, 3):
            frequency = 440 * 2 ** ((midi - 69) / 12)
            chord += sum(np.sin(2 * np.pi * h * frequency * t) / h**2 for h in (1, 2, 3))
        pieces.append(chord * np.exp(-4 * t))
    wave = np.concatenate(pieces)
    return 0.3 * wave / np.abs(wave).max()


def write_folder(folder, seed: int, files: int = 4, seconds: float = 2.0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        soundfile.write(folder / f"clip{i}.wav", chords(rng, seconds), RATE)
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio")
    reference = write_folder(root / "reference", seed=1)
    generated = write_folder(root / "generated", seed=2, files=3)
    # A stereo file in a subfolder (read recursively, averaged to mono) ...
    nested = generated / "more"
    nested.mkdir()
    stereo = np.stack([chords(np.random.default_rng(3), 2.0)] * 2, axis=1)
    soundfile.write(nested / "stereo.flac", stereo, RATE)
    # ... an exact copy of a reference file (copy detection must find it) ...
    (generated / "copy.wav").write_bytes((reference / "clip0.wav").read_bytes())
    # ... and files that must be skipped and listed, not crash the run.
    (generated / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    soundfile.write(generated / "short.wav", np.zeros(RATE // 4), RATE)
    (generated / "notes.txt").write_text("not audio, ignored")
    return {"reference": reference, "generated": generated}


def test_evaluate_writes_metrics_and_a_self_contained_report(folders, tmp_path):
    out = tmp_path / "eval"
    metrics = evaluate(folders["generated"], folders["reference"], train_dir=folders["reference"],
                       sample_rate=16000, clip_seconds=1.0, out_dir=out, progress=False)

    def no_nan(text):
        raise AssertionError(f"{text} in metrics.json")

    on_disk = json.loads((out / "metrics.json").read_text(), parse_constant=no_nan)
    assert on_disk["fad"] == metrics["fad"] and on_disk["sets"]["generated"]["clips"] == 10
    assert [s["path"] for s in on_disk["sets"]["generated"]["skipped"]] == [
        "broken.wav", "short.wav"]
    fad = metrics["fad"]
    assert fad["value"] > 0 and fad["ci_low"] <= fad["ci_high"]
    assert metrics["fad_infinity"]["r2"] <= 1
    # 8 reference clips: KID says what it needs instead of a number.
    assert metrics["kid"] == {"needs": 10, "unavailable": "needs at least 10 clips in each set; "
                                                          "generated 10, reference 8"}
    assert metrics["floors"] is None and metrics["warnings"] == []
    assert on_disk["sets"]["generated"]["native_rates"] == {"22050": 5}
    assert all(0 <= metrics["ks"][name] <= 1 for name in ("rms", "centroid", "f0", "samples"))
    # The copied reference file: both its clips are found, with their source.
    listen = metrics["copies"]["pairs_to_listen"]
    assert {(p["generated"], p["train"]) for p in listen if p["similarity"] > 0.999} >= {
        ("copy.wav @ 0 s", "clip0.wav @ 0 s"), ("copy.wav @ 1 s", "clip0.wav @ 1 s")}
    assert metrics["nearest_reference"]["best"][0]["generated"].startswith("copy.wav")

    # The page itself is tested in test_eval_report.py; here, that it shows this run.
    page = (out / "report.html").read_text()
    assert "<h1>cadenza eval</h1>" in page and "broken.wav" in page and "copy.wav" in page
    assert page.count("data:image/png;base64,") == 3  # FAD fit, distances, copy similarity
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "report.html"]


def test_too_few_clips_is_a_clear_error(folders, tmp_path):
    with pytest.raises(ValueError, match="need at least two clips"):
        evaluate(folders["generated"], folders["reference"], clip_seconds=5.0,
                 out_dir=tmp_path, progress=False)


def cadenza(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from cadenza.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_eval_command_end_to_end(folders, tmp_path):
    result = cadenza("eval", str(folders["generated"]), str(folders["reference"]),
                     "--train", str(folders["reference"]), "--out", str(tmp_path),
                     "--seconds", "1", "--rate", "16000")
    assert result.returncode == 0, result.stderr
    assert "FAD" in result.stdout and "KID" in result.stdout and "copies:" in result.stdout
    assert "C2ST accuracy" in result.stdout
    assert "KID n/a (needs at least 10 clips in each set; generated 10, reference 8)" in (
        result.stdout)
    assert "FAD-inf " in result.stdout and "floors: none here" in result.stdout
    assert "skipped (generated) broken.wav" in result.stdout
    assert f"report: {tmp_path / 'report.html'}" in result.stdout
    assert json.loads((tmp_path / "metrics.json").read_text())["config"]["clip_seconds"] == 1

    third_party = cadenza("eval", str(folders["generated"]), str(folders["reference"]),
                          "--embedder", "vggish", "--out", str(tmp_path / "x"))
    assert third_party.returncode == 2 and "never downloads" in third_party.stderr
    assert "Traceback" not in third_party.stderr and not (tmp_path / "x").exists()


def test_a_corpus_split_as_reference_finds_its_held_out_floors(tmp_path):
    corpus = tmp_path / "piano"
    for split in ("train", "validation", "test"):
        (corpus / split).mkdir(parents=True)
    assert floor_folders(corpus / "train") == {}  # no corpus.json: not a corpus
    (corpus / "corpus.json").write_text("{}")
    assert floor_folders(corpus / "train") == {
        "held-out: validation split": corpus / "validation",
        "held-out: test split": corpus / "test"}
    assert floor_folders(corpus / "test") == {
        "held-out: validation split": corpus / "validation"}  # never train, never itself
    assert floor_folders(corpus / "train", "none") == {}
    assert floor_folders(corpus / "train", corpus / "test") == {"held-out: test": corpus / "test"}
    with pytest.raises(ValueError, match="not a folder"):
        floor_folders(corpus / "train", tmp_path / "missing")
