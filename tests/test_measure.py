import numpy as np
import pytest

from cadenza.clips import ClipSet
from cadenza.data.audio import resample
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
    reference = chords(np.random.default_rng(1), 10)  # KID needs 10 clips a set
    # Other music of the same kind, with two of the reference clips copied in.
    generated = np.concatenate([chords(np.random.default_rng(2), 8), reference[:2]])
    noise = 0.1 * np.random.default_rng(4).standard_normal((10, RATE))
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
    for key in ("c2st", "c2st_fine"):  # the 64- and 160-band readings
        assert noise[key]["accuracy"] > 0.9 and noise[key]["ci_low"] > 0.5
        # A set against itself is never told apart; the accuracy may fall below chance, as a
        # clip's twin in the training fold carries the other label.
        assert itself[key]["ci_low"] <= 0.5


def test_sets_of_one_clip_are_a_clear_error(sets):
    one = ClipSet.from_array("one", sets["noise"].clips[:1], RATE)
    with pytest.raises(ValueError, match="one: need at least two clips"):
        measure(one, sets["reference"], classifiers=False, progress=False)


def test_metrics_given_too_few_clips_say_what_they_need(sets):
    """4 generated and 5 reference clips: C2ST runs; KID is refused; FAD carries its caveat;
    FAD-∞'s fit through 3 sizes is withheld, its intercept kept; the interval holds FAD."""
    few = measure(ClipSet.from_array("g", sets["noise"].clips[:4], RATE),
                  ClipSet.from_array("r", sets["reference"].clips[:5], RATE),
                  classifiers=False, progress=False).metrics
    assert few["kid"] == {"unavailable": "needs at least 10 clips in each set; generated 4, "
                                         "reference 5", "needs": 10}
    assert "rank-deficient" in few["fad"]["caveat"]
    fad = few["fad"]
    assert fad["ci_low"] <= fad["value"] <= fad["ci_high"]
    inf = few["fad_infinity"]
    assert inf["value"] is None and inf["withheld"] and inf["intercept"] > 0
    assert len(inf["sizes"]) == 3 and inf["r2"] < inf["r2_min"]
    three = measure(ClipSet.from_array("g", sets["noise"].clips[:3], RATE), sets["reference"],
                    classifiers=False, progress=False).metrics
    assert three["c2st"]["needs"] == 4 and "generated 3" in three["c2st"]["unavailable"]
    assert three["c2st_fine"]["needs"] == 4
    assert three["fad_infinity"]["needs"] == 4 and three["fad_infinity"]["value"] is None


def test_a_fit_that_holds_gives_fad_infinity_and_whole_sets_give_no_kid_spread(sets):
    metrics = measure(sets["generated"], sets["reference"], classifiers=False,
                      progress=False).metrics
    inf = metrics["fad_infinity"]  # 8 sizes of 2 to 10 clips; FAD falls as 1/n
    assert inf["withheld"] is None and inf["value"] == inf["intercept"] and inf["slope"] > 0
    assert inf["r2"] >= inf["r2_min"] > 0.69
    kid = metrics["kid"]  # 10 clips each: every "subset" is all of both sets
    assert kid["subsets"] == 1 and "no spread" in kid["caveat"]


def test_a_lower_sample_rate_or_bandwidth_is_a_warning(sets):
    reference = sets["reference"]
    noise = np.random.default_rng(7).standard_normal((10, RATE // 2)).astype(np.float32)
    narrow = ClipSet.from_array("narrow", 0.1 * resample(noise, RATE // 2, RATE), RATE)
    narrow.native_rates = {RATE // 2: 10}  # as if its files were made at 8 kHz
    wide = ClipSet.from_array("wide", 0.1 * np.random.default_rng(8).standard_normal(
        (10, RATE)), RATE)
    metrics = measure(narrow, wide, classifiers=False, progress=False).metrics
    rate, band = metrics["warnings"]
    assert "generated files include some at 8000 Hz" in rate and "--rate 8000" in rate
    assert "bandwidths differ" in band
    assert metrics["audio"]["generated"]["bandwidth_hz"] <= 4000
    assert measure(sets["generated"], reference, classifiers=False,
                   progress=False).metrics["warnings"] == []


def test_floors_score_held_out_clips_and_noise_like_the_generated_set(sets):
    held_out = ClipSet.from_array("held", chords(np.random.default_rng(9), 14), RATE)
    metrics = measure(sets["generated"], sets["reference"], classifiers=False,
                      floors={"held-out": held_out}, progress=False).metrics
    real, noise = metrics["floors"]
    assert (real["set"], real["clips"], noise["set"], noise["clips"]) == (
        "held-out", 10, "white noise", 10)  # as many clips as the generated set
    assert real["fad"] < noise["fad"] and real["kid"] < noise["kid"]
