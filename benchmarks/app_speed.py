"""``cadenza app`` against the CLI: start-up to first page, and a generate side by side.

    python benchmarks/app_speed.py [--seconds 10] [--repeats 3] [--screenshots docs/app]

- start-up: from launching ``cadenza app`` (a fresh process, as a user starts it) to its
  server answering, and to its page drawn in headless Chromium with the tabs showing; the
  browser is already running, as a user's would be. ``--repeats`` fresh starts.
- generate: ``--seconds`` of audio with the model's default plan and loudness, the same seed
  on both sides, alternating: the CLI as a user runs it (``cadenza generate``: a fresh process,
  so its wall time includes Python, torch and the model loading; its record's
  ``elapsed_seconds`` is the sampling alone) and the app from the page (click to the result's
  player, spectrogram, files and summary drawn), on the app started above, whose model is
  already loaded.
- ``--screenshots DIR``: a PNG of each tab after a run on it (docs/app in the README).

Prints a markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import soundfile

BROWSER = "/usr/lib/chromium/chromium"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(browser, port: int) -> tuple[subprocess.Popen, object, float, float]:
    """Launch ``cadenza app`` and load its page: the app, its page, and the seconds from launch
    to the server answering and to the page drawn with its tabs."""
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "cadenza", "app", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:  # what a user reloading the page would see
        try:
            with urllib.request.urlopen(url, timeout=5):
                break
        except OSError:
            if process.poll() is not None:
                raise SystemExit("cadenza app exited before it served its page") from None
            time.sleep(0.05)
    answering = time.perf_counter() - started
    page = browser.new_context(viewport={"width": 1280, "height": 1000},
                               accept_downloads=True).new_page()
    page.goto(url)
    page.get_by_role("tab", name="Interpolate").wait_for()
    return process, page, answering, time.perf_counter() - started


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def panel_of(page, name: str):
    page.get_by_role("tab", name=name).click()
    return page.locator("[role=tabpanel]:visible")


def run_and_wait(panel, pattern: str, timeout: float = 600) -> float:
    """Press the tab's run button; seconds until its summary matches ``pattern``."""
    started = time.perf_counter()
    panel.locator("button.run").click()
    panel.locator(".result-summary").last.get_by_text(re.compile(pattern)).wait_for(
        timeout=timeout * 1000)
    return time.perf_counter() - started


def cli_generate(seconds: float, seed: int, out: Path) -> tuple[float, float]:
    """Wall seconds of ``cadenza generate`` and the sampling seconds its record gives."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cadenza", "generate", "--seconds", str(seconds),
                    "--seed", str(seed), "--out", str(out)], check=True,
                   capture_output=True)
    wall = time.perf_counter() - started
    return wall, json.loads((out / "generate.json").read_text())["elapsed_seconds"]


def app_generate(page, seconds: float, seed: int) -> float:
    panel = panel_of(page, "Generate")
    panel.get_by_label("seconds", exact=True).fill(str(seconds))
    if not panel.get_by_label("seed", exact=True).is_visible():
        panel.get_by_text("Sampling", exact=True).click()
    panel.get_by_label("seed", exact=True).fill(str(seed))
    return run_and_wait(panel, rf"seed {seed};")


def screenshots(page, folder: Path, work: Path) -> None:
    """Run each tab once on small inputs and save it as a PNG."""
    from cadenza import tasks
    from cadenza.pipeline import load, shipped

    folder.mkdir(parents=True, exist_ok=True)
    piano = load(shipped())
    clips = tasks.generate(piano, 4.0, 4, seed=7, plan=piano.plan(), loudness="model")
    generated = work / "generated"
    generated.mkdir()
    paths = []
    for i, clip in enumerate(clips):
        paths.append(generated / f"piano-{i}.wav")
        soundfile.write(paths[-1], clip[0].numpy(), piano.sample_rate, subtype="FLOAT")
    rng = np.random.default_rng(0)
    reference = work / "reference"
    reference.mkdir()
    for i in range(4):  # decaying chords as a stand-in reference set
        t = np.arange(4 * piano.sample_rate) / piano.sample_rate
        notes = 220 * 2 ** (rng.integers(0, 24, 3) / 12)
        wave = sum(np.sin(2 * np.pi * f * t) for f in notes) * np.exp(-1.5 * (t % 1.0)) * 0.2
        soundfile.write(reference / f"chord-{i}.wav", wave.astype(np.float32), piano.sample_rate)

    def shoot(name: str) -> None:
        page.screenshot(path=str(folder / f"{name.lower()}.png"), full_page=True)

    page.get_by_text("model card", exact=True).click()  # open: the card is in the picture
    app_generate(page, 4.0, 7)  # a seed of its own: the timed runs' summaries differ
    shoot("Generate")
    page.get_by_text("model card", exact=True).click()

    def upload(panel, path: Path) -> None:
        panel.locator("input[type=file]").first.set_input_files(path)

    panel = panel_of(page, "Extend")
    upload(panel, paths[0])
    panel.get_by_label("seconds to add", exact=True).fill("4")
    run_and_wait(panel, r"extend:")
    shoot("Extend")
    panel = panel_of(page, "Inpaint")
    upload(panel, paths[1])
    picture = panel.locator(".waveform img")
    picture.wait_for()
    box = picture.bounding_box()
    for fraction in (0.4, 0.6):  # a gap marked on the waveform, as a user would
        picture.click(position={"x": box["width"] * fraction, "y": box["height"] / 2})
        page.wait_for_timeout(300)
    run_and_wait(panel, r"inpaint:")
    shoot("Inpaint")
    panel = panel_of(page, "Outpaint")
    upload(panel, paths[2])
    run_and_wait(panel, r"outpaint:")
    shoot("Outpaint")
    panel = panel_of(page, "Transfer")
    upload(panel, paths[3])
    run_and_wait(panel, r"transfer:")
    shoot("Transfer")
    panel = panel_of(page, "Interpolate")
    upload(panel, paths[0])
    panel.locator("audio").first.wait_for(state="attached")  # clip A's player replaces its
    upload(panel, paths[3])  # upload box: clip B's box is the one left
    run_and_wait(panel, r"interpolate:")
    shoot("Interpolate")
    panel = panel_of(page, "Evaluate")
    panel.get_by_label("generated: folder", exact=True).fill(str(generated))
    panel.get_by_label("reference: folder", exact=True).fill(str(reference))
    panel.get_by_label("clip seconds", exact=True).fill("2")
    panel.locator("button.run").click()
    panel.get_by_text(re.compile(r"reference clips of")).wait_for(timeout=600_000)
    page.wait_for_timeout(1500)  # the report's frame draws
    shoot("Evaluate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--screenshots", type=Path, default=None)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    answers, startups, cli_walls, cli_sampling, app_times = [], [], [], [], []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as scratch:
        browser = playwright.chromium.launch(executable_path=BROWSER, args=["--mute-audio"])
        process = None
        try:
            for _ in range(args.repeats):
                if process is not None:
                    stop(process)
                process, page, answered, drawn = start_app(browser, free_port())
                answers.append(answered)
                startups.append(drawn)
            page.wait_for_timeout(5000)  # the app loads its default model in the background
            app_generate(page, 1.0, 999)  # a warm-up run, not counted
            for seed in range(args.repeats):
                wall, sampling = cli_generate(args.seconds, seed, Path(scratch) / f"cli-{seed}")
                cli_walls.append(wall)
                cli_sampling.append(sampling)
                app_times.append(app_generate(page, args.seconds, seed))
            if args.screenshots:
                screenshots(page, args.screenshots, Path(scratch))
        finally:
            if process is not None:
                stop(process)
            browser.close()

    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    app_median = statistics.median(app_times)
    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()} {os.cpu_count()} cores, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.1f} (other jobs on the machine), "
          f"{args.repeats} repeats, median (range), seconds\n")
    print("| measure | seconds |\n| --- | --- |")
    print(f"| start-up: `cadenza app` launched -> server answers | {cell(answers)} |")
    print(f"| start-up: `cadenza app` launched -> page drawn | {cell(startups)} |")
    print(f"| generate {args.seconds:g} s, CLI: `cadenza generate` wall | {cell(cli_walls)} |")
    print(f"| generate {args.seconds:g} s, CLI: its sampling alone (record) | "
          f"{cell(cli_sampling)} |")
    print(f"| generate {args.seconds:g} s, app: click -> result drawn | {cell(app_times)} |")
    print(f"| ratio app / CLI wall | {app_median / statistics.median(cli_walls):.2f} |")
    print(f"| ratio app / CLI sampling alone | "
          f"{app_median / statistics.median(cli_sampling):.2f} |")


if __name__ == "__main__":
    main()
