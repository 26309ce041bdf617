import json
import subprocess
import sys

import pytest

from cadenza import __version__
from cadenza.sampler_study import DEFAULT_PIPELINE


def cadenza(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from cadenza.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_version():
    result = cadenza("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"cadenza {__version__}"


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"], ["methods", "--help"]])
def test_every_command_has_help(args):
    result = cadenza(*args)
    assert result.returncode == 0 and "Usage" in result.stdout


def test_demo_writes_a_report_with_tables_plots_and_exact_errors(tmp_path):
    result = cadenza("demo", "--out", str(tmp_path), "--spectrum", "piano", "--calls", "5,10",
                     "--clips", "1", "--seconds", "1")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report.html").read_text()
    assert "<table>" in page and "data:image/png;base64," in page and "piano" in page
    assert "data:audio/wav;base64," in page  # the shipped model played one clip
    assert (tmp_path / "tiny-piano-mel-seed0.wav").exists()
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    by_key = {(row["pipeline"], row["budget"]): row for row in rows}
    assert len(rows) == 2 * 12  # default, ten methods and the deterministic 3M, two budgets
    assert all(0 < row["distribution_error"] < float("inf") for row in rows)
    for pipeline in (DEFAULT_PIPELINE.label(), "dpmpp_2m/logsnr[0.02,80]"):
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
