import numpy as np
import pytest

from cadenza.metrics.c2st import FINE_N_MELS, N_MELS, c2st, level

RATE = 8000


def tones(count: int, seed: int, seconds: float = 2.0) -> np.ndarray:
    """Random two-note chords with decaying envelopes: a stand-in for piano clips."""
    rng = np.random.default_rng(seed)
    time = np.arange(int(seconds * RATE)) / RATE
    clips = []
    for _ in range(count):
        pitches = 220 * 2 ** (rng.integers(0, 24, size=2) / 12)
        onset = rng.uniform(0, 0.5)
        envelope = np.where(time > onset, np.exp(-3 * (time - onset)), 0)
        clips.append(envelope * np.sin(2 * np.pi * pitches[:, None] * time).sum(axis=0))
    return 0.1 * np.stack(clips).astype(np.float32)


@pytest.mark.parametrize("n_mels", [N_MELS, FINE_N_MELS])
def test_the_same_kind_of_audio_is_not_told_apart(n_mels):
    result = c2st(tones(24, seed=0), tones(24, seed=1), RATE, steps=100, n_mels=n_mels)
    assert result.clips == 48
    assert result.ci_low <= 0.5 <= result.ci_high
    assert result.ci_low <= result.accuracy <= result.ci_high


@pytest.mark.parametrize("n_mels", [N_MELS, FINE_N_MELS])
def test_noise_is_told_apart_from_tones(n_mels):
    noise = 0.05 * np.random.default_rng(2).standard_normal((24, 2 * RATE)).astype(np.float32)
    result = c2st(tones(24, seed=0), noise, RATE, steps=100, n_mels=n_mels)
    assert result.accuracy > 0.9 and result.ci_low > 0.5
    assert result.log_loss_bits < 0.5


def test_levelled_ignores_loudness_and_absolute_does_not():
    real, quiet = tones(24, seed=0), 0.05 * tones(24, seed=1)
    assert c2st(real, quiet, RATE, steps=100).ci_low <= 0.5
    assert c2st(real, quiet, RATE, steps=100, levelled=False).accuracy > 0.9
    assert np.allclose(np.sqrt(np.mean(level(quiet) ** 2, axis=-1)), 0.1, rtol=1e-4)


def test_too_few_clips_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 4 clips"):
        c2st(tones(3, seed=0), tones(10, seed=1), RATE)

