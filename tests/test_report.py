from matplotlib.figure import Figure

from cadenza.atomic import write_text
from cadenza.report import Report


def test_report_escapes_text_and_inlines_figures(tmp_path):
    report = Report("a <b> title")
    report.table([{"name": "<script>", "value": 0.5, "missing": None}])
    figure = Figure()
    figure.subplots().plot([1, 2, 3])
    report.figure(figure, "a line")
    page = report.write(tmp_path / "report.html").read_text()
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert "5.00e-01" in page and "—" in page
    assert "data:image/png;base64," in page


def test_writes_are_atomic_and_replace_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "old")
    write_text(target, "new")
    assert target.read_text() == "new"
    assert [path.name for path in tmp_path.iterdir()] == ["out.txt"]


def test_audio_is_embedded_as_a_playable_wav(tmp_path):
    import base64
    import io
    import re

    import numpy as np
    import soundfile

    from cadenza.report import Report

    report = Report("sounds")
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)
    report.audio(tone[None], 8000, "a tone")
    page = report.write(tmp_path / "page.html").read_text()
    data = re.search(r"data:audio/wav;base64,([A-Za-z0-9+/=]+)", page).group(1)
    decoded, rate = soundfile.read(io.BytesIO(base64.b64decode(data)))
    assert rate == 8000 and decoded.shape == (8000,) and abs(decoded - tone).max() < 1e-4
