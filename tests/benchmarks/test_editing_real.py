"""The editing benchmark's verdicts: issue 16's "nearer the floor" and the silences it counts."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import editing_real

FLOOR = {"median_abs_loudness_jump_db": 0.7, "median_seam_flux_ratio": 0.3,
         "mean_chroma_cosine": 0.9, "mean_key_score": 0.4, "median_onset_rate_ratio": 1.0}
CEILING = {"median_abs_loudness_jump_db": 1.2, "median_seam_flux_ratio": 6.0,
           "mean_chroma_cosine": 0.7, "mean_key_score": 0.2, "median_onset_rate_ratio": 1.2}


def test_a_row_counts_the_measures_nearer_the_real_piece_than_the_cut():
    row = {"median_abs_loudness_jump_db": 0.6,  # past the floor: nearer it
           "median_seam_flux_ratio": 4.0,  # nearer the cut
           "mean_chroma_cosine": 0.8 + 1e-12,  # midway, to the float: neither
           "mean_key_score": float("nan"),  # not measured (an old cached piece): neither
           "median_onset_rate_ratio": 1.05}
    assert editing_real.nearer_the_floor(row, FLOOR, CEILING) == 2
    assert editing_real.nearer_the_floor(FLOOR, FLOOR, CEILING) == 5


def test_silences_are_counted_per_20_s_of_each_pieces_joined_clips():
    rate = editing_real.RATE
    clip = 0.1 * np.random.default_rng(0).standard_normal(4 * rate).astype(np.float32)
    quiet = clip.copy()
    quiet[rate: rate + rate // 2] = 0.0
    pieces = [[clip, quiet, clip, clip, clip], [clip] * 5]  # one silence in 40 s
    assert editing_real.silence_rate(pieces) == {"silences_per_20s": pytest.approx(0.5)}
    assert editing_real.silence_rate([[], []]) == {}


def test_rows_say_how_often_and_how_deep_the_limiter_cut():
    scores = {"loudness_jump_db": 0.5, "seam_flux_ratio": 1.0, "chroma_cosine": 0.9,
              "key_agrees": True, "key_score": 1.0, "onset_rate_ratio": 1.0,
              "clipped_samples": 0}
    rows = [{**scores, "limiter_db": 0.0}, {**scores, "limiter_db": 2.5}]
    summary = editing_real.summary(rows)
    assert summary["pieces_limited"] == 1 and summary["deepest_limiter_db"] == 2.5
    assert np.isnan(editing_real.summary([scores])["deepest_limiter_db"])  # cached before


def test_the_table_shows_the_limiter_and_the_verdict_beside_each_row():
    scores = {"loudness_jump_db": 0.6, "seam_flux_ratio": 1.0, "chroma_cosine": 0.9,
              "key_agrees": True, "key_score": 0.4, "onset_rate_ratio": 1.0,
              "clipped_samples": 0}
    row = editing_real.summary([{**scores, "limiter_db": 3.04}, {**scores, "limiter_db": 0.0}])
    unknown = editing_real.summary([scores])  # cached before the limiter was recorded
    shown = {"key_agreement": 0.2, "clipped_samples": 0}  # shown, not judged
    record = {"settings": {"pieces": 2, "extend_seconds": 20.0}, "machine": "test",
              "date": "2026-11-29",
              "rows": {"outpaint | real audio (floor)": {**FLOOR, **shown},
                       "outpaint | another piece cut in (ceiling)": {**CEILING, **shown},
                       "outpaint | a-model, replace": row, "outpaint | a-model, project": unknown}}
    table = editing_real.report(record)
    assert "| outpaint | a-model, replace | 0.6 |" in table
    assert "| 5 of 5 | - | - | - | - | 0 | 1 (3.0 dB) | - |" in table  # no joins: no dip, rise, sag
    assert "| 0 | - | - |" in table.split("a-model, project")[1]  # clipped 0, limited unknown


def test_rise_at_joins_reads_each_piece_back_whole_from_its_clips():
    rate = editing_real.RATE
    rng = np.random.default_rng(0)
    steady = 0.05 * rng.standard_normal(8 * rate).astype(np.float32)
    burst = steady.copy()
    for join in (1.0, 2.0, 3.0, 5.0, 6.0, 7.0):  # 10 dB up over each window's first 50 ms
        burst[round(join * rate): round((join + 0.05) * rate)] *= 10 ** (10 / 20)
    clips = [burst[: 4 * rate], burst[4 * rate:]]  # a join at the clips' own border too
    joins = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert editing_real.rise_at_joins([clips], joins)["median_join_rise_db"] == pytest.approx(
        10, abs=1.5)
    assert abs(editing_real.rise_at_joins(
        [[steady[: 4 * rate], steady[4 * rate:]]], joins)["median_join_rise_db"]) < 1.5
    assert editing_real.rise_at_joins([clips], []) == {}


def test_sag_after_joins_finds_a_gain_that_rises_after_each_window_settles():
    rate = editing_real.RATE
    rng = np.random.default_rng(0)
    steady = 0.05 * rng.standard_normal(8 * rate).astype(np.float32)
    sag = steady.copy()
    for join in (1.0, 2.0, 3.0, 5.0, 6.0, 7.0):  # 4 dB down from 100 to 300 ms into each window
        sag[round((join + 0.1) * rate): round((join + 0.3) * rate)] *= 10 ** (-4 / 20)
    joins = [1.0, 2.0, 3.0, 5.0, 6.0, 7.0]
    assert editing_real.sag_after_joins([[sag[: 4 * rate], sag[4 * rate:]]], joins)[
        "join_sag_db"] == pytest.approx(-4, abs=1)
    assert editing_real.sag_after_joins([[steady[: 4 * rate], steady[4 * rate:]]], joins)[
        "join_sag_db"] > -1.5
    assert editing_real.sag_after_joins([[sag]], []) == {}


def test_per_piece_sets_two_caches_of_a_row_side_by_side(tmp_path):
    rate = editing_real.RATE
    scores = {"loudness_jump_db": 1.25, "seam_flux_ratio": 3.0, "limiter_db": 2.0}
    clips = [0.05 * np.random.default_rng(0).standard_normal(4 * rate).astype(np.float32)] * 5
    stem = "a-model-extend-repaint"
    for cache, indices in (("before", [0, 1]), ("after", [1])):  # only piece 1 is in both
        for index in indices:
            editing_real.save_piece(tmp_path / cache / stem / f"{index}.npz", scores, clips, 1.0)
    table = editing_real.per_piece(stem, [str(tmp_path / "before"), str(tmp_path / "after")],
                                   20.0)
    assert table.splitlines()[2].startswith("| 1 | 1.25, 3.00, ")
    assert len(table.splitlines()) == 3
