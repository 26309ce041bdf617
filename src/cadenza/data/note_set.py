"""The note set: labelled single notes (pitch × velocity × instrument) for pitch and instrument
classifiers, rendered with FluidSynth's General MIDI programs or the synthesiser's timbres."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from cadenza import atomic
from cadenza.data import audio, fluidsynth, synth
from cadenza.data.notes import Note
from cadenza.data.renderers import resolve_renderer, software_versions
from cadenza.data.splits import SPLITS, assign_label_splits, split_fractions


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
    used = resolve_renderer(renderer, soundfont)
    font = fluidsynth.find_soundfont(soundfont) if used == "fluidsynth" else None
    if used == "fluidsynth":
        missing = [name for name in names if INSTRUMENTS[name].program is None]
        if missing:
            raise ValueError(f"{missing} exist only in the synthesiser; use renderer='synth'")
    held = 0.75 * seconds
    items = [(name, p, v) for name in names for p in pitches for v in velocities]
    fractions = split_fractions(split)
    splits = assign_label_splits(items, fractions, seed)

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
    atomic.write_text(out_dir / "labels.csv", table.getvalue())
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
        "split_fractions": dict(zip(SPLITS, fractions, strict=True)),
        "labels": "labels.csv",
        "versions": software_versions(used),
    }
    atomic.write_text(out_dir / "note_set.json", json.dumps(description, indent=2) + "\n")
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
        midi = fluidsynth.write_midi(
            notes,
            Path(folder) / "notes.mid",
            program=program,
            end_seconds=total,
            silence_at=silences,
        )
        wave = fluidsynth.render_midi_fluidsynth(midi, sample_rate, font)[0]
    wave = np.pad(wave, (0, max(0, round(total * sample_rate) - wave.shape[0])))
    length = round(seconds * sample_rate)
    fade = min(length, round(0.01 * sample_rate))  # sustained sounds are cut at the end
    ramp = audio.fade_out(fade)
    waves = []
    for k in range(len(labels)):
        start = round(k * period * sample_rate)
        piece = wave[start : start + length].copy()
        piece[length - fade :] *= ramp
        waves.append(piece[None])
    return waves
