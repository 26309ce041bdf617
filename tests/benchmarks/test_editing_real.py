"""The editing benchmark's verdicts: issue 16's "nearer the floor" and the silences it counts."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import editing_real

FLOOR = {"median_abs_loudness_jump_db": 0.7, "median_seam_flux_ratio": 0.3,
         "mean_chroma_cosine": 0.9, "key_agreement": 0.2, "median_onset_rate_ratio": 1.0}
CEILING = {"median_abs_loudness_jump_db": 1.2, "median_seam_flux_ratio": 6.0,
           "mean_chroma_cosine": 0.7, "key_agreement": 0.2, "median_onset_rate_ratio": 1.2}


def test_a_row_counts_the_measures_nearer_the_real_piece_than_the_cut():
    row = {"median_abs_loudness_jump_db": 0.6,  # past the floor: nearer it
           "median_seam_flux_ratio": 4.0,  # nearer the cut
           "mean_chroma_cosine": 0.8 + 1e-12,  # midway, to the float: neither
           "key_agreement": 0.3,  # both references 0.2: neither
           "median_onset_rate_ratio": 1.05}
    assert editing_real.nearer_the_floor(row, FLOOR, CEILING) == 2
    assert editing_real.nearer_the_floor(FLOOR, FLOOR, CEILING) == 4  # key ties even so


def test_silences_are_counted_per_20_s_of_each_pieces_joined_clips():
    rate = editing_real.RATE
    clip = 0.1 * np.random.default_rng(0).standard_normal(4 * rate).astype(np.float32)
    quiet = clip.copy()
    quiet[rate: rate + rate // 2] = 0.0
    pieces = [[clip, quiet, clip, clip, clip], [clip] * 5]  # one silence in 40 s
    assert editing_real.silence_rate(pieces) == {"silences_per_20s": pytest.approx(0.5)}
    assert editing_real.silence_rate([[], []]) == {}
