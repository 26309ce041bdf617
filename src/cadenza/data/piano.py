"""The piano corpus: real compositions from music21's bundled corpus, played as piano audio.

``build_piano_corpus`` turns scores into note lists (tempo from the score, velocities from its
dynamics and metre with a little seeded variation), renders them with FluidSynth or cadenza's
own synthesiser, and splits train / validation / test by piece, never by crop.
``build_note_set`` renders labelled single notes (pitch × velocity × instrument) for pitch and
instrument classifiers.

The works, in the order they are taken (round robin over three groups, so that even a few
minutes of audio mix keyboard music, chamber music and chorales):

- keyboard and voice-with-piano works: ``KEYBOARD_WORKS``;
- string-quartet movements (Mozart, Haydn, Beethoven, Schumann): ``CHAMBER_WORKS``;
- Bach's chorales, every ``bach/bwv<number>[.<number>]`` score in the corpus in BWV order,
  alternative versions (``-a``, ``-lpz``, …) left out: ``chorale_sources()``.

With the 75 s cut that is 443 pieces and about 300 minutes of audio (16 keyboard works, 16 min;
45 quartet movements, 56 min; 382 chorales, 228 min); an hour takes the first 61 pieces.
Chorale fermatas are not held longer, and repeats are played once, as written.

Every part is played on the piano. Each piece is cut after ``piece_seconds`` (75 s by default)
so the corpus has variety; notes sounding at the cut are released there.
"""

from __future__ import annotations

import bisect
import csv
import functools
import hashlib
import io
import json
import math
import os
import platform
import re
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from cadenza import atomic
from cadenza.data import audio, synth
from cadenza.data.synth import Note

SPLITS = ("train", "validation", "test")
DEFAULT_BPM = 96.0  # quarter notes per minute where a score gives no metronome mark
LEAD_SECONDS = 0.1  # silence before the first note of a piece
TAIL_SECONDS = 1.0  # after the last release (or the cut), for the dampers and the room
PIANO_RANGE = (21, 108)  # A0..C8; other pitches are moved by octaves into it
NOTES_FIELDS = ("pitch", "velocity", "onset", "duration")
SYNTH_VERSION = 1  # bump when the synthesiser's sound changes, so resumed builds re-render

KEYBOARD_WORKS = (
    "bach/bwv846.mxl",  # Well-Tempered Clavier I, Prelude in C
    "mozart/k545/movement1_exposition.mxl",
    "joplin/maple_leaf_rag.mxl",
    "chopin/mazurka06-2.krn",
    "cpebach/h186.mxl",
    "schumann_clara/polonaise_op1n1.mxl",
    "schoenberg/opus19/movement2.mxl",
    "schumann_clara/polonaise_op1n2.mxl",
    "schubert/Lindenbaum.xml",  # voice and piano
    "schumann_clara/polonaise_op1n3.mxl",
    "schoenberg/opus19/movement6.mxl",
    "schumann_clara/polonaise_op1n4.mxl",
    "schumann_robert/dichterliebe_no2.xml",  # voice and piano
    "handel/rinaldo/Lascia_chio_pianga.mxl",  # voice and keyboard reduction
    "schumann_clara/opus17/movement3.xml",  # piano trio
    "beach/prayer_of_a_tired_child.musicxml",  # choir
)
CHAMBER_WORKS = tuple(
    f"{work}/movement{number}.mxl"
    for work, count in (
        ("mozart/k80", 4),
        ("haydn/opus1no1", 5),
        ("beethoven/opus18no1", 4),
        ("mozart/k155", 3),
        ("haydn/opus74no1", 4),
        ("beethoven/opus59no1", 4),
        ("mozart/k156", 4),
        ("schumann_robert/opus41no1", 5),
        ("beethoven/opus59no2", 4),
        ("mozart/k458", 4),
        ("beethoven/opus59no3", 4),
    )
    for number in range(1, count + 1)
)


@dataclass(frozen=True)
class Piece:
    """A work of the catalogue: its id (a safe file name), corpus path and group."""

    id: str
    source: str
    group: str


@dataclass(frozen=True)
class Instrument:
    """A note-set instrument: its General MIDI program (0-based) and its synthesiser timbre."""

    name: str
    program: int | None  # None: the synthesiser only
    timbre: str
    general_midi: str


INSTRUMENTS: dict[str, Instrument] = {
    i.name: i
    for i in (
        Instrument("piano", 0, "piano", "Acoustic Grand Piano"),
        Instrument("bright_piano", 1, "bright_piano", "Bright Acoustic Piano"),
        Instrument("electric_piano", 4, "electric_piano", "Electric Piano 1"),
        Instrument("harpsichord", 6, "harpsichord", "Harpsichord"),
        Instrument("vibraphone", 11, "vibraphone", "Vibraphone"),
        Instrument("organ", 19, "organ", "Church Organ"),
        Instrument("nylon_guitar", 24, "nylon_guitar", "Acoustic Guitar (nylon)"),
        Instrument("strings", 48, "strings", "String Ensemble 1"),
        Instrument("felt_piano", None, "felt_piano", "(none: synthesiser only)"),
    )
}
DEFAULT_INSTRUMENTS = tuple(name for name, i in INSTRUMENTS.items() if i.program is not None)


# ------------------------------------------------------------------ the catalogue


def piece_id(source: str) -> str:
    """``bach/bwv1.6.mxl`` -> ``bach_bwv1-6``: a file name that says where the piece came from."""
    stem = source.rsplit(".", 1)[0]
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem.replace("/", "_"))


def chorale_sources() -> list[str]:
    """Bach's chorales in the music21 corpus, in BWV order, without alternative versions."""
    from music21 import corpus

    root = _corpus_root()
    found = []
    for path in corpus.getComposer("bach"):
        source = Path(path).relative_to(root).as_posix()
        match = re.fullmatch(r"bach/bwv(\d+)(?:\.(\d+))?\.(?:mxl|xml)", source)
        if match and source != "bach/bwv846.mxl":
            found.append((int(match.group(1)), int(match.group(2) or 0), source))
    return [source for *_, source in sorted(found)]


def catalogue() -> list[Piece]:
    """Every work the corpus can use, in the order it uses them (round robin over groups)."""
    groups = [
        [Piece(piece_id(s), s, "keyboard") for s in KEYBOARD_WORKS],
        [Piece(piece_id(s), s, "chamber") for s in CHAMBER_WORKS],
        [Piece(piece_id(s), s, "chorale") for s in chorale_sources()],
    ]
    ordered = []
    for index in range(max(map(len, groups))):
        ordered.extend(group[index] for group in groups if index < len(group))
    return ordered


def _corpus_root() -> Path:
    from music21 import common

    return Path(common.getCorpusFilePath())


# ------------------------------------------------------------------ scores to notes


def score_notes(
    score, *, seed: int = 0, default_bpm: float = DEFAULT_BPM, name: str = "", copy: bool = True
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
    return synth.merge_unisons(notes)


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


# ------------------------------------------------------------------ the corpus


def build_piano_corpus(
    out_dir: str | os.PathLike,
    minutes: float,
    *,
    sample_rate: int = 22050,
    renderer: str = "auto",
    seed: int = 0,
    split: Sequence[float] = (0.8, 0.1, 0.1),
    piece_seconds: float | None = 75.0,
    soundfont: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict:
    """Render catalogue pieces until ``minutes`` of audio, split by piece; returns the metadata.

    Writes ``out_dir/<split>/<piece_id>.wav`` (mono pcm16) with ``<piece_id>.notes.json``
    beside it, and ``out_dir/corpus.json``. The split takes ``split`` fractions of the pieces
    in an order hashed from ``seed`` (each split with a nonzero share gets a piece once there
    are three). The same arguments give byte-identical files; a piece already written with the
    same notes and rendering settings is kept (an interrupted build resumes).
    """
    out_dir = Path(out_dir)
    fractions = _fractions(split)
    used = synth.resolve_renderer(renderer, soundfont)
    font = synth.find_soundfont(soundfont) if used == "fluidsynth" else None
    render_settings = {
        "renderer": used,
        "sample_rate": sample_rate,
        "seed": seed,
        "soundfont": font.name if font else None,
        "synth_version": SYNTH_VERSION if used == "synth" else None,
    }

    target = minutes * 60.0
    selected: list[tuple[Piece, list[Note], float]] = []
    skipped = []
    total = 0.0
    with tqdm(total=round(target), unit="s", desc="reading scores", disable=not progress) as bar:
        for piece in catalogue():
            if total >= target:
                break
            try:
                notes = piece_notes(piece, seed=seed, piece_seconds=piece_seconds)
            except Exception as error:  # music21 raises many kinds; a bad score is skipped
                skipped.append(
                    {"source": piece.source, "reason": f"{type(error).__name__}: {error}"}
                )
                continue
            if not notes:
                skipped.append({"source": piece.source, "reason": "no notes"})
                continue
            seconds = round(max(note.end for note in notes) + TAIL_SECONDS, 3)
            selected.append((piece, notes, seconds))
            total += seconds
            bar.update(min(round(total), round(target)) - bar.n)

    splits = assign_piece_splits([piece.id for piece, *_ in selected], fractions, seed)
    rows = []
    for piece, notes, seconds in tqdm(selected, desc="rendering", disable=not progress):
        name = splits[piece.id]
        wav = out_dir / name / f"{piece.id}.wav"
        notes_path = wav.with_name(f"{piece.id}.notes.json")
        for other in SPLITS:  # a piece lives in one split only (an earlier build may differ)
            if other != name:
                (out_dir / other / wav.name).unlink(missing_ok=True)
                (out_dir / other / notes_path.name).unlink(missing_ok=True)
        record = {
            "piece": piece.id,
            "source": piece.source,
            "seconds": seconds,
            "render": render_settings,
            "fields": list(NOTES_FIELDS),
            "notes": [[n.pitch, n.velocity, n.onset, n.duration] for n in notes],
        }
        if not _already_written(wav, notes_path, record, seconds, sample_rate):
            wave = _render(notes, seconds, used, sample_rate, seed, font)
            audio.write(wav, wave, sample_rate)
            _write_text(notes_path, _notes_json(record))
        rows.append(
            {
                "id": piece.id,
                "source": piece.source,
                "group": piece.group,
                "split": name,
                "seconds": seconds,
                "notes": len(notes),
                "cut": piece_seconds is not None
                and max(n.end for n in notes) >= piece_seconds - 1e-6,
                "wav": f"{name}/{wav.name}",
                "notes_json": f"{name}/{notes_path.name}",
            }
        )

    _warn_about_strays(out_dir, {row["wav"] for row in rows})
    description = {
        "kind": "cadenza piano corpus",
        "minutes_requested": minutes,
        "seconds": round(sum(row["seconds"] for row in rows), 3),
        "seconds_per_split": {
            s: round(sum(r["seconds"] for r in rows if r["split"] == s), 3) for s in SPLITS
        },
        "pieces_per_split": {s: sum(r["split"] == s for r in rows) for s in SPLITS},
        "split_fractions": dict(zip(SPLITS, fractions, strict=True)),
        "sample_rate": sample_rate,
        "renderer": used,
        "renderer_requested": renderer,
        "soundfont": str(font) if font else None,
        "seed": seed,
        "piece_seconds": piece_seconds,
        "catalogue_exhausted": total < target,
        "pieces": rows,
        "skipped": skipped,
        "versions": _versions(used),
    }
    _write_text(out_dir / "corpus.json", json.dumps(description, indent=2) + "\n")
    return description


def _render(notes, seconds, renderer, sample_rate, seed, font) -> np.ndarray:
    """A piece on the piano, peak-normalised to 0.9."""
    if renderer == "fluidsynth":
        return synth.render_notes_fluidsynth(notes, sample_rate, seconds, soundfont=font)
    return synth.render_notes(notes, sample_rate, seconds, seed)


def _already_written(wav: Path, notes_path: Path, record: dict, seconds, sample_rate) -> bool:
    """True when an earlier build wrote this piece with the same notes and settings."""
    if not (wav.is_file() and notes_path.is_file()):
        return False
    try:
        if json.loads(notes_path.read_text()) != json.loads(_notes_json(record)):
            return False
        found = audio.info(wav)
    except (ValueError, OSError):
        return False
    return found.sample_rate == sample_rate and found.frames == round(seconds * sample_rate)


def _notes_json(record: dict) -> str:
    """Pretty JSON with one note per line."""
    head = {key: value for key, value in record.items() if key != "notes"}
    lines = ",\n".join(f"    {json.dumps(note)}" for note in record["notes"])
    text = json.dumps(head, indent=2)[:-2]
    return f'{text},\n  "notes": [\n{lines}\n  ]\n}}\n'


def _warn_about_strays(out_dir: Path, listed: set[str]) -> None:
    strays = sorted(
        f"{name}/{path.name}"
        for name in SPLITS
        for path in (out_dir / name).glob("*.wav")
        if f"{name}/{path.name}" not in listed
    )
    if strays:
        warnings.warn(
            f"{out_dir}: {len(strays)} wav files are not part of this corpus "
            f"(e.g. {strays[0]}); corpus.json lists the pieces",
            stacklevel=3,
        )


def assign_piece_splits(
    ids: Sequence[str], fractions: Sequence[float], seed: int = 0
) -> dict[str, str]:
    """Split ids by a seeded hash order: counts by largest remainder, >= 1 per nonzero share."""
    counts = _split_counts(len(ids), fractions)
    ordered = sorted(ids, key=lambda i: _hash(seed, i))
    result = {}
    start = 0
    for name, count in zip(SPLITS, counts, strict=True):
        for i in ordered[start : start + count]:
            result[i] = name
        start += count
    return result


def _split_counts(total: int, fractions: Sequence[float]) -> list[int]:
    exact = [f * total for f in fractions]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(3), key=lambda k: (-(exact[k] - counts[k]), k))
    for k in by_remainder[: total - sum(counts)]:
        counts[k] += 1
    if total >= sum(f > 0 for f in fractions):
        for k in range(3):
            if fractions[k] > 0 and counts[k] == 0:
                counts[max(range(3), key=lambda j: counts[j])] -= 1
                counts[k] = 1
    return counts


def _fractions(split: Sequence[float]) -> tuple[float, float, float]:
    values = tuple(float(f) for f in split)
    if len(values) != 3 or min(values) < 0 or sum(values) <= 0:
        raise ValueError(f"split must be three non-negative fractions, got {split!r}")
    return tuple(f / sum(values) for f in values)


def _hash(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


# ------------------------------------------------------------------ the labelled note set


def build_note_set(
    out_dir: str | os.PathLike,
    *,
    pitches: Iterable[int] = range(36, 97, 3),
    velocities: Iterable[int] = (40, 80, 120),
    instruments: Iterable[str] = DEFAULT_INSTRUMENTS,
    seconds: float = 2.0,
    sample_rate: int = 22050,
    renderer: str = "auto",
    seed: int = 0,
    split: Sequence[float] = (0.8, 0.1, 0.1),
    soundfont: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict:
    """One file per (pitch, velocity, instrument): labelled notes for pitch and timbre models.

    Each file holds one note struck at 0 s and released at 0.75 × ``seconds``. With FluidSynth
    the instruments are General MIDI programs; with the synthesiser they are its timbres (see
    ``INSTRUMENTS``). Levels follow velocity; each instrument is scaled once so its loudest file
    peaks at 0.9. Writes ``out_dir/<split>/<instrument>_p<pitch>_v<velocity>.wav``,
    ``labels.csv`` and ``note_set.json``. The split is by a seeded hash, except that each split
    first takes files until it has every pitch, velocity and instrument at least once.
    """
    out_dir = Path(out_dir)
    pitches, velocities = sorted(set(pitches)), sorted(set(velocities))
    names = list(dict.fromkeys(instruments))
    unknown = [name for name in names if name not in INSTRUMENTS]
    if unknown:
        raise ValueError(f"unknown instruments {unknown}; choose from {', '.join(INSTRUMENTS)}")
    used = synth.resolve_renderer(renderer, soundfont)
    font = synth.find_soundfont(soundfont) if used == "fluidsynth" else None
    if used == "fluidsynth":
        missing = [name for name in names if INSTRUMENTS[name].program is None]
        if missing:
            raise ValueError(f"{missing} exist only in the synthesiser; use renderer='synth'")
    held = 0.75 * seconds
    items = [(name, p, v) for name in names for p in pitches for v in velocities]
    splits = assign_label_splits(items, _fractions(split), seed)

    rows = []
    for name in tqdm(names, desc="note set", disable=not progress):
        instrument = INSTRUMENTS[name]
        labels = [(p, v) for p in pitches for v in velocities]
        if used == "fluidsynth":
            waves = _fluidsynth_notes(labels, held, seconds, sample_rate, instrument.program, font)
        else:
            timbre = instrument.timbre
            waves = [
                synth.render_notes(
                    [Note(p, v, 0.0, held)], sample_rate, seconds, seed, timbre=timbre, peak=None
                )
                for p, v in labels
            ]
        loudest = max(float(np.abs(wave).max()) for wave in waves)
        gain = 0.9 / loudest if loudest > 0 else 1.0
        for (pitch, velocity), wave in zip(labels, waves, strict=True):
            name_split = splits[(name, pitch, velocity)]
            path = f"{name_split}/{name}_p{pitch:03d}_v{velocity:03d}.wav"
            audio.write(out_dir / path, wave * np.float32(gain), sample_rate)
            rows.append(
                {
                    "path": path,
                    "split": name_split,
                    "instrument": name,
                    "program": "" if instrument.program is None else instrument.program,
                    "pitch": pitch,
                    "velocity": velocity,
                    "onset": 0.0,
                    "duration": held,
                }
            )

    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(rows[0]) if rows else ["path"])
    writer.writeheader()
    writer.writerows(rows)
    _write_text(out_dir / "labels.csv", table.getvalue())
    description = {
        "kind": "cadenza note set",
        "files": len(rows),
        "files_per_split": {s: sum(r["split"] == s for r in rows) for s in SPLITS},
        "pitches": pitches,
        "velocities": velocities,
        "instruments": {
            name: {
                "program": INSTRUMENTS[name].program,
                "general_midi": INSTRUMENTS[name].general_midi,
                "timbre": INSTRUMENTS[name].timbre if used == "synth" else None,
            }
            for name in names
        },
        "seconds": seconds,
        "held_seconds": held,
        "sample_rate": sample_rate,
        "renderer": used,
        "renderer_requested": renderer,
        "soundfont": str(font) if font else None,
        "seed": seed,
        "split_fractions": dict(zip(SPLITS, _fractions(split), strict=True)),
        "labels": "labels.csv",
        "versions": _versions(used),
    }
    _write_text(out_dir / "note_set.json", json.dumps(description, indent=2) + "\n")
    return description


def _fluidsynth_notes(labels, held, seconds, sample_rate, program, font) -> list[np.ndarray]:
    """All notes of one instrument in one FluidSynth run, one slot each, then cut apart.

    Slots are ``seconds`` + 0.5 s apart and All Sound Off ends each one, so no tail leaks into
    the next note (and the soundfont is loaded once per instrument, not once per note).
    """
    period = seconds + 0.5
    notes = [Note(p, v, k * period, held) for k, (p, v) in enumerate(labels)]
    silences = [k * period + seconds + 0.25 for k in range(len(labels))]
    total = len(labels) * period
    with tempfile.TemporaryDirectory(prefix="cadenza-notes-") as folder:
        midi = synth.write_midi(
            notes,
            Path(folder) / "notes.mid",
            program=program,
            end_seconds=total,
            silence_at=silences,
        )
        wave = synth.render_midi_fluidsynth(midi, sample_rate, font)[0]
    wave = np.pad(wave, (0, max(0, round(total * sample_rate) - wave.shape[0])))
    length = round(seconds * sample_rate)
    fade = min(length, round(0.01 * sample_rate))  # sustained sounds are cut at the end
    ramp = (0.5 * (1 + np.cos(np.pi * np.arange(1, fade + 1) / fade))).astype(np.float32)
    waves = []
    for k in range(len(labels)):
        start = round(k * period * sample_rate)
        piece = wave[start : start + length].copy()
        piece[length - fade :] *= ramp
        waves.append(piece[None])
    return waves


def assign_label_splits(
    items: Sequence[tuple], fractions: Sequence[float], seed: int = 0
) -> dict[tuple, str]:
    """Split labelled items (tuples of class values) so that every split sees every class.

    Items are taken in a seeded hash order. First each split with a nonzero share, in turn,
    takes items until it holds every value of every label at least once (when there are enough
    items); then validation and test are filled up to their shares and train takes the rest.
    """
    ordered = sorted(items, key=lambda item: _hash(seed, repr(item)))
    counts = _split_counts(len(ordered), fractions)
    values = [set(column) for column in zip(*ordered, strict=True)] if ordered else []
    needed = sum(max(map(len, values), default=0) for f in fractions if f > 0)
    result: dict[tuple, str] = {}
    if len(ordered) >= needed:
        for k, name in enumerate(SPLITS):
            if fractions[k] == 0:
                continue
            missing = [set(v) for v in values]
            for item in ordered:
                if not any(missing):
                    break
                if item in result or not any(x in m for x, m in zip(item, missing, strict=True)):
                    continue
                result[item] = name
                for x, m in zip(item, missing, strict=True):
                    m.discard(x)
    for k, name in ((1, "validation"), (2, "test")):
        have = sum(1 for s in result.values() if s == name)
        for item in ordered:
            if have >= counts[k]:
                break
            if item not in result:
                result[item] = name
                have += 1
    for item in ordered:
        result.setdefault(item, "train")
    return result


# ------------------------------------------------------------------ small helpers


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file and a rename: never half-written."""
    atomic.write_text(path, text)


def _versions(renderer: str) -> dict:
    versions = {"python": platform.python_version()}
    for package in ("cadenza", "music21", "numpy", "soundfile"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    if renderer == "fluidsynth":
        versions["fluidsynth"] = synth.fluidsynth_version()
    else:
        versions["synth"] = SYNTH_VERSION
    return versions
