"""The piano corpus from music21's scores, and the labelled single-note set."""

import csv
import json

import numpy as np
import pytest

from cadenza.data import audio, piano, synth
from cadenza.data.piano import build_note_set, build_piano_corpus

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
    assert {p["split"] for p in pieces} == set(piano.SPLITS)
    assert {p["group"] for p in pieces} == {"keyboard", "chamber", "chorale"}
    found = {split: {f.stem for f in (corpus_dir / split).glob("*.wav")} for split in piano.SPLITS}
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
    piano._parsed_notes.cache_clear()  # parse the scores and synthesise the keys afresh
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


def test_score_notes_follow_tempo_and_dynamics():
    from music21 import dynamics, note, stream, tempo

    part = stream.Part()
    part.append(tempo.MetronomeMark(number=120))
    part.append(dynamics.Dynamic("p"))
    part.append([note.Note("C4", quarterLength=1.0), note.Note("E4", quarterLength=2.0)])
    part.append(dynamics.Dynamic("ff"))
    part.append(note.Note("G4", quarterLength=1.0))
    notes = piano.score_notes(stream.Score([part.makeMeasures()]), seed=0)
    assert [n.pitch for n in notes] == [60, 64, 67]
    assert [n.onset for n in notes] == [0.0, 0.5, 1.5]  # 120 bpm: half a second a beat
    assert [n.duration for n in notes] == [0.5, 1.0, 0.5]
    assert notes[2].velocity > notes[1].velocity + 30  # ff against p


def test_splits_are_balanced_and_seeded():
    ids = [f"piece{i}" for i in range(50)]
    splits = piano.assign_piece_splits(ids, (0.8, 0.1, 0.1), seed=0)
    assert [list(splits.values()).count(s) for s in piano.SPLITS] == [40, 5, 5]
    assert splits == piano.assign_piece_splits(ids, (0.8, 0.1, 0.1), seed=0)
    assert splits != piano.assign_piece_splits(ids, (0.8, 0.1, 0.1), seed=1)
    three = piano.assign_piece_splits(ids[:3], (0.8, 0.1, 0.1), seed=0)
    assert sorted(three.values()) == ["test", "train", "validation"]


def test_note_set_labels_every_note_once_and_every_split_sees_every_class(tmp_path):
    pitches, velocities = (40, 60, 80), (40, 120)
    instruments = ("piano", "harpsichord", "organ", "felt_piano")
    description = build_note_set(
        tmp_path, pitches=pitches, velocities=velocities, instruments=instruments,
        seconds=0.5, renderer="synth", progress=False,
    )  # fmt: skip
    with open(tmp_path / "labels.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    labels = [(r["instrument"], int(r["pitch"]), int(r["velocity"])) for r in rows]
    assert sorted(labels) == sorted(
        (i, p, v) for i in instruments for p in pitches for v in velocities
    )
    assert description["files"] == len(rows) == 24
    for split in piano.SPLITS:
        chosen = [r for r in rows if r["split"] == split]
        assert {r["instrument"] for r in chosen} == set(instruments)
        assert {int(r["pitch"]) for r in chosen} == set(pitches)
        assert {int(r["velocity"]) for r in chosen} == set(velocities)
    for row in rows:
        wave, _ = audio.load(tmp_path / row["path"])
        assert wave.shape == (1, round(0.5 * 22050)) and np.abs(wave).max() > 0.01


@pytest.mark.skipif(not synth.renderer_available(), reason="fluidsynth or soundfont missing")
def test_note_set_with_fluidsynth_uses_general_midi_programs(tmp_path):
    description = build_note_set(
        tmp_path, pitches=(48, 72), velocities=(100,), instruments=("piano", "vibraphone"),
        seconds=0.5, renderer="fluidsynth", split=(1, 0, 0), progress=False,
    )  # fmt: skip
    assert description["renderer"] == "fluidsynth"
    assert description["instruments"]["vibraphone"]["program"] == 11
    for path in tmp_path.glob("train/*.wav"):
        wave, _ = audio.load(path)
        assert np.abs(wave[0, : round(0.3 * 22050)]).max() > 0.01
