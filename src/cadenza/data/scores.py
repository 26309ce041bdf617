"""Scores to notes: a music21 score, or a catalogue piece, as the piano notes that play it.

Times come from the score's tempo marks, velocities from its dynamics and metre with a little
seeded variation. Every part is played on the piano. Chorale fermatas are not held longer, and
repeats are played once, as written.
"""

from __future__ import annotations

import bisect
import functools
import math
import zlib
from typing import TYPE_CHECKING

import numpy as np

from cadenza.data.catalogue import Piece
from cadenza.data.notes import Note, merge_unisons

if TYPE_CHECKING:  # music21 is imported only where a score is parsed
    from music21 import stream

DEFAULT_BPM = 96.0  # quarter notes per minute where a score gives no metronome mark
LEAD_SECONDS = 0.1  # silence before the first note of a piece
PIANO_RANGE = (21, 108)  # A0..C8; other pitches are moved by octaves into it


def score_notes(
    score: stream.Stream,
    *,
    seed: int = 0,
    default_bpm: float = DEFAULT_BPM,
    name: str = "",
    copy: bool = True,
) -> list[Note]:
    """A music21 score as piano notes: seconds from its tempo marks, velocities from dynamics.

    Velocity = 16 + 110 × the latest dynamic's volume (mf = 76 if none; a part without marks
    follows the score's), +8 on a downbeat, +4 on other beats, +6 in the top part, plus a
    seeded uniform ±5 (seeded by ``seed`` and ``name``). Ties are joined, staccato halves a note,
    grace notes are left out, and a key struck again releases its previous note.
    ``copy=False`` joins the ties in ``score`` itself, which is faster.
    """
    from music21 import articulations, chord, dynamics, stream

    if copy:
        score = score.stripTies(inPlace=False)
    else:
        score.stripTies(inPlace=True)
    seconds_at = _tempo_map(score, default_bpm)
    parts = list(score.parts) or [score]
    events = []  # (part index, offset, quarter length, midi pitches, accent)
    marks: list[list[tuple[float, float]]] = []
    for index, part in enumerate(parts):
        part_marks = []
        measures = list(part.getElementsByClass(stream.Measure))
        sections = [(m, m.getOffsetBySite(part)) for m in measures] or [(part, 0.0)]
        beat = 1.0
        for section, start in sections:
            if getattr(section, "timeSignature", None) is not None:
                beat = float(section.timeSignature.beatDuration.quarterLength) or 1.0
            padding = float(getattr(section, "paddingLeft", 0.0) or 0.0)
            flat = section.flatten()
            for mark in flat.getElementsByClass(dynamics.Dynamic):
                if mark.volumeScalar is not None:
                    part_marks.append((start + float(mark.offset), float(mark.volumeScalar)))
            for element in flat.notes:
                length = float(element.quarterLength)
                if length <= 0 or element.duration.isGrace:
                    continue
                if any(isinstance(a, articulations.Staccato) for a in element.articulations):
                    length *= 0.5
                pitches = element.pitches if isinstance(element, chord.Chord) else [element.pitch]
                position = float(element.offset) + padding
                on_beat = math.isclose(position / beat, round(position / beat))
                accent = 0 if not measures else 8 if position == 0 else 4 if on_beat else 0
                midi = [p.midi for p in pitches]
                events.append((index, start + float(element.offset), length, midi, accent))
        marks.append(sorted(part_marks))
    everywhere = sorted(m for part_marks in marks for m in part_marks)

    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    notes = []
    for index, offset, length, midi, accent in events:
        timeline = marks[index] or everywhere
        at = bisect.bisect_right(timeline, (offset, math.inf)) - 1
        volume = timeline[at][1] if at >= 0 else 0.55  # mf
        onset, end = seconds_at(offset), seconds_at(offset + length)
        for pitch in midi:
            jitter = int(rng.integers(-5, 6))
            velocity = round(16 + 110 * volume) + accent + (6 if index == 0 else 0) + jitter
            notes.append(
                Note(_in_piano_range(pitch), min(max(velocity, 1), 127), onset, end - onset)
            )
    return merge_unisons(notes)


def _tempo_map(score, default_bpm: float):
    """Quarter-length offset -> seconds, following the score's metronome marks."""
    from music21 import tempo

    marks = {}
    for mark in score.flatten().getElementsByClass(tempo.MetronomeMark):
        bpm = mark.getQuarterBPM()
        if bpm and math.isfinite(bpm):
            marks.setdefault(float(mark.offset), min(max(float(bpm), 30.0), 300.0))
    starts = sorted(marks) or [0.0]
    bpms = [marks[s] for s in starts] if marks else [default_bpm]
    starts[0] = 0.0  # the first tempo also holds before its mark (pickups)
    seconds = [0.0]
    for i in range(1, len(starts)):
        seconds.append(seconds[-1] + (starts[i] - starts[i - 1]) * 60.0 / bpms[i - 1])

    def seconds_at(offset: float) -> float:
        i = bisect.bisect_right(starts, offset) - 1
        return seconds[i] + (offset - starts[i]) * 60.0 / bpms[i]

    return seconds_at


def _in_piano_range(pitch: int) -> int:
    low, high = PIANO_RANGE
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch


def piece_notes(piece: Piece, *, seed: int = 0, piece_seconds: float | None = 75.0) -> list[Note]:
    """A catalogue piece as notes: first note at ``LEAD_SECONDS``, cut at ``piece_seconds``.

    Times are rounded to microseconds, so that the notes written to JSON are the notes played.
    """
    notes = _parsed_notes(piece.source, piece.id, seed)
    if not notes:
        return []
    shift = LEAD_SECONDS - min(note.onset for note in notes)
    cut = math.inf if piece_seconds is None else piece_seconds
    kept = []
    for note in notes:
        onset = round(note.onset + shift, 6)
        end = round(min(note.end + shift, cut), 6)
        if onset < cut and end > onset:
            kept.append(Note(note.pitch, note.velocity, onset, round(end - onset, 6)))
    return kept


@functools.lru_cache(maxsize=128)
def _parsed_notes(source: str, name: str, seed: int) -> tuple[Note, ...]:
    """Scores are parsed once per process (parsing and joining ties take most of a second)."""
    from music21 import corpus

    return tuple(score_notes(corpus.parse(source), seed=seed, name=name, copy=False))


def clear_cache() -> None:
    """Forget the parsed scores (they are parsed again on demand; results do not change)."""
    _parsed_notes.cache_clear()
