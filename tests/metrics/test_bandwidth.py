import numpy as np
import pytest

from cadenza.data.audio import resample
from cadenza.metrics.bandwidth import bandwidth

RATE = 16000


def test_bandwidth_is_where_the_power_ends():
    noise = np.random.default_rng(0).standard_normal((4, RATE))
    assert bandwidth(noise, RATE) > 0.97 * RATE / 2  # white: power all the way up
    # Made at 8 kHz and brought to 16 kHz: nothing above 4 kHz.
    upsampled = resample(noise[:, : RATE // 2].astype(np.float32), RATE // 2, RATE)
    assert 3500 < bandwidth(upsampled, RATE) <= 4000
    t = np.arange(RATE) / RATE
    assert bandwidth(np.sin(2 * np.pi * 440 * t)[None], RATE) == pytest.approx(440, abs=10)
    assert bandwidth(np.zeros((2, RATE)), RATE) == 0.0
