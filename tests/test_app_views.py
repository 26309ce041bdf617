from pathlib import Path

import numpy as np

from cadenza import app_views
from cadenza.app import is_local, model_choices
from cadenza.pipeline import SHIPPED, shipped


def test_waveform_marks_gaps_where_a_click_maps_them():
    rate = 1000
    picture = app_views.waveform_image(np.zeros((1, 4 * rate), np.float32), rate, [(1.0, 2.0)])
    assert picture.shape == (app_views.WAVE_HEIGHT, app_views.WAVE_WIDTH, 3)
    shaded = np.flatnonzero((picture[0] == (250, 200, 200)).all(axis=1))
    # a click at pixel x is x / WAVE_WIDTH of the clip: the gap spans a quarter to a half
    assert shaded[0] == app_views.WAVE_WIDTH // 4 and shaded[-1] == app_views.WAVE_WIDTH // 2 - 1


def test_seams_are_where_generated_audio_meets_known_audio():
    assert app_views.seams("inpaint", {"gaps": [[1, 2], [0, 0.5]], "output_seconds": 3}) == \
        [0.5, 1, 2]
    after = {"input_formats": [{"seconds": 2.0}], "output_seconds": 5.0, "side": "after"}
    assert app_views.seams("outpaint", after) == [2.0]
    assert app_views.seams("outpaint", {**after, "side": "before"}) == [3.0]
    extended = {"input_formats": [{"seconds": 2.0}], "output_seconds": 5.0,
                "window_seconds": 5.0, "context_seconds": 4.0}
    assert app_views.seams("extend", extended) == [2.0, 3.0, 4.0]
    assert app_views.seams("transfer", {}) == []


def test_spectrogram_is_a_png(tmp_path):
    wave = np.random.default_rng(0).normal(size=(1, 8000)).astype(np.float32)
    path = app_views.spectrogram_png([wave, wave], 16000, [0.2], tmp_path / "s.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metrics_rows_and_errors_without_server_folders():
    rows = app_views.metrics_rows({"fad": {"value": 1.5, "ci_low": 1, "ci_high": 2},
                                   "c2st": {"accuracy": 0.5, "ci_low": 0.4, "ci_high": 0.6},
                                   "ks": {"rms": 0.1}})
    assert [row[0] for row in rows] == ["fad", "c2st", "ks rms"]
    folder = Path("/tmp/cadenza-app-x")
    message = f"{folder}/uploads/abc/take.wav: not readable as audio"
    assert app_views.short_error(message, [folder]) == "take.wav: not readable as audio"


def test_model_menu_and_who_may_name_folders(tmp_path):
    assert list(model_choices()) == list(SHIPPED)
    chosen = model_choices([str(shipped("tiny-piano-diffwave"))])
    assert list(chosen) == [str(shipped("tiny-piano-diffwave")), "tiny-piano-mel"]
    assert is_local("127.0.0.1") and is_local("localhost") and is_local("::1")
    assert not is_local("0.0.0.0") and not is_local("192.168.1.2")


def test_an_edits_summary_carries_its_notes():
    from cadenza.app_studio import _summary

    record = {"task": "inpaint", "seed": 0, "notes": ["the model makes audio at 16000 Hz: ..."],
              "plan": {"sampler": "ddpm", "steps": 20, "strategy": "repaint"}}
    assert _summary(record, 1.0).splitlines() == [
        "inpaint: ddpm, 20 steps, repaint, seed 0; 1.0 s",
        "note: the model makes audio at 16000 Hz: ..."]
