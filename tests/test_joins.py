"""Joining new audio to known audio: the extension's level glide back to its prompt's."""

import math

import pytest
import torch

from cadenza.joins import GLIDE_DB_PER_SECOND, glide
from cadenza.loudness import PEAK_CEILING_DB, integrated_loudness

RATE = 16000


def noise(seconds: float, rms: float, seed: int = 0) -> torch.Tensor:
    """Steady noise, (1 clip, 1 channel, samples)."""
    generator = torch.Generator().manual_seed(seed)
    return rms * torch.randn(1, 1, round(seconds * RATE), generator=generator)


def test_glide_starts_at_unity_and_moves_towards_the_target_no_faster_than_its_rate():
    recent, new = noise(3.0, 0.01), noise(1.0, 0.01, seed=1)
    level = integrated_loudness(recent[0].numpy(), RATE)
    out, ends = glide(new, recent, [level + 10.0], RATE)
    assert ends == [pytest.approx(GLIDE_DB_PER_SECOND * 1.0, abs=1e-3)]
    assert out[..., 0] == new[..., 0]  # no step where the new audio begins
    gain_db = 20 * math.log10(float(out[..., -1] / new[..., -1]))
    assert gain_db == pytest.approx(ends[0], abs=1e-3)
    _, ends = glide(new, recent, [level - 0.2], RATE)  # a small gap is closed, not overshot
    assert ends == [pytest.approx(-0.2, abs=0.01)]


def test_glide_never_raises_audio_past_the_peak_ceiling():
    recent, new = noise(3.0, 0.3), noise(1.0, 0.01, seed=1)
    new[..., 100] = 0.88  # one peak near the ceiling (0.891)
    out, ends = glide(new, recent, [integrated_loudness(recent[0].numpy(), RATE) + 20], RATE)
    assert 20 * math.log10(float(out.abs().max())) <= PEAK_CEILING_DB + 1e-6
    assert 0 <= ends[0] < GLIDE_DB_PER_SECOND


def test_glide_leaves_audio_alone_when_there_is_nothing_to_measure():
    new = noise(1.0, 0.1)
    out, ends = glide(new, torch.zeros(1, 1, 3 * RATE), [-20.0], RATE)
    assert ends == [0.0] and torch.equal(out, new)
    out, ends = glide(new, noise(3.0, 0.1), [-math.inf], RATE)
    assert ends == [0.0] and torch.equal(out, new)
