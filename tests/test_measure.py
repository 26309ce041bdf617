import numpy as np
import pytest

from cadenza.clips import ClipSet
from cadenza.measure import measure

RATE = 16000


def chords(rng: np.random.Generator, clips: int) -> np.ndarray:
    """Piano-ish clips of 1 s: a random three-note chord of decaying harmonic tones every 0.5 s."""
    t = np.arange(RATE // 2) / RATE
    halves = []
    for _ in range(2 * clips):
        chord = np.zeros_like(t)
        for midi in rng.integers(48, 84, 3):
            frequency = 440 * 2 ** ((midi - 69) / 12)
            chord += sum(np.sin(2 * np.pi * h * frequency * t) / h**2 for h in (1, 2, 3))
        halves.append(chord * np.exp(-4 * t))
    waves = np.concatenate(halves).reshape(clips, RATE)
    return 0.3 * waves / np.abs(waves).max(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def sets():
    reference = chords(np.random.default_rng(1), 8)
    # Other music of the same kind, with two of the reference clips copied in.
    generated = np.concatenate([chords(np.random.default_rng(2), 8), reference[:2]])
    noise = 0.1 * np.random.default_rng(4).standard_normal((8, RATE))
    return {name: ClipSet.from_array(name, waves, RATE) for name, waves in
            {"reference": reference, "generated": generated, "noise": noise}.items()}


def test_fad_is_zero_against_itself_and_large_against_noise(sets):
    def metrics(generated: str) -> dict:
        return measure(sets[generated], sets["reference"], classifiers=False,
                       progress=False).metrics

    itself, other_music, noise = metrics("reference"), metrics("generated"), metrics("noise")
    assert itself["fad"]["value"] < 1e-6 * other_music["fad"]["value"]
    assert itself["ks"]["samples"] == 0 and itself["ks"]["rms"] == 0
    assert noise["fad"]["value"] > 5 * other_music["fad"]["value"]
    assert noise["kid"]["mean"] > 5 * other_music["kid"]["mean"]
    assert noise["copies"] is None
    assert noise["c2st"]["accuracy"] > 0.9 and noise["c2st"]["ci_low"] > 0.5
    assert itself["c2st"]["ci_low"] <= 0.5 <= itself["c2st"]["ci_high"]


def test_sets_of_one_clip_are_a_clear_error(sets):
    one = ClipSet.from_array("one", sets["noise"].clips[:1], RATE)
    with pytest.raises(ValueError, match="one: need at least two clips"):
        measure(one, sets["reference"], classifiers=False, progress=False)
