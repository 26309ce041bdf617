import json
import subprocess
import sys

import pytest

from cadenza import __version__
from cadenza.data import audio
from cadenza.oracle import DEFAULT_SETUP
from cadenza.pipeline import SHIPPED


def cadenza(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from cadenza.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_version():
    result = cadenza("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"cadenza {__version__}"


@pytest.mark.parametrize(
    "args", [["--help"], ["demo", "--help"], ["methods", "--help"], ["extend", "--help"]]
)
def test_every_command_has_help(args):
    result = cadenza(*args)
    assert result.returncode == 0 and "Usage" in result.stdout


def test_demo_writes_a_report_with_tables_plots_and_exact_errors(tmp_path):
    result = cadenza("demo", "--out", str(tmp_path), "--spectrum", "piano", "--calls", "5,10",
                     "--clips", "1", "--seconds", "1", "--extend", "6")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report.html").read_text()
    assert "<table>" in page and "data:image/png;base64," in page and "piano" in page
    assert "data:audio/wav;base64," in page  # the shipped model played one clip
    for name in SHIPPED:  # the mel model and the DiffWave
        assert audio.info(tmp_path / f"{name}-seed0.wav").seconds == pytest.approx(1.0)
    for name, seconds in (("prompt", 5.0), ("extended", 6.0), ("gap-filled", 5.0)):
        assert audio.info(tmp_path / f"{name}.wav").seconds == pytest.approx(seconds)
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    by_key = {(row["pipeline"], row["budget"]): row for row in rows}
    assert len(rows) == 2 * 12  # default, ten methods and the deterministic 3M, two budgets
    assert all(0 < row["distribution_error"] < float("inf") for row in rows)
    for pipeline in (DEFAULT_SETUP.label(), "dpmpp_2m/logsnr[0.02,80]"):
        assert by_key[(pipeline, 10)]["endpoint_error"] < by_key[(pipeline, 5)]["endpoint_error"]
    assert json.loads((tmp_path / "run.json").read_text())["cadenza"] == __version__


@pytest.mark.parametrize(
    "args", [["demo", "--spectrum", "brown"], ["demo", "--calls", "0"], ["demo", "--calls", "a"]]
)
def test_user_mistakes_get_one_clear_line_and_no_traceback(args, tmp_path):
    result = cadenza(*args, "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


def test_methods_lists_every_sampler():
    lines = cadenza("methods").stdout.splitlines()
    assert "ddpm (stochastic)" in lines and "unipc" in lines and len(lines) == 10


def test_generate_uses_the_shipped_model_by_default(tmp_path):
    result = cadenza("generate", "--seconds", "1", "--steps", "5", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "generate.json").read_text())
    assert record["model"].endswith("tiny-piano-mel") and len(record["files"]) == 1


@pytest.fixture(scope="module")
def piano_wav(tmp_path_factory):
    """Two seconds of a decaying tone at 22.05 kHz: the commands resample it to the model's."""
    import numpy as np
    import soundfile

    path = tmp_path_factory.mktemp("input") / "tone.wav"
    t = np.arange(2 * 22050) / 22050
    soundfile.write(path, 0.2 * np.sin(2 * np.pi * 261.6 * t) * np.exp(-2 * (t % 0.5)), 22050)
    return path


EDITS = {
    "extend": (["--seconds", "0.6", "--window", "2", "--context", "1.5"], 2.6),
    "inpaint": (["--gaps", "0.5-0.8,1.2-1.5", "--strategy", "project"], 2.0),
    "outpaint": (["--seconds", "0.5", "--side", "before", "--strategy", "repaint-fast"], 2.5),
    "transfer": (["--strength", "0.4"], 2.0),
    "interpolate": (["--ratio", "0.3"], 2.0),
}


@pytest.mark.parametrize("task", EDITS)
def test_editing_commands_write_a_wav_and_a_record(task, piano_wav, tmp_path):
    options, seconds = EDITS[task]
    inputs = [str(piano_wav)] * (2 if task == "interpolate" else 1)
    out = tmp_path / f"{task}.wav"
    result = cadenza(task, *inputs, *options, "--steps", "6", "--seed", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / f"{task}.json").read_text())
    assert record["task"] == task and record["model"].endswith("tiny-piano-mel")
    expected = {"extend": "ddpm", "inpaint": "ddpm", "outpaint": "dpmpp_2m_sde"}  # repaint-fast
    assert record["plan"]["sampler"] == expected.get(task, "deis")
    assert record["seed"] == 2 and record["plan"]["steps"] == 6
    assert record["inputs"] == inputs and record["cadenza"] == __version__
    assert record["output_seconds"] == pytest.approx(seconds, abs=1e-4)
    assert set(record["timings_seconds"]) == {"load", "run"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{task}.json", f"{task}.wav"]


def test_editing_errors_name_the_input_file(tmp_path):
    result = cadenza("transfer", str(tmp_path / "missing.wav"), "--out", str(tmp_path / "o.wav"))
    assert result.returncode == 2 and "missing.wav: no such file" in result.stderr
    assert "Traceback" not in result.stderr
    folder = cadenza("extend", str(tmp_path), "--seconds", "1", "--out", str(tmp_path / "o.wav"))
    assert folder.returncode == 2 and "is a folder, not an audio file" in folder.stderr


def test_a_misspelt_model_name_lists_the_shipped_ones_and_suggests_the_closest(tmp_path):
    result = cadenza("generate", "--model", "tiny-piano-mell", "--seconds", "0.5",
                     "--out", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "tiny-piano-diffwave" in result.stderr
    assert "did you mean 'tiny-piano-mel'?" in result.stderr


def test_generate_takes_a_shipped_models_name(tmp_path):
    result = cadenza("generate", "--model", "tiny-piano-diffwave", "--seconds", "0.5",
                     "--steps", "4", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "generate.json").read_text())
    assert audio.info(tmp_path / record["files"][0]).sample_rate == 8000  # the DiffWave's rate


def test_zero_steps_is_an_error_not_the_default(tmp_path):
    result = cadenza("generate", "--seconds", "0.5", "--steps", "0", "--out", str(tmp_path))
    assert result.returncode == 2 and "steps must be at least 1" in result.stderr
    assert "Traceback" not in result.stderr


PLANNED = {
    "generate": ["--seconds", "0.3"],
    "extend": ["{wav}", "--seconds", "0.3", "--window", "2", "--context", "1.5",
               "--strategy", "repaint", "--jump-length", "2", "--resample", "2"],
    "inpaint": ["{wav}", "--gaps", "0.5-0.8", "--strategy", "interp", "--lambda-curve", "linear"],
    "outpaint": ["{wav}", "--seconds", "0.3", "--strategy", "repaint-fast", "--resample", "3"],
    "transfer": ["{wav}", "--strength", "0.4", "--sampler", "euler"],
    "interpolate": ["{wav}", "{wav}", "--ratio", "0.3"],
}


@pytest.mark.parametrize("task", PLANNED)
def test_every_commands_record_is_the_plan_that_ran(task, piano_wav, tmp_path, monkeypatch):
    """Run in-process with the task spied on: the JSON holds exactly the plan the task got."""
    from typer.testing import CliRunner

    from cadenza import tasks
    from cadenza.cli import app

    seen = []
    runner = tasks.extend_chunks if task == "extend" else getattr(tasks, task)

    def spy(*args, plan, **kwargs):
        seen.append(plan)
        return runner(*args, plan=plan, **kwargs)

    monkeypatch.setattr(tasks, "extend_chunks" if task == "extend" else task, spy)
    out = tmp_path / ("out" if task == "generate" else "out.wav")
    args = [arg.format(wav=piano_wav) for arg in PLANNED[task]]
    result = CliRunner().invoke(app, [task, *args, "--steps", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    record_path = out / "generate.json" if task == "generate" else out.with_suffix(".json")
    record = json.loads(record_path.read_text())
    assert len(seen) == 1 and record["plan"] == seen[0].record()
    assert record["plan"]["steps"] == 3


def test_an_edit_without_strategy_runs_the_models_own_with_the_options_given(piano_wav,
                                                                             tmp_path):
    """No --strategy: the model's edit_strategy, and --resample applies to it."""
    import torch
    from typer.testing import CliRunner

    from cadenza.cli import app
    from cadenza.networks import network
    from cadenza.pipeline import Pipeline
    from cadenza.plan import Plan
    from cadenza.representations import representation

    torch.manual_seed(0)
    net = network("diffwave", residual_layers=2, residual_channels=8)
    model = Pipeline(representation("waveform", sample_rate=8000), net, "edm", {},
                     sigma_data=0.5, defaults=Plan("euler", 4, "karras"),
                     edit_strategy="repaint").save(tmp_path / "model")
    out = tmp_path / "out.wav"
    result = CliRunner().invoke(app, ["inpaint", str(piano_wav), "--gaps", "0.5-0.8",
                                      "--model", str(model), "--resample", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    plan = json.loads(out.with_suffix(".json").read_text())["plan"]
    assert plan["strategy"] == "repaint" and plan["options"]["resample"] == 2


def test_info_shows_a_models_card_and_refuses_a_misspelt_name():
    result = cadenza("info")
    assert result.returncode == 0, result.stderr
    assert "**tiny-piano-mel**" in result.stdout and "deis, 20 steps" in result.stdout
    assert "editing strategy (extend, inpaint, outpaint): repaint" in result.stdout
    wrong = cadenza("info", "tiny-piano-mell")
    assert wrong.returncode == 2 and "did you mean 'tiny-piano-mel'?" in wrong.stderr
