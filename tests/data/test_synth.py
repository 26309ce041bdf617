"""cadenza's additive piano synthesiser."""

import numpy as np
import pytest

from cadenza.data import synth
from cadenza.data.notes import Note, midi_to_hz
from cadenza.data.synth import render_notes
from cadenza.data.timbres import TIMBRES, inharmonicity

RATE = 22050


def spectrum(wave: np.ndarray, pad: int = 8):
    """Magnitude spectrum of a Hann-windowed wave, zero-padded for a fine frequency grid."""
    magnitude = np.abs(np.fft.rfft(wave * np.hanning(len(wave)), pad * len(wave)))
    return np.fft.rfftfreq(pad * len(wave), 1 / RATE), magnitude


def rms_db(wave: np.ndarray, start: float, stop: float) -> float:
    part = wave[round(start * RATE) : round(stop * RATE)]
    return 20 * np.log10(np.sqrt(np.mean(part.astype(np.float64) ** 2)) + 1e-12)


def centroid(wave: np.ndarray) -> float:
    frequencies, magnitude = spectrum(wave, pad=1)
    return float((frequencies * magnitude).sum() / magnitude.sum())


def test_render_is_deterministic_and_shaped():
    notes = [Note(60, 90, 0.0, 0.5), (64, 70, 0.25, 0.5), (67, 110, 0.5, 0.8)]
    first = render_notes(notes, RATE, seed=3)
    synth.clear_cache()  # rebuilt key waves give the same samples
    second = render_notes(list(reversed(notes)), RATE, seed=3)
    assert first.dtype == np.float32 and first.shape[0] == 1
    assert first.tobytes() == second.tobytes()
    assert np.abs(first).max() == pytest.approx(0.9, abs=1e-6)  # normalised to a safe peak
    assert render_notes(notes, RATE, seed=4).tobytes() != first.tobytes()  # the seed matters
    assert render_notes(notes, RATE, seconds=2.0).shape == (1, 2 * RATE)


def test_held_note_sounds_at_its_inharmonic_partials():
    pitch = 60
    wave = render_notes([Note(pitch, 100, 0.0, 2.0)], RATE, seconds=2.0)[0, :RATE]
    frequencies, magnitude = spectrum(wave)
    f0 = midi_to_hz(pitch)
    stretched = f0 * np.sqrt(1 + inharmonicity(pitch))
    assert abs(frequencies[magnitude.argmax()] - stretched) < 0.5
    # The 10th partial is sharp by 10·f0·(sqrt(1 + 100·B) - 1), about 50 Hz at middle C.
    tenth = 10 * f0 * np.sqrt(1 + 100 * inharmonicity(pitch))
    band = (frequencies > 9.5 * f0) & (frequencies < 10.5 * f0)
    assert abs(frequencies[band][magnitude[band].argmax()] - tenth) < 2.0
    assert tenth - 10 * f0 > 40


def test_note_decays_while_held_and_dies_after_release():
    wave = render_notes([Note(55, 90, 0.0, 1.0)], RATE, seconds=2.0, peak=None)[0]
    start, held_end = rms_db(wave, 0.0, 0.05), rms_db(wave, 0.9, 0.95)
    assert held_end < start - 6  # piano tone decays while the key is held
    assert rms_db(wave, 1.5, 2.0) < held_end - 50  # dampers stop it within a few tenths
    # No click at the release: the step between neighbouring samples stays small.
    around = wave[round(0.99 * RATE) : round(1.05 * RATE)]
    assert np.abs(np.diff(around)).max() < 0.5 * np.abs(around).max()


def test_velocity_raises_loudness_and_brightness():
    for pitch in (45, 60, 76):
        waves = [
            render_notes([Note(pitch, v, 0.0, 0.5)], RATE, seconds=0.5, peak=None)[0]
            for v in (20, 60, 100, 127)
        ]
        centroids = [centroid(w) for w in waves]
        levels = [rms_db(w, 0.0, 0.5) for w in waves]
        assert centroids == sorted(centroids) and centroids[-1] > 1.3 * centroids[0]
        assert levels == sorted(levels)


@pytest.mark.parametrize("timbre", sorted(TIMBRES))
def test_every_timbre_renders_finite_sound(timbre):
    wave = render_notes([Note(57, 100, 0.0, 0.3)], RATE, seconds=0.6, timbre=timbre, peak=None)
    assert wave.shape == (1, round(0.6 * RATE)) and np.isfinite(wave).all()
    assert 1e-3 < np.abs(wave).max() <= 0.99
