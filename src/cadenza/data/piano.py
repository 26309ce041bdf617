"""The piano corpus: real compositions from music21's bundled corpus, played as piano audio.

``build_piano_corpus`` takes the catalogue's pieces in order (``cadenza.data.catalogue``),
turns each score into notes (``cadenza.data.scores``), renders them with FluidSynth or
cadenza's own synthesiser (``cadenza.data.renderers``), and splits train / validation / test
by piece, never by crop (``cadenza.data.splits``). Each piece is cut after ``piece_seconds``
(75 s by default) so the corpus has variety; notes sounding at the cut are released there.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from cadenza import atomic
from cadenza.data import audio, fluidsynth, synth
from cadenza.data.catalogue import Piece, catalogue
from cadenza.data.notes import Note
from cadenza.data.renderers import resolve_renderer, software_versions
from cadenza.data.scores import piece_notes
from cadenza.data.splits import SPLITS, assign_piece_splits, split_fractions

TAIL_SECONDS = 1.0  # after the last release (or the cut), for the dampers and the room
MIN_PIECE_SECONDS = 10.0  # the shortest cut made so that every split gets a piece
NOTES_FIELDS = ("pitch", "velocity", "onset", "duration")


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
    are three). When ``minutes`` would hold fewer pieces than splits, every piece is cut at
    ``minutes`` over the number of splits instead, if that leaves ``MIN_PIECE_SECONDS``;
    ``split_summary`` in the metadata says how it split. The same arguments give
    byte-identical files; a piece already written with the
    same notes and rendering settings is kept (an interrupted build resumes).
    """
    out_dir = Path(out_dir)
    fractions = split_fractions(split)
    used = resolve_renderer(renderer, soundfont)
    font = fluidsynth.find_soundfont(soundfont) if used == "fluidsynth" else None
    render_settings = {
        "renderer": used,
        "sample_rate": sample_rate,
        "seed": seed,
        "soundfont": font.name if font else None,
        "synth_version": synth.SYNTH_VERSION if used == "synth" else None,
    }

    target = minutes * 60.0
    selected, skipped, total = _select(target, seed, piece_seconds, progress)
    # Too few pieces for the splits: cut every piece shorter so that each split gets one,
    # when the minutes allow pieces of MIN_PIECE_SECONDS.
    needed = sum(f > 0 for f in fractions)
    cut = target / needed
    shortened = (len(selected) < needed and cut >= MIN_PIECE_SECONDS
                 and (piece_seconds is None or cut < piece_seconds))
    if shortened:
        piece_seconds = round(cut, 3)
        selected, skipped, total = _select(target, seed, piece_seconds, progress)

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
            atomic.write_text(notes_path, _notes_json(record))
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
        "pieces_shortened_for_splits": shortened,
        "catalogue_exhausted": total < target,
        "pieces": rows,
        "skipped": skipped,
        "versions": software_versions(used),
    }
    description["split_summary"] = split_summary(description)
    atomic.write_text(out_dir / "corpus.json", json.dumps(description, indent=2) + "\n")
    return description


def _select(target: float, seed: int, piece_seconds: float | None, progress: bool
            ) -> tuple[list[tuple[Piece, list[Note], float]], list[dict], float]:
    """Catalogue pieces in order, as notes cut at ``piece_seconds``, until ``target`` seconds:
    (piece, notes, seconds) each, the scores skipped with the reason, and the total seconds."""
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
    return selected, skipped, total


def split_summary(description: dict) -> str:
    """One sentence on how a corpus split: pieces and seconds per split, and why any is empty."""
    pieces, seconds = description["pieces_per_split"], description["seconds_per_split"]
    shares = description["split_fractions"]
    parts = ", ".join(f"{name} {pieces[name]} piece{'s' * (pieces[name] != 1)} "
                      f"({seconds[name]:.1f} s)" for name in SPLITS)
    text = (f"split by piece (seed {description['seed']}, shares "
            + "/".join(f"{shares[name]:.0%}" for name in SPLITS) + f"): {parts}")
    if description.get("pieces_shortened_for_splits"):
        text += (f"; every piece cut at {description['piece_seconds']:g} s so that each split "
                 "gets one")
    empty = [name for name in SPLITS if shares[name] > 0 and pieces[name] == 0]
    if empty:
        total, needed = sum(pieces.values()), sum(f > 0 for f in shares.values())
        text += (f"; {' and '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty: "
                 f"{total} piece{'s' * (total != 1)} cannot fill {needed} splits; ask for "
                 f"{needed * MIN_PIECE_SECONDS / 60:g} minutes or more (a piece of at least "
                 f"{MIN_PIECE_SECONDS:g} s for each)")
    return text


def _render(notes, seconds, renderer, sample_rate, seed, font) -> np.ndarray:
    """A piece on the piano, peak-normalised to 0.9."""
    if renderer == "fluidsynth":
        return fluidsynth.render_notes_fluidsynth(notes, sample_rate, seconds, soundfont=font)
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
