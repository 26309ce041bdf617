"""The demo report's pieces: coinciding curves named, continuity in units, silent audio drawn
without a warning."""

import io
import warnings

import numpy as np

from cadenza.demo import (
    coinciding,
    coinciding_note,
    continuity_rows,
    edit_figure,
    spectrogram_figure,
)


def test_samplers_with_identical_errors_are_named_together():
    def row(pipeline, calls, w2, ode):
        return {"pipeline": pipeline, "model_calls": calls, "distribution_error": w2,
                "endpoint_error": ode}

    rows = [row(p, c, w, o) for p, values in {
        "ddim/x": [(5, 0.389, 0.389), (10, 0.206, 0.206)],
        "euler/x": [(5, 0.389, 0.389), (10, 0.206, 0.206)],
        "heun/x": [(5, 10.2, 10.2), (9, 0.98, 0.98)],
        "ddpm/x": [(5, 0.484, None), (10, 0.324, None)],
        "euler_ancestral/x": [(5, 0.484, None), (10, 0.324, None)],
    }.items() for c, w, o in values]
    groups = coinciding(rows)
    assert groups == [["ddim/x", "euler/x"], ["ddpm/x", "euler_ancestral/x"]]
    note = coinciding_note(groups)
    assert "ddim/x = euler/x (DDIM's update is the Euler step" in note
    assert "ddpm/x = euler_ancestral/x" in note


def test_continuity_reads_in_units():
    scores = {"chroma_cosine": 0.79812, "key_prompt": "C major", "key_continuation": "D major",
              "key_score": 0.0,
              "onset_rate_ratio": 0.875, "loudness_jump_db": -11.93, "seam_flux_ratio": 0.948,
              "loudness_prompt_lufs": -16.42, "loudness_continuation_lufs": -16.7,
              "joins_dipping": 0.0526, "join_dip_db": -2.34}
    values = {row["measure"]: row["value"] for row in continuity_rows(scores)}
    assert values["loudness jump"] == "-11.9 dB"  # not -1.19e+01
    assert values["chroma cosine"] == "0.798" and values["onset rate ratio"] == "0.88"
    assert values["key: prompt / continuation"] == "C major / D major (score 0.0)"
    assert values["loudness: prompt / continuation"] == "-16.4 / -16.7 LUFS"
    assert values["joins with a hole"] == "5% (median -2.3 dB)"
    assert all(row["what it means"] for row in continuity_rows(scores))


def test_silence_draws_without_a_warning():
    wave = np.zeros((1, 16000), dtype=np.float32)
    wave[0, 8000:] = 0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / 16000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a divide-by-zero in log10 would fail here
        for figure in (spectrogram_figure(wave, 16000, "half silent"),
                       edit_figure(wave, 16000, [0.5], "half silent")):
            figure.savefig(io.BytesIO(), format="png")
            assert any(axis.get_label() == "<colorbar>" for axis in figure.axes)
