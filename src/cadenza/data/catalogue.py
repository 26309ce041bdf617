"""The catalogue: which of music21's bundled scores the piano corpus plays, in what order.

The works, in the order they are taken (round robin over three groups, so that even a few
minutes of audio mix keyboard music, chamber music and chorales):

- keyboard and voice-with-piano works: ``KEYBOARD_WORKS``;
- string-quartet movements (Mozart, Haydn, Beethoven, Schumann): ``CHAMBER_WORKS``;
- Bach's chorales, every ``bach/bwv<number>[.<number>]`` score in the corpus in BWV order,
  alternative versions (``-a``, ``-lpz``, …) left out: ``chorale_sources()``.

With the 75 s cut that is 443 pieces and about 300 minutes of audio (16 keyboard works, 16 min;
45 quartet movements, 56 min; 382 chorales, 228 min); an hour takes the first 61 pieces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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
