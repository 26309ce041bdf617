"""Loudness (BS.1770 through pyloudnorm): one gain per clip to a target, and a true-peak
limiter for the peaks that gain would lift past the ceiling."""

import math

import numpy as np
import pytest

from cadenza.loudness import (
    LIMITER_SECONDS,
    PEAK_CEILING_DB,
    integrated_loudness,
    limit,
    match,
    median_loudness,
    true_peak_db,
)

RATE = 16000


def sine(amplitude: float, seconds: float = 2.0, hz: float = 997.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t))[None].astype(np.float32)


def test_a_full_scale_1khz_sine_reads_minus_3_lufs():
    """BS.1770's calibration: a 0 dBFS sine near 1 kHz in one channel is -3.01 LUFS."""
    assert integrated_loudness(sine(1.0), RATE) == pytest.approx(-3.01, abs=0.1)
    assert integrated_loudness(sine(0.1), RATE) == pytest.approx(-23.01, abs=0.1)


def test_true_peak_sees_between_the_samples():
    """A sine at a quarter of the rate sampled at +-45 degrees: samples 0.707, peak 1.0."""
    t = np.arange(RATE)
    wave = np.sin(2 * np.pi * t / 4 + np.pi / 4)[None]
    assert np.abs(wave).max() == pytest.approx(math.sqrt(0.5))
    assert true_peak_db(wave, RATE) == pytest.approx(0.0, abs=0.3)


def test_match_reaches_the_target_with_one_gain():
    quiet = sine(0.01)
    louder, record = match(quiet, RATE, -20.0)
    assert integrated_loudness(louder, RATE) == pytest.approx(-20.0, abs=0.01)
    gain = 10 ** (record["gain_db"] / 20)
    assert np.allclose(louder, quiet * gain, rtol=1e-3, atol=1e-7)  # one gain, nothing else
    assert record["gain_db"] == pytest.approx(-20.0 - record["loudness_before"], abs=1e-3)
    assert not record["peak_limited"] and record["true_peak_db"] < PEAK_CEILING_DB


def test_match_keeps_headroom_when_the_target_is_too_loud():
    louder, record = match(sine(0.5), RATE, 0.0)
    assert record["peak_limited"] and record["true_peak_db"] <= PEAK_CEILING_DB + 1e-6
    assert np.abs(louder).max() < 1.0


def test_the_limiter_leaves_audio_under_the_ceiling_as_it_is():
    quiet = sine(0.5)
    same, cut_db = limit(quiet, RATE)
    assert same is quiet and cut_db == 0.0


def test_the_limiter_lowers_the_gain_around_a_peak_and_nowhere_else():
    wave = sine(0.1, seconds=1.0)
    wave[0, RATE // 2] = 1.5  # a click over full scale
    limited, cut_db = limit(wave, RATE)
    assert true_peak_db(limited, RATE) <= PEAK_CEILING_DB + 1e-6
    assert cut_db > 20 * math.log10(1.5) - PEAK_CEILING_DB - 0.01
    reach = 2 * round(LIMITER_SECONDS * RATE) + 2  # the gain curve's half-width, both filters
    untouched = np.ones(RATE, dtype=bool)
    untouched[RATE // 2 - reach: RATE // 2 + reach] = False
    assert np.array_equal(limited[0, untouched], wave[0, untouched])


def test_a_spiky_clip_reaches_its_target_where_one_gain_could_not():
    """Noise with a few clicks: one gain that kept the clicks under the ceiling would leave
    the clip about 10 dB under its target; limiting the clicks gets there."""
    rng = np.random.default_rng(0)
    spiky = (0.01 * rng.standard_normal((1, 2 * RATE))).astype(np.float32)
    spiky[0, ::RATE // 4] = 0.5
    louder, record = match(spiky, RATE, -20.0)
    assert integrated_loudness(louder, RATE) == pytest.approx(-20.0, abs=0.5)
    assert true_peak_db(louder, RATE) <= PEAK_CEILING_DB + 1e-6 and record["limiter_db"] > 10


def test_silence_and_clips_shorter_than_a_gating_block_are_not_amplified():
    silent, record = match(np.zeros((1, RATE), np.float32), RATE, -20.0)
    assert not silent.any() and record["gain_db"] == 0.0
    short = sine(0.3, seconds=0.2)
    assert math.isnan(integrated_loudness(short, RATE))
    assert np.array_equal(match(short, RATE, -20.0)[0], short)


def test_median_loudness_of_recordings(tmp_path):
    import soundfile

    for index, amplitude in enumerate((0.01, 0.1, 1.0)):
        soundfile.write(tmp_path / f"{index}.wav", sine(amplitude)[0], RATE)
    assert median_loudness(sorted(tmp_path.iterdir()), RATE) == pytest.approx(-23.0, abs=0.1)
