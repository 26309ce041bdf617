"""Notes: the key presses every renderer plays and every score becomes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    """One key press: MIDI pitch, velocity 1..127, onset and time until release, in seconds."""

    pitch: int
    velocity: int
    onset: float
    duration: float

    def __post_init__(self):
        if not 0 <= self.pitch <= 127:
            raise ValueError(f"pitch {self.pitch} is outside MIDI 0..127")
        if not 1 <= self.velocity <= 127:
            raise ValueError(f"velocity {self.velocity} is outside 1..127")
        if self.onset < 0 or not self.duration > 0:
            raise ValueError(f"onset {self.onset} s must be >= 0, duration {self.duration} s > 0")

    @property
    def end(self) -> float:
        return self.onset + self.duration


def midi_to_hz(pitch: float) -> float:
    """Equal temperament, A4 = MIDI 69 = 440 Hz."""
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


def as_note(note: Note | Sequence) -> Note:
    """A Note from a Note or a (pitch, velocity, onset, duration) sequence."""
    if isinstance(note, Note):
        return note
    pitch, velocity, onset, duration = note
    return Note(int(pitch), int(velocity), float(onset), float(duration))


def note_order(note: Note) -> tuple[float, int, int, float]:
    """Sort key: by onset, then pitch, velocity and duration, so every ordering is the same."""
    return (note.onset, note.pitch, note.velocity, note.duration)


def merge_unisons(notes: Iterable[Note | Sequence]) -> list[Note]:
    """One key sounds once at a time, as on a piano (and as MIDI needs).

    A key struck again while still held releases the earlier note at the new onset; notes
    struck together on one key merge into one, with the larger velocity and the longer duration.
    """
    by_key: dict[int, list[Note]] = {}
    for note in sorted(map(as_note, notes), key=lambda n: (n.pitch, n.onset, -n.duration)):
        held = by_key.setdefault(note.pitch, [])
        if held and held[-1].onset == note.onset:
            last = held[-1]
            held[-1] = Note(
                last.pitch,
                max(last.velocity, note.velocity),
                last.onset,
                max(last.duration, note.duration),
            )
            continue
        if held and held[-1].end > note.onset:
            last = held[-1]
            held[-1] = Note(last.pitch, last.velocity, last.onset, note.onset - last.onset)
        held.append(note)
    return sorted((n for held in by_key.values() for n in held), key=note_order)
