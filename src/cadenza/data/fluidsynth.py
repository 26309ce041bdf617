"""FluidSynth: notes to a standard MIDI file, rendered with a General MIDI soundfont.

Needs the ``fluidsynth`` program and a soundfont (Debian: ``apt-get install fluidsynth
fluid-soundfont-gm``). Reverb and chorus are off and the output is 32-bit float, so the same
notes give the same samples.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import soundfile

from cadenza.data import audio
from cadenza.data.audio import AudioError
from cadenza.data.notes import Note, as_note, merge_unisons

SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",  # Debian / Ubuntu: fluid-soundfont-gm
    "/usr/share/soundfonts/FluidR3_GM.sf2",  # Arch, Fedora
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
)


def write_midi(
    notes: Iterable[Note | Sequence],
    path: str | Path,
    *,
    program: int = 0,
    end_seconds: float | None = None,
    silence_at: Iterable[float] = (),
) -> Path:
    """A type-0 standard MIDI file on channel 1 (480 ticks per quarter at 120 bpm, ~1 ms).

    ``end_seconds`` places the end of track; ``silence_at`` sends All Sound Off at those times
    (to cut ringing tails between separate notes). Unisons are merged first.
    """
    ticks_per_second = 960
    events = []  # (tick, order, bytes): note-offs, then all-sound-off, then note-ons
    for time in silence_at:
        events.append((round(time * ticks_per_second), 0, bytes([0xB0, 120, 0])))
    for note in merge_unisons(notes):
        on = round(note.onset * ticks_per_second)
        off = max(on + 1, round(note.end * ticks_per_second))
        events.append((on, 2, bytes([0x90, note.pitch, note.velocity])))
        events.append((off, 0, bytes([0x80, note.pitch, 64])))
    events.sort()
    last = events[-1][0] if events else 0
    end = max(last, round((end_seconds or 0.0) * ticks_per_second))
    track = bytearray()
    track += _vlq(0) + b"\xff\x51\x03" + (500000).to_bytes(3, "big")  # 120 bpm
    track += _vlq(0) + bytes([0xC0, program])
    now = 0
    for tick, _, data in events:
        track += _vlq(tick - now) + data
        now = tick
    track += _vlq(end - now) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
    path = Path(path)
    path.write_bytes(header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track))
    return path


def _vlq(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def find_soundfont(soundfont: str | Path | None = None) -> Path | None:
    """The given soundfont (an error if missing), else the first standard GM soundfont found."""
    if soundfont is not None:
        path = Path(soundfont)
        if not path.is_file():
            raise AudioError(f"{path}: soundfont not found")
        return path
    return next((Path(p) for p in SOUNDFONT_PATHS if Path(p).is_file()), None)


def renderer_available(soundfont: str | Path | None = None) -> bool:
    """True when the ``fluidsynth`` program and a General MIDI soundfont are installed."""
    try:
        return shutil.which("fluidsynth") is not None and find_soundfont(soundfont) is not None
    except AudioError:
        return False


def fluidsynth_version() -> str | None:
    """The installed FluidSynth's version number, or None without the program."""
    if shutil.which("fluidsynth") is None:
        return None
    result = subprocess.run(["fluidsynth", "--version"], capture_output=True, text=True)
    match = re.search(r"version\s+([\d.]+)", result.stdout)
    return match.group(1) if match else None


def render_midi_fluidsynth(
    midi_path: str | Path,
    sample_rate: int = 22050,
    soundfont: str | Path | None = None,
    *,
    gain: float = 0.5,
) -> np.ndarray:
    """Render a MIDI file with the ``fluidsynth`` program: mono float32 ``(1, samples)``.

    Reverb and chorus are off and the output is 32-bit float (no dither), so the same file
    gives the same samples. Levels are FluidSynth's, scaled by ``gain``; nothing is normalised.
    """
    font = find_soundfont(soundfont)
    if font is None or shutil.which("fluidsynth") is None:
        raise AudioError("fluidsynth or a General MIDI soundfont is not installed")
    with tempfile.TemporaryDirectory(prefix="cadenza-fluidsynth-") as folder:
        out = Path(folder) / "out.wav"
        # -n -i: no MIDI input, no shell; -R 0 -C 0: reverb and chorus off; -F: fast render.
        options = f"-n -i -q -R 0 -C 0 -g {gain} -r {sample_rate} -T wav -O float".split()
        command = ["fluidsynth", *options, "-F", str(out), str(font), str(midi_path)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not out.is_file():
            raise AudioError(f"{midi_path}: fluidsynth failed ({result.stderr.strip()[-500:]})")
        data, rate = soundfile.read(str(out), dtype="float32", always_2d=True)
    if rate != sample_rate:
        raise AudioError(f"{midi_path}: fluidsynth wrote {rate} Hz, not {sample_rate} Hz")
    return np.ascontiguousarray(data.mean(axis=1, dtype=np.float32)[None])


def render_notes_fluidsynth(
    notes: Iterable[Note | Sequence],
    sample_rate: int = 22050,
    seconds: float | None = None,
    *,
    program: int = 0,
    soundfont: str | Path | None = None,
    gain: float = 0.5,
    peak: float | None = 0.9,
) -> np.ndarray:
    """Notes through FluidSynth with General MIDI ``program`` (0 = Acoustic Grand Piano).

    Same length and ``peak`` rules as ``synth.render_notes`` (without ``seconds``, 2 s of tail).
    """
    notes = list(map(as_note, notes))
    end = max((note.end for note in notes), default=0.0)
    seconds = end + 2.0 if seconds is None else seconds
    with tempfile.TemporaryDirectory(prefix="cadenza-midi-") as folder:
        midi = write_midi(notes, Path(folder) / "notes.mid", program=program, end_seconds=seconds)
        wave = render_midi_fluidsynth(midi, sample_rate, soundfont, gain=gain)[0]
    total = round(seconds * sample_rate)
    if wave.shape[0] >= total:
        cut = wave.shape[0] > total and np.abs(wave[total:]).max() > 0
        wave = wave[:total].copy()
        if cut:
            count = min(total, round(0.01 * sample_rate))
            wave[total - count :] *= audio.fade_out(count)
    else:
        wave = np.pad(wave, (0, total - wave.shape[0]))
    return audio.fit_peak(wave, peak)[None]
