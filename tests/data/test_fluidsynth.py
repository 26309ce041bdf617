"""MIDI files and FluidSynth (the rendering test is skipped where FluidSynth is not installed)."""

import numpy as np
import pytest

from cadenza.data import fluidsynth
from cadenza.data.notes import Note, midi_to_hz

RATE = 22050


def spectrum(wave: np.ndarray, pad: int = 8):
    """Magnitude spectrum of a Hann-windowed wave, zero-padded for a fine frequency grid."""
    magnitude = np.abs(np.fft.rfft(wave * np.hanning(len(wave)), pad * len(wave)))
    return np.fft.rfftfreq(pad * len(wave), 1 / RATE), magnitude


def test_write_midi_is_a_standard_midi_file(tmp_path):
    path = fluidsynth.write_midi([(60, 100, 0.0, 0.5), (64, 80, 0.5, 0.5)], tmp_path / "a.mid")
    data = path.read_bytes()
    assert data[:4] == b"MThd" and b"MTrk" in data and data.endswith(b"\xff\x2f\x00")


@pytest.mark.skipif(not fluidsynth.renderer_available(), reason="fluidsynth or soundfont missing")
def test_fluidsynth_renders_notes_deterministically():
    notes = [Note(60, 100, 0.1, 0.5), Note(67, 80, 0.3, 0.5)]
    first = fluidsynth.render_notes_fluidsynth(notes, RATE, seconds=1.5)
    second = fluidsynth.render_notes_fluidsynth(notes, RATE, seconds=1.5)
    assert first.shape == (1, round(1.5 * RATE)) and first.dtype == np.float32
    assert first.tobytes() == second.tobytes()
    assert np.abs(first[0, : round(0.09 * RATE)]).max() < 1e-4  # silent before the onset
    frequencies, magnitude = spectrum(first[0, round(0.1 * RATE) : round(0.3 * RATE)])
    assert abs(frequencies[magnitude.argmax()] - midi_to_hz(60)) < 3.0
