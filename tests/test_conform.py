"""Made audio in the user's format: the band above the model's continued from the user's audio
around it (cadenza.conform with cadenza.band), known samples untouched."""

import numpy as np
import pytest
import torch

from cadenza import conform
from cadenza.data import audio

RATE, MODEL_RATE = 44100, 16000
USER = conform.Format(RATE, 2)


def tilted_noise(seconds: float, rate: int, seed: int) -> np.ndarray:
    """Stereo noise falling 6 dB an octave, reaching the top of ``rate``'s band (the right
    channel the left one 2 dB down, so the mono the model makes has the channels' spectrum)."""
    samples = round(seconds * rate)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(samples)) * [[1], [0.8]]
    frequencies = np.fft.rfftfreq(samples, 1 / rate)
    wave = np.fft.irfft(spectrum / np.maximum(frequencies, 50), n=samples)
    return (0.1 * wave / wave.std()).astype(np.float32)


def level_db(wave: np.ndarray, low: float, high: float) -> float:
    windowed = wave * np.hanning(wave.shape[-1])  # a cut's edges would leak into the band
    power = np.abs(np.fft.rfft(windowed)) ** 2 / wave.shape[-1]
    frequencies = np.fft.rfftfreq(wave.shape[-1], 1 / RATE)
    return float(10 * np.log10(power[..., (frequencies >= low) & (frequencies < high)].mean()))


@pytest.mark.parametrize("band_fill", [True, False])
def test_a_gap_gets_the_band_of_the_audio_around_it_and_known_samples_stay(band_fill):
    base = tilted_noise(3.0, RATE, seed=0)
    # A model that makes the right music at its rate: the user's audio, band-limited.
    made = torch.from_numpy(audio.resample(base, RATE, MODEL_RATE).mean(axis=0, keepdims=True))
    out, done = conform.to_user(made, MODEL_RATE, base, USER, [(1.0, 2.0)], band_fill)
    first, last = RATE, 2 * RATE
    assert np.array_equal(out[:, :first], base[:, :first])
    assert np.array_equal(out[:, last:], base[:, last:])
    gap, around = out[:, first + 2048: last - 2048], base[:, first + 2048: last - 2048]
    difference = level_db(gap, 9000, 20000) - level_db(around, 9000, 20000)
    if band_fill:
        assert abs(difference) < 2.0
        assert done["band_filled_hz"] == [0.95 * MODEL_RATE / 2, RATE / 2]
    else:
        assert difference < -40
        assert done["band_filled_hz"] is None
    assert done["clipped_samples"] == 0


def test_no_band_is_filled_where_the_model_reaches_the_users_rate():
    base = tilted_noise(2.0, MODEL_RATE, seed=1)
    made = torch.from_numpy(base.mean(axis=0, keepdims=True))
    user = conform.Format(MODEL_RATE, 2)
    _, done = conform.to_user(made, MODEL_RATE, base, user, [(0.5, 1.0)])
    assert done["band_filled_hz"] is None


@pytest.mark.parametrize("band_fill", [True, False])
def test_an_extension_streams_the_band_of_its_prompt(band_fill):
    prompt = tilted_noise(2.0, RATE, seed=2)
    more = tilted_noise(3.0, RATE, seed=3)[:, : RATE]  # what comes after, made at the model's rate
    made = audio.resample(np.concatenate([prompt, more], axis=-1), RATE, MODEL_RATE)
    chunks = [torch.from_numpy(made[None, :, i: i + 5000]) for i in range(0, made.shape[-1], 5000)]
    pieces = list(conform.stream_to_user(iter(chunks), MODEL_RATE, prompt, USER, RATE, band_fill))
    out = np.concatenate(pieces, axis=-1)
    assert out.shape == (2, 3 * RATE)
    assert np.array_equal(out[:, : 2 * RATE], prompt)
    new = out[:, 2 * RATE + 2048: -2048]
    difference = level_db(new, 9000, 20000) - level_db(prompt, 9000, 20000)
    assert abs(difference) < 2.0 if band_fill else difference < -40


def test_audio_made_whole_gets_the_band_of_the_audio_it_restyles():
    """A transfer makes all of its output: the band follows the envelope of the input."""
    base = tilted_noise(2.0, RATE, seed=4)
    made = torch.from_numpy(audio.resample(base, RATE, MODEL_RATE).mean(axis=0, keepdims=True))
    out, done = conform.to_user(made, MODEL_RATE, base, USER, [(0.0, 2.0)])
    middle = slice(2048, -2048)
    difference = level_db(out[:, middle], 9000, 20000) - level_db(base[:, middle], 9000, 20000)
    assert abs(difference) < 2.0
    assert done["band_filled_hz"] is not None
