"""The labelled single-note set."""

import csv

import numpy as np
import pytest

from cadenza.data import audio, fluidsynth
from cadenza.data.note_set import build_note_set
from cadenza.data.splits import SPLITS


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
    for split in SPLITS:
        chosen = [r for r in rows if r["split"] == split]
        assert {r["instrument"] for r in chosen} == set(instruments)
        assert {int(r["pitch"]) for r in chosen} == set(pitches)
        assert {int(r["velocity"]) for r in chosen} == set(velocities)
    for row in rows:
        wave, _ = audio.load(tmp_path / row["path"])
        assert wave.shape == (1, round(0.5 * 22050)) and np.abs(wave).max() > 0.01


@pytest.mark.skipif(not fluidsynth.renderer_available(), reason="fluidsynth or soundfont missing")
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
