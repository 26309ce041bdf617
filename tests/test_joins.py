"""Joining new audio to known audio: a gap's level between its two sides, and the extension's
level glide back to its prompt's."""

import math

import pytest
import torch

from cadenza.joins import GLIDE_DB_PER_SECOND, SEAM_SECONDS, glide, match_context
from cadenza.loudness import PEAK_CEILING_DB, integrated_loudness, true_peak_db

RATE = 16000


def noise(seconds: float, rms: float, seed: int = 0) -> torch.Tensor:
    """Steady noise, (1 clip, 1 channel, samples)."""
    generator = torch.Generator().manual_seed(seed)
    return rms * torch.randn(1, 1, round(seconds * RATE), generator=generator)


def test_glide_starts_at_unity_and_moves_from_the_last_level_no_faster_than_its_rate():
    new = noise(1.0, 0.01, seed=1)
    level = integrated_loudness(new[0].numpy(), RATE)
    out, gains, levels, cuts = glide(new, [level], [level + 10.0], RATE)
    assert gains == [pytest.approx(GLIDE_DB_PER_SECOND * 1.0, abs=1e-3)]
    assert out[..., 0] == pytest.approx(float(new[..., 0]))  # no step where it begins
    gain_db = 20 * math.log10(float(out[..., -1] / new[..., -1]))
    assert gain_db == pytest.approx(gains[0], abs=1e-3)
    assert levels == [pytest.approx(level + GLIDE_DB_PER_SECOND, abs=1e-3)] and cuts == [0.0]
    _, gains, levels, _ = glide(new, [level], [level - 0.2], RATE)  # a small gap is closed
    assert gains == [pytest.approx(-0.2, abs=0.01)] and levels[0] == pytest.approx(level - 0.2)


def test_a_chain_of_glides_reaches_its_target_at_the_full_rate():
    """Each stretch is planned from the last one, so ten half-second stretches climb 5 dB."""
    previous, target = [-30.0], [-20.0]
    for seed in range(10):
        stretch = noise(0.5, 0.01 * (1 + seed % 3), seed=seed)  # arrives at any level
        out, _, previous, _ = glide(stretch, previous, target, RATE)
        assert integrated_loudness(out[0].numpy(), RATE) == pytest.approx(previous[0], abs=0.3)
    assert previous[0] == pytest.approx(-30.0 + 10 * 0.5 * GLIDE_DB_PER_SECOND, abs=1e-6)


def test_glide_limits_a_peak_it_would_lift_past_the_ceiling_and_keeps_its_gain():
    new = noise(1.0, 0.01, seed=1)
    new[..., -100] = 0.88  # one peak near the ceiling (0.891), where the full gain applies
    level = integrated_loudness(new[0].numpy(), RATE)
    out, gains, _, cuts = glide(new, [level], [level + 20], RATE)
    assert 20 * math.log10(float(out.abs().max())) <= PEAK_CEILING_DB + 1e-6
    assert gains[0] >= GLIDE_DB_PER_SECOND  # one peak does not hold the rest down
    assert cuts[0] > 0
    body = slice(RATE // 2, RATE - 1000)  # past the rise, short of the peak
    assert level_of(out[..., body]) >= level_of(new[..., body]) + GLIDE_DB_PER_SECOND - 0.01


def test_glide_leaves_audio_alone_when_there_is_nothing_to_measure():
    new = noise(1.0, 0.1)
    out, gains, levels, _ = glide(torch.zeros(1, 1, RATE), [-20.0], [-20.0], RATE)
    assert gains == [0.0] and levels == [-20.0] and not out.any()
    out, gains, _, _ = glide(new, [-20.0], [-math.inf], RATE)
    assert gains == [0.0] and torch.equal(out, new)


def level_of(wave: torch.Tensor) -> float:
    return integrated_loudness(wave[0].numpy(), RATE)


def level(wave: torch.Tensor) -> float:
    return integrated_loudness(wave.numpy(), RATE)


def rms_db(wave: torch.Tensor) -> float:
    return 10 * math.log10(float(wave.double().pow(2).mean()))


def test_a_gap_starts_at_the_level_before_it_and_ends_at_the_level_after_it():
    """Between a loud passage and a quiet one, each seam meets its own side's level: one gain
    for the whole gap would leave a step at both seams."""
    canvas = torch.cat([noise(3.0, 0.1), noise(2.0, 0.001, seed=1), noise(3.0, 0.01, seed=2)], -1)
    first, last = 3 * RATE, 5 * RATE
    decoded = canvas.clone()
    decoded[..., first:last] = noise(2.0, 0.03, seed=3)
    gains: list[dict] = []
    out = match_context(decoded, canvas, [(first, last)], RATE, gains)
    seam, tenth = round(SEAM_SECONDS * RATE), RATE // 10  # past the seams' own fades
    opening = out[..., first + seam: first + seam + tenth]
    closing = out[..., last - seam - tenth: last - seam]
    assert rms_db(opening) == pytest.approx(rms_db(canvas[..., :first]), abs=1.5)
    assert rms_db(closing) == pytest.approx(rms_db(canvas[..., last:]), abs=1.5)
    assert gains[0]["gain_db"] - gains[0]["end_gain_db"] == pytest.approx(20.0, abs=0.5)
    assert torch.equal(out[..., :first], canvas[..., :first])


def test_a_span_with_one_side_known_takes_that_sides_level():
    canvas = torch.cat([noise(3.0, 0.1), noise(1.0, 0.0, seed=1)], -1)
    decoded = canvas.clone()
    decoded[..., 3 * RATE:] = noise(1.0, 0.01, seed=3)
    gains: list[dict] = []
    out = match_context(decoded, canvas, [(3 * RATE, 4 * RATE)], RATE, gains)
    assert gains[0]["gain_db"] == gains[0]["end_gain_db"] == pytest.approx(20.0, abs=0.5)
    assert level(out[0, :, 3 * RATE:]) == pytest.approx(level(canvas[0, :, :3 * RATE]), abs=0.5)


def test_a_spiky_fill_reaches_its_contexts_loudness_with_its_peaks_limited():
    """Clicks in a quiet fill: lowering the whole fill's gain to keep them under the ceiling
    would leave it far under the audio around it; the limiter lowers the gain at the clicks."""
    canvas = torch.cat([noise(3.0, 0.1), noise(1.0, 0.0, seed=1), noise(3.0, 0.1, seed=2)], -1)
    fill = noise(1.0, 0.01, seed=3)
    fill[..., ::1600] = 0.5  # ten clicks, 34 dB over the fill's level
    decoded = canvas.clone()
    decoded[..., 3 * RATE: 4 * RATE] = fill
    gains: list[dict] = []
    out = match_context(decoded, canvas, [(3 * RATE, 4 * RATE)], RATE, gains)
    gap = out[..., 3 * RATE: 4 * RATE]
    assert level_of(gap) == pytest.approx(level_of(canvas[..., :3 * RATE]), abs=1.0)
    assert true_peak_db(gap[0].numpy(), RATE) <= PEAK_CEILING_DB + 1e-6
    assert gains[0]["peak_limited"] and gains[0]["limiter_db"] > 6


def test_new_audio_that_starts_at_the_known_level_is_not_lifted_into_a_burst():
    """A model that hears the known audio starts at its level, then settles quieter: one gain
    matched to the whole span would lift that start 12 dB over the audio before it. The gain
    at the seam is held where the start meets the known level, and the span still reaches
    the known audio's loudness."""
    canvas = torch.cat([noise(3.0, 0.1), noise(1.0, 0.0, seed=1)], -1)
    new = noise(1.0, 0.025, seed=3)
    new[..., : RATE // 10] = noise(0.1, 0.1, seed=4)  # the start, at the known level
    decoded = canvas.clone()
    decoded[..., 3 * RATE:] = new
    gains: list[dict] = []
    out = match_context(decoded, canvas, [(3 * RATE, 4 * RATE)], RATE, gains)
    start = out[..., 3 * RATE: 3 * RATE + RATE // 10]
    assert rms_db(start) == pytest.approx(rms_db(canvas[..., :3 * RATE]), abs=1.0)
    assert level(out[0, :, 3 * RATE:]) == pytest.approx(level(canvas[0, :, :3 * RATE]), abs=0.5)
    assert gains[0]["seam_gain_db"][0] == pytest.approx(0.0, abs=0.5)
    assert gains[0]["gain_db"] > 10  # the rest of the span is matched


def test_a_held_gain_follows_new_audio_that_settles_quickly_so_it_does_not_sag():
    """The start at the known level lasts a twentieth of a second, then the new audio is 12 dB
    quieter: a gain rising over the half second a hold takes to settle would leave the level
    several dB under the known audio's until it caught up."""
    canvas = torch.cat([noise(3.0, 0.1), noise(1.0, 0.0, seed=1)], -1)
    new = noise(1.0, 0.025, seed=3)
    new[..., : RATE // 20] = noise(0.05, 0.1, seed=4)
    decoded = canvas.clone()
    decoded[..., 3 * RATE:] = new
    out = match_context(decoded, canvas, [(3 * RATE, 4 * RATE)], RATE)
    known_db = rms_db(canvas[..., 2 * RATE: 3 * RATE])
    for start in (0.1, 0.2, 0.3, 0.4):  # 50 ms blocks while the gain settles
        block = out[..., 3 * RATE + round(start * RATE): 3 * RATE + round((start + 0.05) * RATE)]
        assert rms_db(block) == pytest.approx(known_db, abs=1.5)


def test_new_audio_quiet_from_its_first_sample_takes_the_spans_gain_at_the_seam():
    canvas = torch.cat([noise(3.0, 0.1), noise(1.0, 0.0, seed=1)], -1)
    decoded = canvas.clone()
    decoded[..., 3 * RATE:] = noise(1.0, 0.01, seed=3)
    gains: list[dict] = []
    match_context(decoded, canvas, [(3 * RATE, 4 * RATE)], RATE, gains)
    assert gains[0]["seam_gain_db"][0] == pytest.approx(gains[0]["gain_db"], abs=0.5)
    assert gains[0]["gain_db"] == pytest.approx(20.0, abs=0.5)


def test_a_crossfade_between_the_same_signal_keeps_its_level_and_between_two_keeps_power():
    """A waveform model continues the known audio sample for sample: an equal-power crossfade
    between the two would lift it by up to 3 dB; between unrelated signals it keeps the power."""
    from cadenza.joins import fade_in, paste

    signal = noise(0.1, 0.1)[0]
    gain = fade_in(signal.shape[-1], signal.shape[-1], signal)
    assert torch.allclose(paste(signal, signal, gain), signal, atol=1e-6)
    other = noise(0.1, 0.1, seed=9)[0]
    middle = slice(signal.shape[-1] // 4, 3 * signal.shape[-1] // 4)
    mixed = paste(signal, other, gain)
    assert rms_db(mixed[..., middle]) == pytest.approx(rms_db(signal[..., middle]), abs=0.6)
    assert torch.equal(paste(signal, other, torch.zeros_like(gain)), signal)
