import numpy as np

from cadenza.metrics.arrays import sliding_windows
from cadenza.metrics.copies import detect_copies
from cadenza.metrics.embedders import embedder

RATE = 16000


def music(rng: np.random.Generator, seconds: float = 2.0) -> np.ndarray:
    """Synthetic "music": a random chord every 0.25 or 0.5 s, each note a decaying tone."""
    out = np.zeros(round(seconds * RATE))
    step = rng.choice([0.25, 0.5])
    for start in np.arange(0, seconds, step):
        first = round(start * RATE)
        t = np.arange(min(round((step + 0.1) * RATE), out.size - first)) / RATE  # since onset
        chord = np.zeros_like(t)
        for midi in rng.integers(48, 84, size=3):
            frequency = 440 * 2 ** ((midi - 69) / 12)
            for h in range(1, 5):
                chord += np.sin(2 * np.pi * frequency * h * t + rng.uniform(0, 2 * np.pi)) / h**1.5
        out[first:first + t.size] += chord * np.exp(-t * rng.uniform(2, 8))
    return 0.5 * out / np.abs(out).max()


def disguised_copy(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The clip at another gain, up to 50 ms late, with white noise at 30 dB SNR."""
    shift = rng.integers(1, round(0.05 * RATE))
    moved = np.concatenate([np.zeros(shift), clip[:-shift]]) * rng.uniform(0.3, 2.0)
    return moved + rng.standard_normal(clip.size) * moved.std() * 10 ** (-30 / 20)


def test_sliding_windows_cover_the_whole_clip():
    clips = np.arange(20.0).reshape(2, 10)
    windows = sliding_windows(clips, window=4, hop=4)
    assert windows.shape == (2, 3, 4)  # starts 0 and 4, then one ending at the clip's end
    assert windows[0, -1].tolist() == [6.0, 7.0, 8.0, 9.0]
    assert sliding_windows(clips, window=50, hop=10).shape == (2, 1, 10)


def test_detects_planted_copies():
    rng = np.random.default_rng(0)
    train = np.stack([music(rng) for _ in range(40)])
    sources = rng.choice(len(train), 20, replace=False)
    copies = np.stack([disguised_copy(train[i], rng) for i in sources])
    fresh = np.stack([music(rng) for _ in range(40)])

    # top_db=40: hiss far below the music is not evidence either way.
    mel_stats = embedder("mel_stats", sample_rate=RATE, n_fft=1024, hop_length=256, top_db=40)
    report = detect_copies(np.concatenate([copies, fresh]), train, mel_stats,
                           window_seconds=1.0, hop_seconds=0.5)
    copy_scores, fresh_scores = report.generated_nn[:20], report.generated_nn[20:]
    threshold = np.percentile(fresh_scores, 95)  # 5% false positives among non-copies
    assert np.mean(copy_scores > threshold) >= 0.95
    assert np.mean(report.top_indices[:20, 0] == sources) >= 0.95  # and the right source
    assert report.top_similarity.shape == (60, 5)
    # The copies are the pairs to listen to, strongest first, each with its source.
    listen = report.pairs[0.95]
    assert sorted((g, t) for g, t, _ in listen) == [(g, sources[g]) for g in range(20)]
    assert [s for _, _, s in listen] == sorted((s for _, _, s in listen), reverse=True)
    # Their tail lies above the training set's own nearest-neighbour tail.
    assert report.gap > 0.1
    assert report.summary()["pairs_above_0.95"] == len(report.pairs[0.95])


def test_fresh_material_shows_no_gap():
    rng = np.random.default_rng(1)
    train = np.stack([music(rng) for _ in range(30)])
    fresh = np.stack([music(rng) for _ in range(30)])
    mel_stats = embedder("mel_stats", sample_rate=RATE, n_fft=1024, hop_length=256, top_db=40)
    report = detect_copies(fresh, train, mel_stats, window_seconds=1.0, hop_seconds=0.5)
    assert report.gap < 0.1
    assert report.pairs[0.95] == []
