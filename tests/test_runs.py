import json

import numpy as np
import pytest
import soundfile
import torch

from cadenza import app_views, runs, tasks
from cadenza.data import audio
from cadenza.pipeline import load, shipped


@pytest.fixture(scope="module")
def piano():
    return load(shipped())


@pytest.fixture(scope="module")
def clip(piano):
    generator = torch.Generator().manual_seed(0)
    return 0.1 * torch.randn(1, piano.sample_rate, generator=generator)


def test_parse_gaps_and_loudness_name_the_field_they_came_from():
    assert runs.parse_gaps("3-5, 6.5-7") == [(3.0, 5.0), (6.5, 7.0)]
    with pytest.raises(ValueError, match=r"^gaps takes start-end seconds"):
        runs.parse_gaps("3 to 5", "gaps")
    assert runs.parse_loudness("model") == "model" and runs.parse_loudness("off") is None
    assert runs.parse_loudness("-18") == -18.0
    with pytest.raises(ValueError, match="--loudness takes LUFS"):
        runs.parse_loudness("loud")


CASES = {  # task -> (inputs, keywords): each plan differs in what drives its count of calls
    "generate": (0, {"seconds": 0.5, "batch": 2}),
    "extend": (1, {"seconds": 0.7, "window_seconds": 0.6, "context_seconds": 0.4}),
    "inpaint": (1, {"gaps": [(0.2, 0.4)]}),
    "outpaint": (1, {"seconds": 0.3, "side": "before"}),
    "transfer": (1, {"strength": 0.5}),
    "interpolate": (2, {"ratio": 0.3}),
}
PLANS = {"generate": (None, None, 3), "extend": ("replace", None, 3),
         "inpaint": ("repaint-fast", None, 6), "outpaint": ("repaint", None, 5),
         "transfer": (None, "heun", 6), "interpolate": (None, None, 4)}


@pytest.mark.parametrize("task", CASES)
def test_a_progress_callable_hears_every_call_against_a_total_known_from_the_first(task, piano,
                                                                                  clip):
    """What the app shows: ``(done, total)`` before each model call, the total right."""
    count, keywords = CASES[task]
    options = {"resample": 2, "jump_length": 2} if task == "outpaint" else {}
    plan = piano.plan(*PLANS[task], **options)
    waves = [clip, clip.flip(-1)][:count]
    heard: list[tuple[int, int]] = []
    report = lambda done, total: heard.append((done, total))  # noqa: E731
    if task == "extend":
        list(tasks.extend_chunks(piano, waves[0][None], seed=0, plan=plan, progress=report,
                                 **keywords))
    else:
        getattr(tasks, task)(piano, *waves, seed=0, plan=plan, progress=report, **keywords)
    total = heard[0][1]
    assert heard == [(done, total) for done in range(total)] and total > 0


def test_an_exception_from_the_progress_callable_stops_the_run_between_calls(piano, clip):
    calls = []

    def stop_at_third(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tasks.transfer(piano, clip, 1.0, plan=piano.plan(steps=8), progress=stop_at_third)
    assert calls == [0, 1, 2]


def test_edit_writes_the_wav_and_the_record_the_cli_writes(piano, clip, tmp_path):
    source = tmp_path / "take.wav"
    soundfile.write(source, clip[0].numpy(), piano.sample_rate, subtype="FLOAT")
    out = tmp_path / "out" / "fixed.wav"
    plan = piano.plan("replace", steps=2)
    record = runs.edit("inpaint", piano, "tiny-piano-mel", [source], out, seed=3, plan=plan,
                       settings={"gaps": [(0.25, 0.5)]})
    assert sorted(p.name for p in out.parent.iterdir()) == ["fixed.json", "fixed.wav"]
    assert json.loads(out.with_suffix(".json").read_text()) == json.loads(json.dumps(record))
    assert record["plan"] == plan.record() and record["seed"] == 3
    assert record["output_seconds"] == pytest.approx(1.0)
    assert record["output_format"]["subtype"] == "float"  # the input's: a float wav
    assert set(record["timings_seconds"]) == {"load", "run"}
    result = audio.load(out)[0][0]
    known = np.ones(result.shape[-1], dtype=bool)
    known[piano.sample_rate // 4: piano.sample_rate // 2] = False
    assert np.array_equal(result[known], clip[0].numpy()[known])  # float wav: exact


@pytest.mark.parametrize("task, settings, expected", [
    ("outpaint", {"seconds": 0.5, "side": "after"}, [1.0]),
    ("extend", {"seconds": 0.5, "window_seconds": 1.0, "context_seconds": 0.75,
                "keep_prompt": True, "crossfade_seconds": 0.05}, [1.0, 1.25]),
])
def test_the_apps_seams_read_the_record_an_edit_writes(piano, clip, tmp_path, task, settings,
                                                       expected):
    """The app marks seams on its spectrogram from the record ``runs.edit`` writes (its
    extend and outpaint tabs failed on a key the record no longer had)."""
    source = tmp_path / "take.wav"
    soundfile.write(source, clip[0].numpy(), piano.sample_rate, subtype="FLOAT")
    record = runs.edit(task, piano, "tiny-piano-mel", [source], tmp_path / "out.wav", seed=0,
                       plan=piano.edit_plan("replace", steps=2), settings=settings)
    assert app_views.seams(task, record) == pytest.approx(expected)


def test_an_edit_says_what_its_input_holds_above_the_models_band():
    """A 16 kHz model makes nothing above 8 kHz: a 44.1 kHz input with a 10 kHz tone at a
    tenth of the amplitude (-20 dB of its power) hears so; one with nothing there, or at the
    model's own rate, does not."""
    rate = 44100
    t = np.arange(rate) / rate
    low = np.sin(2 * np.pi * 440 * t)[None]
    bright = low + 0.1 * np.sin(2 * np.pi * 10_000 * t)[None]
    said = runs.band_beyond_model([(bright, rate)], 16000)
    assert said["model_band_hz"] == 8000
    assert said["input_power_above_model_band_db"] == pytest.approx(-20, abs=0.2)
    assert len(said["notes"]) == 1 and "nothing above 8 kHz" in said["notes"][0]
    quiet = runs.band_beyond_model([(low, rate)], 16000)
    assert quiet["input_power_above_model_band_db"] < runs.BAND_NOTE_DB
    assert quiet["notes"] == []
    at_model_rate = runs.band_beyond_model(
        [(np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)[None], 16000)], 16000)
    assert at_model_rate["input_power_above_model_band_db"] is None
    assert at_model_rate["notes"] == []


def test_generate_writes_clips_and_generate_json(piano, tmp_path):
    record = runs.generate(piano, "tiny-piano-mel", tmp_path, seconds=0.25, batch=2, seed=4,
                           plan=piano.plan(steps=2))
    assert [audio.info(p).frames for p in record["files"]] == [piano.sample_rate // 4] * 2
    assert json.loads((tmp_path / "generate.json").read_text())["seed"] == 4
    with pytest.raises(ValueError, match="seconds must be a positive number of seconds"):
        runs.generate(piano, "m", tmp_path, seconds=0, batch=1, seed=0, plan=piano.plan())
