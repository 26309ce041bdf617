"""Note lists to audio: cadenza's own additive piano synthesiser, and FluidSynth when installed.

The synthesiser needs nothing but numpy, so a piano corpus can always be built. A note sounds
as a sum of inharmonic string partials f_n = n·f0·sqrt(1 + B·n²), each with a two-stage decay
(the piano's prompt sound and aftersound), a hammer-noise onset, and damper release after the
key goes up. Velocity sets both loudness and brightness: every key is rendered once as a soft
and a hard spectrum, and a note mixes the two, so brightness rises with velocity at the cost of
two multiply-adds per sample. Those per-key waveforms are cached, which is what lets an hour
of music render in about half a minute on one core.

Randomness is per key (string detuning, partial levels; like a real instrument, whose keys all
differ but repeat themselves) and per note (hammer noise), always drawn from a seed derived from
``seed`` and the key or note, so the same call gives the same samples.

FluidSynth (``apt-get install fluidsynth fluid-soundfont-gm``) renders a General MIDI soundfont
with reverb and chorus off; ``resolve_renderer("auto")`` picks it when available, else the
synthesiser.
"""

from __future__ import annotations

import math
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from cadenza.data.audio import AudioError

RENDERERS = ("auto", "fluidsynth", "synth")
SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",  # Debian / Ubuntu: fluid-soundfont-gm
    "/usr/share/soundfonts/FluidR3_GM.sf2",  # Arch, Fedora
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
)
MAX_NOTE_SECONDS = 12.0  # a key sounds at most this long (then fades); A0 is 45 dB down by then
LEVEL = 0.1  # RMS of a velocity-127 note over its first 0.3 s, before any normalisation
_BUCKETS = (1.5, 3.0, 6.0, MAX_NOTE_SECONDS)  # cached key lengths, in seconds
_FLOOR = 1e-4  # a partial stops once it is 80 dB below the key's strongest partial
_END_FADE = 0.2  # seconds of fade where a note outlasts its key's sound (MAX_NOTE_SECONDS)


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


@dataclass(frozen=True)
class Timbre:
    """What one synthesised instrument sounds like; see ``TIMBRES`` for the built-in ones.

    Partials are string modes n·f0·sqrt(1 + B·n²) with B = ``inharmonicity`` × the piano curve
    ``inharmonicity(pitch)``, or fixed mode ``ratios`` (bars, tines, organ pipes). Partial n has
    amplitude ratio^-tilt, from ``soft_tilt`` at velocity 1 to ``hard_tilt`` at 127, notched by
    the striking point (partials with a node there are not excited). Decay: T60 of the
    fundamental is ``decay`` × 20 s × (f0 / 27.5 Hz)^-0.5 (about 6 s at middle C), partials
    decay faster by (f/f0)^``decay_tilt``; the prompt sound decays ``prompt_speed`` times faster
    than the aftersound, which starts ``aftersound`` of the amplitude.
    """

    name: str
    inharmonicity: float = 1.0
    ratios: tuple[float, ...] | None = None
    max_partials: int = 64
    soft_tilt: float = 1.8
    hard_tilt: float = 0.8
    strike_position: float = 1 / 8  # fraction of the string; 0 excites every partial
    decay: float = 1.0
    decay_tilt: float = 0.7
    aftersound: float = 0.35
    prompt_speed: float = 4.0
    sustained: bool = False  # no decay while the key is held (organ, bowed strings)
    attack_seconds: float = 0.0015
    hammer_noise: float = 1.0
    damper_top: int | None = 88  # highest damped key (pianos have no dampers above ~F6)
    release_seconds: float = 0.045  # damper time constant; T60 is 6.9 times this
    strings: int | None = None  # strings per key; None is the piano's 1 / 2 / 3 by register
    unison_cents: float = 1.5  # largest detuning of a key's strings (beating)
    loudness_curve: float = 1.6  # gain = (velocity / 127) ** loudness_curve
    brightness_curve: float = 1.0  # hard-spectrum share = (velocity / 127) ** brightness_curve


TIMBRES: dict[str, Timbre] = {
    timbre.name: timbre
    for timbre in (
        Timbre("piano"),
        Timbre("bright_piano", soft_tilt=1.3, hard_tilt=0.45, hammer_noise=1.5),
        # Felt between hammer and strings: dark at every velocity, slower attack, muffled thump.
        Timbre(
            "felt_piano",
            soft_tilt=2.6,
            hard_tilt=1.9,
            attack_seconds=0.008,
            hammer_noise=0.3,
            decay=0.8,
            release_seconds=0.07,
        ),
        # Tine and tone bar: nearly harmonic body plus fast-dying inharmonic bell partials.
        Timbre(
            "electric_piano",
            ratios=(1.0, 2.0, 3.0, 4.0, 7.03, 12.1),
            soft_tilt=2.2,
            hard_tilt=0.9,
            strike_position=0.0,
            decay=0.7,
            decay_tilt=1.3,
            aftersound=0.5,
            prompt_speed=4.0,
            hammer_noise=0.2,
            damper_top=127,
            release_seconds=0.06,
            strings=1,
        ),
        # Plucked near the end of thin strings: bright at any velocity, nearly constant level;
        # no dampers, so a note rings until it dies away.
        Timbre(
            "harpsichord",
            inharmonicity=0.3,
            soft_tilt=0.9,
            hard_tilt=0.6,
            strike_position=1 / 11,
            decay=0.35,
            decay_tilt=0.5,
            aftersound=0.4,
            hammer_noise=0.4,
            damper_top=None,
            strings=2,
            unison_cents=2.0,
            loudness_curve=0.3,
            brightness_curve=1.0,
        ),
        # Aluminium bars tuned 1 : 4 : 10, long ring with the pedal down.
        Timbre(
            "vibraphone",
            ratios=(1.0, 4.0, 10.0),
            soft_tilt=2.2,
            hard_tilt=1.0,
            strike_position=0.0,
            decay=0.45,
            decay_tilt=0.8,
            aftersound=1.0,
            hammer_noise=0.3,
            damper_top=None,
            strings=1,
        ),
        # Drawbar organ: harmonic pipes 8', 4', 2 2/3', 2', 1 3/5'..., steady while held.
        Timbre(
            "organ",
            ratios=(1.0, 2.0, 3.0, 4.0, 6.0, 8.0),
            soft_tilt=1.2,
            hard_tilt=0.6,
            strike_position=0.0,
            sustained=True,
            attack_seconds=0.03,
            hammer_noise=0.0,
            damper_top=127,
            release_seconds=0.04,
            strings=1,
            loudness_curve=0.5,
        ),
        Timbre(
            "nylon_guitar",
            inharmonicity=0.08,
            soft_tilt=2.2,
            hard_tilt=1.4,
            strike_position=1 / 5,
            decay=0.45,
            decay_tilt=1.0,
            aftersound=0.5,
            hammer_noise=0.1,
            damper_top=127,
            release_seconds=0.08,
            strings=1,
        ),
        # A bowed section: sawtooth-like harmonic spectrum, slow attack, three detuned players.
        Timbre(
            "strings",
            inharmonicity=0.0,
            max_partials=40,
            soft_tilt=1.6,
            hard_tilt=1.0,
            strike_position=1 / 9,
            sustained=True,
            attack_seconds=0.08,
            hammer_noise=0.0,
            damper_top=127,
            release_seconds=0.12,
            strings=3,
            unison_cents=7.0,
        ),
    )
}


def midi_to_hz(pitch: float) -> float:
    """Equal temperament, A4 = MIDI 69 = 440 Hz."""
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


def inharmonicity(pitch: float) -> float:
    """The piano's inharmonicity coefficient B for a MIDI pitch.

    log10 B = -4 + 2·x^1.5 with x = (pitch - 21) / 87 clipped to [0, 1]: 1e-4 at A0, about 4e-4
    at middle C and 1e-2 at C8, a smooth fit to measured grand pianos (Fletcher & Rossing, The
    Physics of Musical Instruments, §12.3), whose B rises steeply in the treble.
    """
    x = min(max((pitch - 21) / 87, 0.0), 1.0)
    return 10.0 ** (-4.0 + 2.0 * x**1.5)


def partial_frequencies(
    pitch: int, timbre: str | Timbre = "piano", sample_rate: int = 22050
) -> np.ndarray:
    """Frequencies (Hz) of the partials the synthesiser plays for a key, below 0.45 × rate."""
    timbre = get_timbre(timbre)
    f0 = midi_to_hz(pitch)
    if timbre.ratios is not None:
        ratios = np.asarray(timbre.ratios, dtype=np.float64)
    else:
        n = np.arange(1, timbre.max_partials + 1, dtype=np.float64)
        ratios = n * np.sqrt(1.0 + timbre.inharmonicity * inharmonicity(pitch) * n**2)
    frequencies = f0 * ratios
    return frequencies[frequencies < 0.45 * sample_rate]


def get_timbre(timbre: str | Timbre) -> Timbre:
    """A Timbre, or the built-in one of that name."""
    if isinstance(timbre, Timbre):
        return timbre
    if timbre not in TIMBRES:
        raise ValueError(f"unknown timbre {timbre!r}; choose from {', '.join(TIMBRES)}")
    return TIMBRES[timbre]


def as_note(note: Note | Sequence) -> Note:
    """A Note from a Note or a (pitch, velocity, onset, duration) sequence."""
    if isinstance(note, Note):
        return note
    pitch, velocity, onset, duration = note
    return Note(int(pitch), int(velocity), float(onset), float(duration))


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
    return sorted((n for held in by_key.values() for n in held), key=_note_order)


# ------------------------------------------------------------------ the synthesiser


def render_notes(
    notes: Iterable[Note | Sequence],
    sample_rate: int = 22050,
    seconds: float | None = None,
    seed: int = 0,
    *,
    timbre: str | Timbre = "piano",
    peak: float | None = 0.9,
) -> np.ndarray:
    """Render notes with the additive synthesiser: float32 of shape ``(1, samples)``.

    Length is ``seconds`` (later sound is cut with a short fade) or until the last release has
    died away. ``peak`` normalises the loudest sample to that level; with ``peak=None`` levels
    are absolute (a velocity-127 note has RMS ``LEVEL``) and only scaled down if above 0.99.
    """
    timbre = get_timbre(timbre)
    notes = sorted(map(as_note, notes), key=_note_order)
    total = None if seconds is None else round(seconds * sample_rate)
    plans = [_plan(note, timbre, sample_rate, total) for note in notes]
    needed: dict[int, int] = {}
    for note, (_, wanted) in zip(notes, plans, strict=True):
        needed[note.pitch] = max(needed.get(note.pitch, 0), wanted)
    keys = {p: _key_waves(timbre, p, sample_rate, seed, need) for p, need in needed.items()}
    starts = [round(note.onset * sample_rate) for note in notes]
    lengths = [
        min(wanted, keys[note.pitch][0].shape[0])
        for note, (_, wanted) in zip(notes, plans, strict=True)
    ]
    if total is None:
        total = max((s + n for s, n in zip(starts, lengths, strict=True)), default=0)
    out = np.zeros(total, dtype=np.float32)
    fade_out = False
    for note, (held, wanted), start, length in zip(notes, plans, starts, lengths, strict=True):
        if start >= total:
            continue
        soft, hard = keys[note.pitch]
        wave = _note_wave(note, timbre, soft, hard, held, length, wanted, sample_rate, seed)
        stop = min(start + length, total)
        out[start:stop] += wave[: stop - start]
        fade_out |= start + length > total
    if fade_out:  # notes still sounding at the requested end: no click there
        count = min(total, round(0.01 * sample_rate))
        out[total - count :] *= _fade(count)
    return _normalise(out, peak)[None]


def _note_order(note: Note):
    return (note.onset, note.pitch, note.velocity, note.duration)


def _plan(note: Note, timbre: Timbre, sample_rate: int, total: int | None) -> tuple[int, int]:
    """Samples until the key is released, and the samples the note wants in all."""
    held = max(1, round(note.duration * sample_rate))
    if _is_damped(note.pitch, timbre):
        wanted = held + len(_release_envelope(note.pitch, timbre, sample_rate))
    else:
        wanted = round(MAX_NOTE_SECONDS * sample_rate)
    if total is not None:  # nothing is heard past the end of the output
        wanted = max(1, min(wanted, total - round(note.onset * sample_rate)))
    return held, wanted


def _is_damped(pitch: int, timbre: Timbre) -> bool:
    return timbre.damper_top is not None and pitch <= timbre.damper_top


def _release_envelope(pitch: int, timbre: Timbre, sample_rate: int) -> np.ndarray:
    """Damper on the strings: exponential decay, bass dampers slower, ending smoothly at zero."""
    x = min(max((pitch - 21) / 87, 0.0), 1.0)
    tau = timbre.release_seconds * (1.0 + 0.8 * (1.0 - x))
    count = max(2, round(8 * tau * sample_rate))
    t = np.arange(count) / sample_rate
    envelope = np.exp(-t / tau) * 0.5 * (1.0 + np.cos(np.pi * np.arange(count) / count))
    return envelope.astype(np.float32)


def _fade(count: int) -> np.ndarray:
    """Raised-cosine fade from 1 to 0 over ``count`` samples."""
    return (0.5 * (1.0 + np.cos(np.pi * (np.arange(count) + 1) / count))).astype(np.float32)


def _note_wave(note, timbre, soft, hard, held, length, wanted, sample_rate, seed) -> np.ndarray:
    """One note from its key's cached soft and hard waves: mix, hammer noise, damper, fades."""
    level = (note.velocity / 127) ** timbre.loudness_curve
    brightness = (note.velocity / 127) ** timbre.brightness_curve
    wave = soft[:length] * np.float32(level * (1.0 - brightness))
    wave += hard[:length] * np.float32(level * brightness)
    if timbre.hammer_noise > 0:
        noise = _hammer_noise(note, sample_rate, seed)[:length]
        thump = 0.5 * LEVEL * timbre.hammer_noise * level * brightness
        wave[: len(noise)] += noise * np.float32(thump)
    if held < length and _is_damped(note.pitch, timbre):
        release = _release_envelope(note.pitch, timbre, sample_rate)
        wave[held:] *= release[: length - held]
    if length < wanted:  # cut by the key's longest sound: fade rather than click
        count = min(length, round(_END_FADE * sample_rate))
        wave[length - count :] *= _fade(count)
    return wave


def _hammer_noise(note: Note, sample_rate: int, seed: int) -> np.ndarray:
    """The felt hitting the string: 30 ms of low-passed noise, seeded by the note itself."""
    rng = np.random.default_rng([seed, note.pitch, note.velocity, round(note.onset * 1e6), 7])
    count = round(0.03 * sample_rate)
    t = np.arange(count) / sample_rate
    noise = np.convolve(rng.standard_normal(count), np.ones(6) / 6, mode="same")
    envelope = np.exp(-t / 0.006) * (1.0 - np.exp(-t / 0.0005))
    return (noise * envelope).astype(np.float32)


_KEY_CACHE: OrderedDict = OrderedDict()
_KEY_CACHE_SIZE = 160


def _key_waves(timbre: Timbre, pitch: int, sample_rate: int, seed: int, need: int):
    """Cached (soft, hard) waves of a key, at least ``need`` samples or the key's full length.

    Samples do not depend on the cached length, so results never depend on what was rendered
    before (a longer wave replaces a shorter one in the cache).
    """
    key = (timbre, pitch, sample_rate, seed)
    cached = _KEY_CACHE.get(key)
    if cached is not None and (cached[2] or cached[0].shape[0] >= need):
        _KEY_CACHE.move_to_end(key)
        return cached[0], cached[1]
    bucket = next(s for s in _BUCKETS if s * sample_rate >= need or s == _BUCKETS[-1])
    soft, hard, complete = _synthesise_key(timbre, pitch, sample_rate, seed, bucket)
    _KEY_CACHE[key] = (soft, hard, complete)
    while len(_KEY_CACHE) > _KEY_CACHE_SIZE:
        _KEY_CACHE.popitem(last=False)
    return soft, hard


def _strings_per_key(pitch: int, timbre: Timbre) -> int:
    if timbre.strings is not None:
        return timbre.strings
    return 1 if pitch <= 28 else 2 if pitch <= 47 else 3  # single, bichord, trichord


def _synthesise_key(timbre: Timbre, pitch: int, sample_rate: int, seed: int, seconds: float):
    """The soft and hard waves of one key, float32, each scaled to RMS ``LEVEL`` at the start.

    Returns (soft, hard, complete) where ``complete`` says the waves reach the key's natural end.
    """
    rng = np.random.default_rng([seed, pitch, zlib.crc32(timbre.name.encode()), 11])
    f0 = midi_to_hz(pitch)
    frequencies = partial_frequencies(pitch, timbre, sample_rate)
    ratios = frequencies / f0
    count = len(frequencies)
    # Per-key draws are made in a fixed order and amount, whatever the length.
    level_jitter = 10.0 ** (rng.normal(0.0, 1.0, size=count) / 20)  # ±1 dB between partials
    strings = _strings_per_key(pitch, timbre)
    cents = np.concatenate([[0.0], rng.uniform(-1.0, 1.0, size=strings - 1)]) * timbre.unison_cents
    detune = 2.0 ** (cents / 1200)

    notch = np.ones(count)
    if timbre.strike_position > 0:
        notch = np.abs(np.sin(np.pi * np.round(ratios) * timbre.strike_position)) + 0.02
    soft_amp = notch * ratios**-timbre.soft_tilt * level_jitter
    hard_amp = notch * ratios**-timbre.hard_tilt * level_jitter
    relative = np.maximum(soft_amp / soft_amp.max(), hard_amp / hard_amp.max())

    if timbre.sustained:
        rates = np.zeros(count)
    else:
        t60 = timbre.decay * 20.0 * (f0 / 27.5) ** -0.5
        rates = math.log(1000.0) / t60 * ratios**timbre.decay_tilt  # 1/s, aftersound
    # Each partial is computed only until it is _FLOOR below the key's strongest partial.
    limit = round(seconds * sample_rate)
    with np.errstate(divide="ignore"):
        active = np.log(np.maximum(relative * timbre.aftersound, _FLOOR) / _FLOOR) / rates
    lengths = np.minimum(np.ceil(np.nan_to_num(active, posinf=1e9) * sample_rate), 1e12)
    natural = int(max(lengths.max(initial=1), 1))
    total = min(limit, natural)
    complete = natural <= limit

    soft = np.zeros(total)
    hard = np.zeros(total)
    t_all = np.arange(total) / sample_rate
    for n in range(count):
        length = int(min(lengths[n], total))
        if length <= 0:
            continue
        t = t_all[:length]
        tone = np.zeros(length)
        for factor in detune:
            tone += np.sin(2.0 * np.pi * frequencies[n] * factor * t)
        if not timbre.sustained:
            w = timbre.aftersound
            tone *= (1.0 - w) * np.exp(-rates[n] * timbre.prompt_speed * t) + w * np.exp(
                -rates[n] * t
            )
        tone /= strings
        soft[:length] += soft_amp[n] * tone
        hard[:length] += hard_amp[n] * tone

    attack = max(1, round(timbre.attack_seconds * sample_rate))
    ramp = 0.5 * (1.0 - np.cos(np.pi * np.arange(min(attack, total)) / attack))
    window = max(1, min(total, round(0.3 * sample_rate)))
    waves = []
    for wave in (soft, hard):
        wave[: len(ramp)] *= ramp
        rms = float(np.sqrt(np.mean(wave[:window] ** 2)))
        waves.append((wave * (LEVEL / rms if rms > 0 else 0.0)).astype(np.float32))
    return waves[0], waves[1], complete


def clear_cache() -> None:
    """Forget the cached key waves (they are rebuilt on demand; results do not change)."""
    _KEY_CACHE.clear()


def _normalise(wave: np.ndarray, peak: float | None) -> np.ndarray:
    largest = float(np.abs(wave).max()) if wave.size else 0.0
    if largest == 0:
        return wave
    if peak is not None:
        return wave * np.float32(peak / largest)
    return wave * np.float32(0.99 / largest) if largest > 0.99 else wave


# ------------------------------------------------------------------ MIDI files and FluidSynth


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
    if shutil.which("fluidsynth") is None:
        return None
    result = subprocess.run(["fluidsynth", "--version"], capture_output=True, text=True)
    match = re.search(r"version\s+([\d.]+)", result.stdout)
    return match.group(1) if match else None


def resolve_renderer(renderer: str = "auto", soundfont: str | Path | None = None) -> str:
    """``"fluidsynth"`` or ``"synth"``: auto picks FluidSynth when it and a soundfont exist."""
    if renderer not in RENDERERS:
        raise ValueError(f"unknown renderer {renderer!r}; choose from {', '.join(RENDERERS)}")
    if soundfont is not None and renderer != "synth":
        find_soundfont(soundfont)  # a soundfont asked for by name must exist
    if renderer == "auto":
        return "fluidsynth" if renderer_available(soundfont) else "synth"
    if renderer == "fluidsynth" and not renderer_available(soundfont):
        raise AudioError(
            "renderer 'fluidsynth' needs the fluidsynth program and a General MIDI soundfont "
            "(Debian: apt-get install fluidsynth fluid-soundfont-gm); or use renderer='synth'"
        )
    return renderer


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

    Same length and ``peak`` rules as ``render_notes`` (without ``seconds``, 2 s of tail).
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
            wave[total - count :] *= _fade(count)
    else:
        wave = np.pad(wave, (0, total - wave.shape[0]))
    return _normalise(wave, peak)[None]
