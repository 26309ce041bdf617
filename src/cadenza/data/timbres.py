"""Timbres: what each of the synthesiser's instruments sounds like, and where its partials lie.

A timbre is a handful of physical numbers (inharmonicity, spectral tilt by velocity, striking
point, decay, dampers, strings per key); ``synth`` turns them into sound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cadenza.data.notes import midi_to_hz


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
