import numpy as np

from cadenza.metrics.ks import frame_features, ks, ks_features, ks_history, ks_samples

RATE = 16000


def sines(count: int, seed: int, seconds: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    frequencies = rng.uniform(200, 600, (count, 1))
    return 0.3 * np.sin(2 * np.pi * frequencies * t + rng.uniform(0, 2 * np.pi, (count, 1)))


def test_identical_sets_have_d_zero():
    clips = sines(4, seed=0)
    assert ks_samples(clips, clips, max_values=10**6).statistic == 0.0  # all values: exactly 0
    assert ks_samples(clips, clips, max_values=5000).statistic == 0.0  # same positions drawn
    features = ks_features(clips, clips, RATE, pitch_method="yin")
    assert set(features) == {"rms", "centroid", "f0"}
    assert all(result.statistic == 0.0 for result in features.values())


def test_different_sets_have_larger_d():
    clips = sines(4, seed=0)
    noise = np.random.default_rng(1).standard_normal(clips.shape)
    # Loudness-normalised, a sine's values follow the arcsine law and noise a Gaussian.
    assert ks_samples(noise, clips).statistic > 0.1
    features = ks_features(sines(4, seed=2) * 0.1, clips, RATE, features=("rms", "centroid"))
    assert features["rms"].statistic > 0.9  # 20 dB quieter: disjoint RMS values
    assert features["centroid"].statistic > 0.2  # other frequencies


def test_f0_is_compared_only_where_voiced():
    clips = sines(2, seed=0)
    silent = np.zeros_like(clips)
    values = frame_features(silent, RATE, pitch_method="yin", features=("f0",))
    assert values["f0"].size == 0
    result = ks(values["f0"], frame_features(clips, RATE, pitch_method="yin")["f0"])
    assert np.isnan(result.statistic)  # nothing voiced to compare


def test_history_d_falls_as_denoising_proceeds():
    clips = sines(4, seed=0)
    noise = np.random.default_rng(3).standard_normal(clips.shape)
    sigmas = [1.0, 0.1, 0.01, 0.0]  # noise levels of the steps, last one clean
    history = [clips + sigma * noise for sigma in sigmas]
    d = ks_history(history, clips)
    assert d.shape == (4,)
    assert np.all(np.diff(d) < 0) and d[-1] == 0.0
