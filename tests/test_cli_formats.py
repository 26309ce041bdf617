"""Edits keep the user's format: 44.1 kHz stereo in (wav, flac, ogg, mp3) -> 44.1 kHz stereo out
of the right length, every known sample as the input file decodes it."""

import json

import numpy as np
import pytest
import soundfile
from typer.testing import CliRunner

from cadenza.cli import app

RATE = 44100
FORMATS = {"wav": "PCM_16", "flac": "PCM_24", "ogg": "VORBIS", "mp3": "MPEG_LAYER_III"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    """Two seconds of a stereo chord (different in each channel), in every format."""
    folder = tmp_path_factory.mktemp("formats")
    t = np.arange(2 * RATE) / RATE
    envelope = np.exp(-2 * (t % 0.5))
    left = 0.3 * np.sin(2 * np.pi * 261.6 * t) * envelope
    right = 0.3 * np.sin(2 * np.pi * 329.6 * t) * envelope
    wave = np.stack([left, right], axis=1).astype(np.float32)
    paths = {}
    for suffix, subtype in FORMATS.items():
        paths[suffix] = folder / f"chord.{suffix}"
        soundfile.write(paths[suffix], wave, RATE, subtype=subtype)
    return paths


EDITS = {  # options, seconds added, the span (seconds) that must come back as it went in
    "inpaint": (["--gaps", "0.5-0.9"], 0.0, [(0.0, 0.5), (0.9, 2.0)]),
    "outpaint": (["--seconds", "0.5"], 0.5, [(0.0, 2.0)]),
    "extend": (["--seconds", "0.5", "--window", "1.5", "--context", "1"], 0.5, [(0.0, 2.0)]),
    "transfer": (["--strength", "0.5"], 0.0, []),
    "interpolate": (["--ratio", "0.5"], 0.0, []),
}


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("task", EDITS)
def test_an_edit_returns_the_inputs_rate_channels_and_known_samples(task, suffix, inputs,
                                                                    tmp_path):
    options, added, kept = EDITS[task]
    path = inputs[suffix]
    source = [str(path)] * (2 if task == "interpolate" else 1)
    out = tmp_path / "out.wav"
    result = CliRunner().invoke(app, [task, *source, *options, "--steps", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    original, _ = soundfile.read(path, dtype="float32", always_2d=True)
    edited, rate = soundfile.read(out, dtype="float32", always_2d=True)
    assert rate == RATE and edited.shape == (len(original) + round(added * RATE), 2)
    for start, end in kept:
        span = slice(round(start * RATE), round(end * RATE))
        assert np.array_equal(edited[span], original[span]), (start, end)
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["input_formats"][0] == {"sample_rate": RATE, "channels": 2, "seconds": 2.0}
    assert record["output_format"]["sample_rate"] == RATE
    assert record["output_format"]["channels"] == 2
    assert record["model_format"] == {"sample_rate": 16000, "channels": 1}
    assert record["clipped_samples"] == 0
    assert record["model_band_hz"] == 8000  # the chord's clicks only up there: no note
    assert record["notes"] == [] and "note:" not in result.output


def test_rate_and_channels_can_be_asked_for(inputs, tmp_path):
    out = tmp_path / "out.wav"
    result = CliRunner().invoke(app, ["inpaint", str(inputs["wav"]), "--gaps", "0.5-0.9",
                                      "--steps", "2", "--rate", "22050", "--channels", "1",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    info = soundfile.info(out)
    assert (info.samplerate, info.channels, info.frames) == (22050, 1, 2 * 22050)


@pytest.mark.parametrize("band_fill", ["--band-fill", "--no-band-fill"])
def test_an_edit_notes_the_band_its_model_cannot_make(band_fill, tmp_path):
    """Cymbal-bright input (a 10 kHz partial) to the 16 kHz default: one line says how much of
    the input lies above 8 kHz, and whether the new audio's band there was continued from the
    input around it (the default) or left empty."""
    t = np.arange(2 * RATE) / RATE
    wave = 0.3 * np.sin(2 * np.pi * 261.6 * t) + 0.03 * np.sin(2 * np.pi * 10_000 * t)
    source, out = tmp_path / "bright.wav", tmp_path / "out.wav"
    soundfile.write(source, wave.astype(np.float32), RATE)
    result = CliRunner().invoke(app, ["inpaint", str(source), "--gaps", "0.5-0.9", "--steps",
                                      "2", band_fill, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "note: the model makes audio at 16000 Hz" in result.output
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["input_power_above_model_band_db"] == pytest.approx(-20, abs=0.5)
    assert len(record["notes"]) == 1
    if band_fill == "--band-fill":
        assert record["band_filled_hz"] == [7600.0, RATE / 2]
        assert "continued from the input's" in record["notes"][0]
    else:
        assert record["band_filled_hz"] is None
        assert "nothing above 8 kHz" in record["notes"][0]
    edited, _ = soundfile.read(out, dtype="float32")
    gap = edited[round(0.55 * RATE): round(0.85 * RATE)]
    spectrum = np.abs(np.fft.rfft(gap * np.hanning(len(gap)))) ** 2
    above = spectrum[np.fft.rfftfreq(len(gap), 1 / RATE) > 8500].sum() / spectrum.sum()
    assert (above > 1e-4) if band_fill == "--band-fill" else (above < 1e-6)
