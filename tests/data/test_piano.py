"""The piano corpus from music21's scores."""

import json

import numpy as np
import pytest

from cadenza.data import audio, scores, synth
from cadenza.data.piano import build_piano_corpus
from cadenza.data.splits import SPLITS

# A few seconds of each piece keep the tests fast; real corpora use the 75 s default.
TINY = {"minutes": 0.3, "renderer": "synth", "seed": 1, "piece_seconds": 3.0, "progress": False}


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    build_piano_corpus(out, **TINY)
    return out


def test_corpus_splits_by_piece_with_notes_and_metadata(corpus_dir):
    description = json.loads((corpus_dir / "corpus.json").read_text())
    pieces = description["pieces"]
    assert description["renderer"] == "synth" and description["sample_rate"] == 22050
    assert description["seconds"] >= 0.3 * 60
    assert {p["split"] for p in pieces} == set(SPLITS)
    assert {p["group"] for p in pieces} == {"keyboard", "chamber", "chorale"}
    found = {split: {f.stem for f in (corpus_dir / split).glob("*.wav")} for split in SPLITS}
    assert sum(map(len, found.values())) == len(pieces) == len({p["id"] for p in pieces})
    assert not (found["train"] & found["validation"] or found["train"] & found["test"])
    for piece in pieces:
        wave, rate = audio.load(corpus_dir / piece["wav"])
        assert rate == 22050 and wave.shape[1] == round(piece["seconds"] * rate)
        assert 0.5 < np.abs(wave).max() <= 0.91
        notes = json.loads((corpus_dir / piece["notes_json"]).read_text())
        assert notes["fields"] == ["pitch", "velocity", "onset", "duration"]
        assert len(notes["notes"]) == piece["notes"] > 0
        assert max(onset + duration for _, _, onset, duration in notes["notes"]) <= 3.0


def test_corpus_is_byte_identical_when_rebuilt(corpus_dir, tmp_path):
    scores.clear_cache()  # parse the scores and synthesise the keys afresh
    synth.clear_cache()
    build_piano_corpus(tmp_path, **TINY)
    files = sorted(p.relative_to(corpus_dir) for p in corpus_dir.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for name in files:
        assert (corpus_dir / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_notes_json_replays_to_the_same_audio(corpus_dir):
    piece = json.loads((corpus_dir / "corpus.json").read_text())["pieces"][0]
    record = json.loads((corpus_dir / piece["notes_json"]).read_text())
    wave = synth.render_notes(record["notes"], 22050, piece["seconds"], seed=TINY["seed"])
    written, _ = audio.load(corpus_dir / piece["wav"])
    assert np.abs(written - wave).max() < 1e-4  # pcm16 rounding only


def test_rebuild_keeps_written_pieces(corpus_dir):
    wav = next(corpus_dir.glob("train/*.wav"))
    before = wav.stat().st_mtime_ns
    build_piano_corpus(corpus_dir, **TINY)
    assert wav.stat().st_mtime_ns == before


def test_few_minutes_still_fill_every_split_and_say_how(tmp_path):
    """2 minutes hold two 75 s pieces: the pieces are cut at 40 s instead, one per split."""
    two = build_piano_corpus(tmp_path / "two", 2, renderer="synth", sample_rate=8000,
                             progress=False)
    assert two["pieces_per_split"] == {"train": 1, "validation": 1, "test": 1}
    assert two["piece_seconds"] == 40.0 and two["pieces_shortened_for_splits"]
    assert "every piece cut at 40 s so that each split gets one" in two["split_summary"]
    assert all(any((tmp_path / "two" / split).glob("*.wav")) for split in SPLITS)
    # Too few minutes for a 10 s piece in each split: said, not silently left empty.
    tiny = build_piano_corpus(tmp_path / "tiny", 0.3, renderer="synth", sample_rate=8000,
                              progress=False)
    assert tiny["pieces_per_split"]["validation"] == tiny["pieces_per_split"]["test"] == 0
    assert "validation and test are empty" in tiny["split_summary"]
    assert "ask for 0.5 minutes or more" in tiny["split_summary"]
