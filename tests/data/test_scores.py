"""Scores to notes: tempo, dynamics and metre."""

from cadenza.data.scores import score_notes


def test_score_notes_follow_tempo_and_dynamics():
    from music21 import dynamics, note, stream, tempo

    part = stream.Part()
    part.append(tempo.MetronomeMark(number=120))
    part.append(dynamics.Dynamic("p"))
    part.append([note.Note("C4", quarterLength=1.0), note.Note("E4", quarterLength=2.0)])
    part.append(dynamics.Dynamic("ff"))
    part.append(note.Note("G4", quarterLength=1.0))
    notes = score_notes(stream.Score([part.makeMeasures()]), seed=0)
    assert [n.pitch for n in notes] == [60, 64, 67]
    assert [n.onset for n in notes] == [0.0, 0.5, 1.5]  # 120 bpm: half a second a beat
    assert [n.duration for n in notes] == [0.5, 1.0, 0.5]
    assert notes[2].velocity > notes[1].velocity + 30  # ff against p
