"""cadenza's own additive piano synthesiser: note lists to audio.

The synthesiser needs nothing but numpy, so a piano corpus can always be built. A note sounds
as a sum of inharmonic string partials f_n = n·f0·sqrt(1 + B·n²), each with a two-stage decay
(the piano's prompt sound and aftersound), a hammer-noise onset, and damper release after the
key goes up. Velocity sets both loudness and brightness: every key is rendered once as a soft
and a hard spectrum, and a note mixes the two, so brightness rises with velocity at the cost of
two multiply-adds per sample. Those per-key waveforms are cached, which is what lets an hour
of music render in about half a minute on one core. What each instrument sounds like is a
``Timbre`` (``cadenza.data.timbres``).

Randomness is per key (string detuning, partial levels; like a real instrument, whose keys all
differ but repeat themselves) and per note (hammer noise), always drawn from a seed derived from
``seed`` and the key or note, so the same call gives the same samples.
"""

from __future__ import annotations

import math
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np

from cadenza.data import audio
from cadenza.data.notes import Note, as_note, midi_to_hz, note_order
from cadenza.data.timbres import Timbre, get_timbre, partial_frequencies

SYNTH_VERSION = 1  # bump when the synthesiser's sound changes, so resumed builds re-render
MAX_NOTE_SECONDS = 12.0  # a key sounds at most this long (then fades); A0 is 45 dB down by then
LEVEL = 0.1  # RMS of a velocity-127 note over its first 0.3 s, before any normalisation
_BUCKETS = (1.5, 3.0, 6.0, MAX_NOTE_SECONDS)  # cached key lengths, in seconds
_FLOOR = 1e-4  # a partial stops once it is 80 dB below the key's strongest partial
_END_FADE = 0.2  # seconds of fade where a note outlasts its key's sound (MAX_NOTE_SECONDS)


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
    notes = sorted(map(as_note, notes), key=note_order)
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
    still_sounding = False
    for note, (held, wanted), start, length in zip(notes, plans, starts, lengths, strict=True):
        if start >= total:
            continue
        soft, hard = keys[note.pitch]
        wave = _note_wave(note, timbre, soft, hard, held, length, wanted, sample_rate, seed)
        stop = min(start + length, total)
        out[start:stop] += wave[: stop - start]
        still_sounding |= start + length > total
    if still_sounding:  # notes still sounding at the requested end: no click there
        count = min(total, round(0.01 * sample_rate))
        out[total - count :] *= audio.fade_out(count)
    return audio.fit_peak(out, peak)[None]


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
        wave[length - count :] *= audio.fade_out(count)
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
