import numpy as np
import pytest

from cadenza.metrics.pitch import pitch_track, pyin, yin

RATE = 22050


def tone_then_silence(frequency: float, seconds: float = 1.0, silence: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * frequency * h * t) / h for h in (1, 2, 3))
    return np.concatenate([0.3 * tone, np.zeros(round(silence * RATE))])


def test_yin_tracks_a_tone_with_times_in_seconds():
    times, f0 = yin(tone_then_silence(440.0), RATE, hop_length=512)
    assert times[1] - times[0] == pytest.approx(512 / RATE)
    assert np.median(f0[times < 0.9]) == pytest.approx(440.0, rel=0.01)


@pytest.mark.parametrize("method", ["yin", "pyin"])
def test_pitch_track_is_voiced_on_the_tone_and_unvoiced_in_silence(method):
    track = pitch_track(tone_then_silence(220.0), RATE, method, fmin=100.0, fmax=800.0)
    tone, silence = (track.times > 0.1) & (track.times < 0.9), track.times > 1.1
    assert track.voiced[tone].mean() > 0.9 and not track.voiced[silence].any()
    assert np.nanmedian(track.f0[tone]) == pytest.approx(220.0, rel=0.01)
    assert np.isnan(track.f0[silence]).all()


def test_pyin_gives_voicing_probabilities():
    times, f0, voiced, probability = pyin(tone_then_silence(330.0, 0.5, 0.2), RATE,
                                          fmin=100.0, fmax=800.0)
    assert times.shape == f0.shape == voiced.shape == probability.shape
    assert probability[voiced].min() > probability[~voiced].max()


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="pyin, yin"):
        pitch_track(np.zeros(4096), RATE, "crepe")
