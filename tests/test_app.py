"""``cadenza app`` driven in a real browser: Debian's headless Chromium through Playwright
(pointed at the system browser: nothing is downloaded), against the app started as a user
starts it (``cadenza app``, a separate process). Short clips and 2 sampler steps keep it fast.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile

import cadenza
from cadenza.pipeline import shipped

RATE = 16000  # the shipped default model's rate: uploads at it are not resampled
BROWSERS = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser")


def chromium() -> str:
    """The system Chromium; .ci/run installs Debian's ``chromium`` package."""
    for name in BROWSERS:
        found = shutil.which(name) if "/" not in name else (name if Path(name).exists() else None)
        if found:
            return found
    pytest.fail("the browser tests need Chromium: apt-get install chromium (see .ci/run)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """The app, started by its command, with small upload limits; stopped (and its temporary
    folder checked gone) at the end."""
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cadenza", "app", "--port", str(port), "--max-upload-mb", "2",
         "--max-upload-seconds", "20"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env=env)
    url, workdir, deadline = f"http://127.0.0.1:{port}", None, time.monotonic() + 90
    while workdir is None:  # the app names its folder once it listens
        line = process.stdout.readline()
        assert line or process.poll() is None, "the app exited before it listened"
        found = re.search(r"uploads and results in (\S+)", line)
        workdir = Path(found.group(1)) if found else None
        assert time.monotonic() < deadline, "the app took over 90 s to start"
    with urllib.request.urlopen(url, timeout=30) as page:
        assert page.status == 200
    yield {"url": url, "workdir": workdir}
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=30)[0]
    assert "Traceback" not in output, output
    assert not workdir.exists(), "the app left its temporary folder behind"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium(), args=["--autoplay-policy=no-user-gesture-required",
                                              "--mute-audio", "--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser context (its own Gradio session); fails on any request leaving the
    machine, since the app must work offline."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    context.add_init_script(PLAYED)
    outside = []
    context.on("request", lambda request: outside.append(request.url)
               if request.url.startswith(("http:", "https:", "ws:", "wss:"))
               and not request.url.startswith(server["url"]) else None)
    opened = context.new_page()
    opened.goto(server["url"])
    yield opened
    context.close()
    assert outside == []


PLAYED = """
window.played = [];
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { window.played.push(this); return play.call(this); };
"""
"""Every media element the page starts, in the DOM or not (the player keeps its own)."""


def tab(page, name: str):
    """Open the tab ``name``; its panel (Gradio renders a tab when first opened)."""
    page.get_by_role("tab", name=name).click()
    return page.locator("[role=tabpanel]:visible")


def status(page) -> list[str]:
    """What the page's progress displays say (queue place, calls done / total)."""
    texts = page.locator("[data-testid=status-tracker]").all_inner_texts()
    return sorted({" ".join(text.split()) for text in texts if text.strip()})


def fill(panel, label: str, value) -> None:
    """Type ``value`` into the field ``label``, again if the page redraws the field (a
    just-opened accordion mounts its fields a moment later, resetting what was typed)."""
    field = panel.get_by_label(label, exact=True)
    for _ in range(20):
        field.fill(str(value))
        field.page.wait_for_timeout(100)
        if field.input_value() == str(value):
            return
    raise AssertionError(f"{label} would not keep {value!r}")


def set_steps(panel, steps: int) -> None:
    panel.get_by_text("Sampling", exact=True).click()
    fill(panel, "steps", steps)


def run(panel, timeout: float = 60) -> None:
    """Press the tab's run button and wait for its downloads (wav and record) to appear."""
    panel.locator("button.run").click()
    panel.locator(".result-files a").nth(1).wait_for(timeout=timeout * 1000)


def download(page, panel, name: str, folder: Path) -> Path:
    """Save the result file ``name`` as the browser downloads it."""
    with page.expect_download() as event:
        panel.locator(f".result-files a[download='{name}']").click()
    path = folder / name
    event.value.save_as(path)
    return path


def piano_wav(path: Path, seconds: float, rate: int = RATE, channels: int = 1,
              subtype: str = "FLOAT", bright: bool = False) -> Path:
    """A decaying chord (the channels a little apart) in the format asked for; ``bright``: with
    a partial at 10 kHz, above a 16 kHz model's band."""
    t = np.arange(round(seconds * rate)) / rate
    partials = (261.6, 329.6, 392.0) + ((10000.0,) if bright else ())
    wave = sum(np.sin(2 * np.pi * f * t) for f in partials) * np.exp(-3 * t) * 0.2
    stereo = np.stack([wave * (1 - 0.2 * c) for c in range(channels)], axis=1)
    soundfile.write(path, stereo.astype(np.float32), rate, subtype=subtype)
    return path


def test_generate_a_clip_and_play_it(page, tmp_path):
    panel = tab(page, "Generate")
    fill(panel, "seconds", 0.5)
    set_steps(panel, 2)
    run(panel)
    record = json.loads(download(page, panel, "generate.json", tmp_path).read_text())
    assert record["plan"]["steps"] == 2 and record["seconds"] == 0.5
    wave, rate = soundfile.read(download(page, panel, "clip-0-0.wav", tmp_path))
    assert rate == RATE and len(wave) == RATE // 2
    panel.locator(".result-audio").first.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => window.played.some(a => a.currentTime > 0 && !a.error)")
    assert panel.locator(".result-spectrogram img").count() == 1


def test_inpaint_keeps_the_known_audio_bit_exact(page, tmp_path):
    """A 44.1 kHz stereo 16-bit take (the model works at 16 kHz mono) comes back in its own
    format, every sample outside the gap as the file holds it; its band above the model's
    is left empty in the gap when the box says so."""
    source = piano_wav(tmp_path / "take.wav", 1.0, 44100, 2, "PCM_16", bright=True)
    panel = tab(page, "Inpaint")
    panel.locator("input[type=file]").set_input_files(source)
    picture = panel.locator(".waveform img")
    picture.wait_for()
    box = picture.bounding_box()  # two clicks mark a gap: a quarter and half-way in
    for fraction in (0.25, 0.5):
        picture.click(position={"x": box["width"] * fraction, "y": box["height"] / 2})
        page.wait_for_timeout(300)
    marked = panel.locator(".gaps textarea").input_value()
    start, end = map(float, marked.split("-"))
    assert start == pytest.approx(0.25, abs=0.01) and end == pytest.approx(0.5, abs=0.01)
    fill(panel, "gaps (seconds)", "0.3-0.5")
    panel.locator(".band-fill input[type=checkbox]").uncheck()
    set_steps(panel, 2)
    run(panel)
    downloaded = download(page, panel, "inpaint.wav", tmp_path)
    assert soundfile.info(downloaded).subtype == "PCM_16"
    result, rate = soundfile.read(downloaded, dtype="int16")
    original, _ = soundfile.read(source, dtype="int16")
    assert rate == 44100 and result.shape == original.shape == (44100, 2)
    known = np.ones(len(original), dtype=bool)
    known[round(0.3 * rate): round(0.5 * rate)] = False
    assert np.array_equal(result[known], original[known])  # bit for bit
    assert not np.array_equal(result[~known], original[~known])
    record = json.loads(download(page, panel, "inpaint.json", tmp_path).read_text())
    assert record["gaps"] == [[0.3, 0.5]] and record["plan"]["steps"] == 2
    assert record["plan"]["strategy"] == cadenza.load(shipped()).edit_strategy  # the menu's default
    assert record["output_format"]["sample_rate"] == 44100
    assert record["band_filled_hz"] is None and record["input_power_above_model_band_db"] > -40


def test_bad_input_shows_the_clis_message_not_a_traceback(page, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    panel = tab(page, "Transfer")
    panel.locator("input[type=file]").set_input_files(broken)
    panel.locator("button.run").click()
    message = page.get_by_text(re.compile("broken.wav: not readable as audio"))
    message.wait_for(timeout=30000)
    panel = tab(page, "Inpaint")  # a gap outside the clip
    panel.locator("input[type=file]").set_input_files(piano_wav(tmp_path / "short.wav", 0.5))
    fill(panel, "gaps (seconds)", "0.4-0.9")
    panel.locator("button.run").click()
    page.get_by_text(re.compile("gap 0.4-0.9 s is empty or outside the clip")).wait_for()
    panel = tab(page, "Extend")  # a prompt shorter than the context
    panel.locator("input[type=file]").set_input_files(tmp_path / "short.wav")
    panel.locator("button.run").click()
    page.get_by_text(re.compile("extend needs at least context_seconds = 4 s")).wait_for()
    panel = tab(page, "Outpaint")  # past the server's upload length (--max-upload-seconds 20)
    panel.locator("input[type=file]").set_input_files(piano_wav(tmp_path / "long.wav", 25.0))
    panel.locator("button.run").click()
    page.get_by_text(re.compile("long.wav is 25.0 s; this app takes uploads up to 20 s")).wait_for()
    page_text = page.locator("body").inner_text()
    assert "Traceback" not in page_text and "cadenza-app-" not in page_text


def session(browser, server):
    """A page of its own browser context: another user, another Gradio session."""
    opened = browser.new_context(accept_downloads=True).new_page()
    opened.goto(server["url"])
    return opened


def test_two_sessions_at_once_each_get_their_own_result(browser, server, tmp_path):
    pages = [session(browser, server) for _ in range(2)]
    panels = [tab(opened, "Generate") for opened in pages]
    for seed, panel in enumerate(panels, start=1):
        fill(panel, "seconds", 0.25 * seed)
        panel.get_by_text("Sampling", exact=True).click()  # steps left at the model's
        fill(panel, "seed", seed)
    for panel in panels:  # both at once
        panel.locator("button.run").click()
    records = []
    for index, (opened, panel) in enumerate(zip(pages, panels, strict=True)):
        panel.locator(".result-files a").nth(1).wait_for(timeout=60000)
        folder = tmp_path / str(index)
        folder.mkdir()
        records.append(json.loads(download(opened, panel, "generate.json", folder).read_text()))
        wave, _ = soundfile.read(download(opened, panel, f"clip-{index + 1}-0.wav", folder))
        assert len(wave) == round(0.25 * (index + 1) * RATE)
        opened.context.close()
    assert [(r["seed"], r["seconds"]) for r in records] == [(1, 0.25), (2, 0.5)]
    assert [r["plan"]["steps"] for r in records] == [20, 20]  # tiny-piano-mel's own


def test_queue_place_progress_in_model_calls_and_cancel(browser, server):
    """A long run shows calls done / total; a second session waits with its place in the
    queue shown; Cancel stops the long run between two model calls, and the waiting run then
    gets the model."""
    long, short = session(browser, server), session(browser, server)
    panel = tab(long, "Generate")
    fill(panel, "seconds", 30.0)  # ~10 s of work here: still running when the other queues
    set_steps(panel, 200)
    panel.locator("button.run").click()
    long.get_by_text(re.compile(r"\d+/\d+ calls")).first.wait_for(timeout=30000)
    done, total = map(int, re.search(r"(\d+)/(\d+) calls", " ".join(status(long))).groups())
    assert 0 <= done < total
    waiting = tab(short, "Generate")
    fill(waiting, "seconds", 0.5)
    set_steps(waiting, 2)
    waiting.locator("button.run").click()
    short.get_by_text(re.compile(r"queue: 1/1")).first.wait_for(timeout=10000)
    panel.locator("button.cancel").click()
    panel.get_by_text("Cancelled.").first.wait_for()
    started = time.monotonic()
    waiting.locator(".result-files a").nth(1).wait_for(timeout=30000)
    assert time.monotonic() - started < 15  # the cancelled run let go of the model
    assert panel.locator(".result-files a").count() == 0
    fill(panel, "seconds", 0.5)  # the cancelling session works on
    fill(panel, "steps", 2)
    run(panel)
    for opened in (long, short):
        opened.context.close()
