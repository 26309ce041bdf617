"""The band above a model's, continued from the audio around what it made (cadenza.band)."""

import numpy as np
import pytest

from cadenza import band

RATE = 16000
EDGE = 4000.0  # an 8 kHz model's band


def tilted_noise(seconds: float, seed: int = 0, channels: int = 1) -> np.ndarray:
    """Noise falling 6 dB an octave, like much music's spectrum."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal((channels, round(seconds * RATE))))
    frequencies = np.fft.rfftfreq(round(seconds * RATE), 1 / RATE)
    return np.fft.irfft(spectrum / np.maximum(frequencies, 50) * 100, n=round(seconds * RATE))


def below(wave: np.ndarray, hz: float) -> np.ndarray:
    spectrum = np.fft.rfft(wave)
    spectrum[..., np.fft.rfftfreq(wave.shape[-1], 1 / RATE) >= hz] = 0
    return np.fft.irfft(spectrum, n=wave.shape[-1])


def level_db(wave: np.ndarray, low: float, high: float) -> float:
    power = np.abs(np.fft.rfft(wave)) ** 2 / wave.shape[-1]  # per sample: lengths may differ
    frequencies = np.fft.rfftfreq(wave.shape[-1], 1 / RATE)
    return float(10 * np.log10(power[..., (frequencies >= low) & (frequencies < high)].mean()))


def test_the_filled_band_takes_the_known_audios_level_and_leaves_the_made_band_alone():
    known, made = tilted_noise(3.0, seed=1), below(tilted_noise(2.0, seed=2), 0.95 * EDGE)
    gain = band.envelope_gain(known, RATE, EDGE)
    filled = band.fill(made, RATE, EDGE, gain)
    middle = slice(band.N_FFT, -band.N_FFT)  # the band fades in and out over a frame
    assert abs(level_db(filled[:, middle], 4200, 7800)
               - level_db(known, 4200, 7800)) < 1.5
    assert level_db(filled, 100, 3700) < level_db(made, 100, 3700) - 60  # nothing below


def test_known_audio_without_the_band_fills_nothing():
    known, made = below(tilted_noise(3.0, seed=1), 3000), below(tilted_noise(2.0, seed=2), 3800)
    filled = band.fill(made, RATE, EDGE, band.envelope_gain(known, RATE, EDGE))
    assert level_db(filled, 3800, 8000) < level_db(made, 1900, 3800) - 60


def test_gains_are_limited_where_the_known_copied_octave_is_nearly_silent():
    known = tilted_noise(3.0) - below(tilted_noise(3.0), 3800)  # the band alone
    assert band.envelope_gain(known, RATE, EDGE).max() == band.MAX_GAIN


def test_too_little_known_audio_gives_no_gain():
    assert band.envelope_gain(np.zeros((1, band.N_FFT - 1)), RATE, EDGE) is None


@pytest.mark.parametrize("piece", [1, 777, 5000])
def test_a_stream_gets_the_band_the_whole_gets_however_it_is_cut(piece):
    made = below(tilted_noise(1.7, seed=3, channels=2), 3800)
    start = band.envelope_gain(tilted_noise(3.0, seed=4, channels=2), RATE, EDGE)
    end = start / 3
    whole = band.fill(made, RATE, EDGE, start, end)
    filler = band.Filler(RATE, EDGE, start, end, made.shape[-1])
    streamed = np.concatenate([filler.push(made[:, i: i + piece])
                               for i in range(0, made.shape[-1], piece)] + [filler.close()],
                              axis=-1)
    assert streamed.shape == made.shape
    np.testing.assert_allclose(streamed, whole, atol=1e-12)


def test_a_gap_moves_from_the_envelope_before_it_to_the_envelope_after_it():
    made = below(tilted_noise(4.0, seed=5), 3800)
    loud = band.envelope_gain(tilted_noise(3.0, seed=6), RATE, EDGE)
    filled = band.fill(made, RATE, EDGE, loud, loud / 10)  # 20 dB down by the end
    quarter = made.shape[-1] // 4
    first, last = filled[:, band.N_FFT: quarter], filled[:, -quarter: -band.N_FFT]
    assert 12 < level_db(first, 4200, 7800) - level_db(last, 4200, 7800) < 20


def test_a_moving_gain_needs_the_streams_length():
    gain = np.ones((1, 10))
    with pytest.raises(ValueError, match="length"):
        band.Filler(RATE, EDGE, gain, gain)
