import numpy as np
import pytest

from cadenza.metrics.continuity import (
    continuity,
    estimate_key,
    join_dips,
    join_profiles,
    join_rises,
    mean_chroma,
    silences,
)

RATE = 22050
PROGRESSION = ((0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7))  # I IV V I, semitones


def piece(tonic: int, notes_per_second: float, level_db: float, seed: int,
          seconds: float = 4.0) -> np.ndarray:
    """A bass and a melody over I-IV-V-I in the major key ``tonic`` (0 = C), two notes a chord."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    for i, start in enumerate(np.arange(0, seconds, 1 / notes_per_second)):
        chord = PROGRESSION[(i // 2) % 4]
        since = t - start
        envelope = np.where(since >= 0, np.minimum(since / 0.005, 1) * np.exp(-3 * since), 0)
        for midi in (48 + tonic + chord[0], 60 + tonic + chord[rng.integers(0, 3)]):
            frequency = 440 * 2 ** ((midi - 69) / 12)
            out += envelope * sum(np.sin(2 * np.pi * h * frequency * t) / h**2 for h in (1, 2, 3))
    return out / np.sqrt(np.mean(out**2)) * 10 ** (level_db / 20)


def test_key_estimate_finds_the_tonic_of_a_cadence():
    assert estimate_key(mean_chroma(piece(0, 4, -20, seed=0), RATE))[0] == "C major"
    assert estimate_key(mean_chroma(piece(7, 4, -20, seed=0), RATE))[0] == "G major"


def test_a_real_continuation_scores_better_than_another_piece():
    # C major at 4 notes a second, against F# major at 2.5, 8 dB quieter. Both cut between
    # notes, so the seam is not an onset of either.
    same, other = piece(0, 4, -20, seed=1), piece(6, 2.5, -28, seed=2)
    seam = round(2.1 * RATE)
    prompt = same[:seam]
    real = continuity(prompt, same[seam:], RATE)
    fake = continuity(prompt, other[round(1.1 * RATE):][: same.size - seam], RATE)

    assert real["chroma_cosine"] > fake["chroma_cosine"] + 0.2
    assert real["key_agrees"] and real["key_prompt"] == "C major"
    assert not fake["key_agrees"]
    assert real["key_score"] == 1.0 and fake["key_score"] == 0.0  # F# major: no relation to C
    assert real["key_correlation"] > 0.5 > fake["key_correlation"]
    assert abs(np.log(real["onset_rate_ratio"])) < 0.2 < abs(np.log(fake["onset_rate_ratio"]))
    assert abs(real["loudness_jump_db"]) < 3 < abs(fake["loudness_jump_db"])
    assert real["seam_flux_ratio"] < 1.5 < 3 < fake["seam_flux_ratio"]


def test_join_dips_finds_a_window_that_fades_before_each_join():
    rate = 16000
    generator = np.random.default_rng(0)
    steady = 0.1 * generator.standard_normal(6 * rate)
    faded = steady.copy()
    for join in (2, 3, 4, 5):  # the last 100 ms before each join 30 dB down
        faded[join * rate - rate // 10: join * rate] *= 10 ** (-30 / 20)
    joins = [2.0, 3.0, 4.0, 5.0]
    clean = join_dips(steady[None], rate, joins, since=1.0)
    holes = join_dips(faded[None], rate, joins, since=1.0)
    assert clean["joins_dipping"] == 0 and abs(clean["join_dip_db"]) < 3
    assert holes["joins_dipping"] == 1 and holes["join_dip_db"] < -25
    assert np.isnan(join_dips(steady[None], rate, [], since=1.0)["joins_dipping"])


def test_silences_are_the_long_stretches_far_under_the_median_level():
    rate = 16000
    wave = 0.1 * np.random.default_rng(0).standard_normal(4 * rate)
    wave[rate: rate + rate // 4] = 0.0  # 250 ms of silence: found
    wave[2 * rate: 2 * rate + rate // 20] = 0.0  # 50 ms: too short to count
    wave[3 * rate: 3 * rate + rate // 5] *= 10 ** (-30 / 20)  # 200 ms 30 dB down: not silent
    [(start, end)] = silences(wave[None], rate)
    assert start == 1.0 and end == pytest.approx(1.25, abs=0.02)  # to the 20 ms block
    assert silences(np.zeros((1, 10)), rate) == []


def test_the_key_score_grades_near_keys_as_mirex_does():
    """A fifth away scores 0.5 (G major after C major), where exact agreement says only no."""
    c_major, g_major = piece(0, 4, -20, seed=0), piece(7, 4, -20, seed=0)
    near = continuity(c_major, g_major, RATE)
    assert not near["key_agrees"] and near["key_score"] == 0.5


JOINS = [1.0, 2.0, 3.0, 4.0, 5.0]


def windows(rate: int, change_db: float, after: float, seconds: float) -> tuple:
    """6 s of steady noise, and the same with every window's level changed by ``change_db``
    from ``after`` s past its join for ``seconds``."""
    steady = 0.05 * np.random.default_rng(0).standard_normal(6 * rate)
    changed = steady.copy()
    for join in JOINS:
        start = round((join + after) * rate)
        changed[start: start + round(seconds * rate)] *= 10 ** (change_db / 20)
    return steady, changed


def test_join_rises_finds_a_window_that_starts_with_a_burst():
    rate, joins = 8000, JOINS
    steady, burst = windows(rate, 10, 0.0, 0.05)  # 10 dB up over each window's first 50 ms
    assert np.median(join_rises(steady[None], rate, joins)) == pytest.approx(0, abs=1.5)
    assert np.median(join_rises(burst[None], rate, joins)) == pytest.approx(10, abs=1.5)
    assert join_rises(steady[None], rate, [0.1, 5.95]) == []  # too near the ends to measure


def test_join_profiles_find_a_window_whose_level_sags_after_it_starts():
    rate, joins = 8000, JOINS
    steady, sag = windows(rate, -6, 0.1, 0.2)  # 6 dB down from 100 to 300 ms into each window
    flat = np.median(join_profiles(steady[None], rate, joins), axis=0)
    sagging = np.median(join_profiles(sag[None], rate, joins), axis=0)
    assert flat.shape == (35,)  # 10 blocks of 20 ms before each join, 25 after
    assert np.abs(flat).max() < 1.5
    assert sagging[15:25].mean() == pytest.approx(-6, abs=1)  # 100-300 ms after the joins
    assert np.abs(sagging[:15]).max() < 1.5 and np.abs(sagging[26:]).max() < 1.5
    assert join_profiles(steady[None], rate, [0.1, 5.8]).shape == (0, 35)  # too near the ends
