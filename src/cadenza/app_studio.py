"""The web app's work (``cadenza app``): each handler checks what the page sent, runs the task
through :mod:`cadenza.runs` exactly as the CLI does (same plan resolution, same wav and JSON
record) and hands back a player, a spectrogram, the files and a line of text.

Every run writes into a fresh folder of its own, so sessions never see each other's results.
A model works on one run at a time (a lock per model, under Gradio's queue); each of its calls
reports progress and checks the session's cancel flag. A user's mistake (a wrong file, a gap
outside the clip) is a ``gr.Error`` with the CLI's message, never a traceback.
"""

from __future__ import annotations

import functools
import html
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from cadenza import app_views, cards, runs, tasks
from cadenza.data import audio
from cadenza.pipeline import Pipeline, load

log = logging.getLogger(__name__)

KEEP_SECONDS = 3600
"""How long a run's files stay on the server (downloads are offered for that long)."""

DEFAULT = "model's default"
"""What the sampler and strategy menus show for 'whatever the model's plan says'."""


PROGRESS = gr.Progress()
TQDM_PROGRESS = gr.Progress(track_tqdm=True)
"""Gradio spots a handler's progress parameter by this default and passes each run its own."""


class UserCancelError(Exception):
    """The user pressed Cancel: raised between two model calls."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask for (``cadenza app`` flags)."""

    upload_mb: float = 50.0
    upload_seconds: float = 600.0
    output_seconds: float = 300.0
    batch: int = 4


def guarded(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A user's mistake becomes a message in the page (the CLI's wording, without the server's
    folder names); anything else a one-line message, the traceback in the server's log."""

    @functools.wraps(handler)
    def run(self: Studio, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(self, *args, **kwargs)
        except gr.Error:
            raise
        except UserCancelError as stop:
            raise gr.Error(str(stop), title="Cancelled", print_exception=False) from None
        except (ValueError, OSError) as error:
            message = app_views.short_error(str(error), [self.workdir])
            # gr.Error renders HTML; a user's mistake is no server fault: no traceback logged
            raise gr.Error(html.escape(message), print_exception=False) from None
        except Exception as error:
            log.exception("cadenza app: %s failed", handler.__name__)
            raise gr.Error(f"cadenza failed ({type(error).__name__}); the server's log has "
                           "the details") from None

    return run


class Studio:
    """The app's models, work folder and limits, and one handler per task."""

    def __init__(self, models: dict[str, Path], workdir: Path, limits: Limits,
                 local: bool) -> None:
        self.models = models
        self.workdir = workdir
        self.limits = limits
        self.local = local  # folders on the server may be named only when it is the user's
        self.loaded: dict[str, Pipeline] = {}
        self.loading = threading.Lock()
        self.busy = {name: threading.Lock() for name in models}
        self.cancel_flags: dict[str, threading.Event] = {}

    # ------------------------------------------------------------------ models and flags

    def model(self, name: str) -> Pipeline:
        """The model called ``name``, loaded once and kept."""
        if name not in self.models:
            raise ValueError(f"unknown model {name!r}; choose one of {', '.join(self.models)}")
        with self.loading:
            if name not in self.loaded:
                self.loaded[name] = load(self.models[name])
        return self.loaded[name]

    def card(self, name: str) -> str:
        return cards.model_card(name, self.models[name])

    def flag(self, request: gr.Request | None) -> threading.Event:
        session = getattr(request, "session_hash", None) or "-"
        return self.cancel_flags.setdefault(session, threading.Event())

    def cancel(self, request: gr.Request) -> str:
        """The Cancel button: the session's running work stops before its next model call."""
        self.flag(request).set()
        return "Cancelled."

    # ------------------------------------------------------------------ the shared path

    def upload(self, path: str | None, what: str) -> Path:
        """An uploaded (or recorded) file, checked: readable audio within the length limit."""
        if not path:
            raise ValueError(f"{what}: upload or record a clip first")
        runs.check_inputs([Path(path)])  # unreadable, or past cadenza's own decoding limit
        seconds = audio.info(path).seconds
        if seconds > self.limits.upload_seconds:
            raise ValueError(f"{Path(path).name} is {seconds:.1f} s; this app takes uploads up "
                             f"to {self.limits.upload_seconds:g} s")
        return Path(path)

    def check_length(self, seconds: float) -> None:
        if seconds > self.limits.output_seconds:
            raise ValueError(f"{seconds:g} s asked; this app makes at most "
                             f"{self.limits.output_seconds:g} s at a time")

    def watch(self, name: str, request: gr.Request | None, progress: gr.Progress,
              work: Callable[[tasks.Progress], dict[str, Any]]) -> dict[str, Any]:
        """Run ``work`` (given the task's ``progress`` callable), one run at a time per model,
        showing model calls done / total (the task knows its total before the first call) and
        checking the session's cancel flag before every call."""
        flag = self.flag(request)
        flag.clear()  # a Cancel pressed before this run started was for an earlier one
        progress(0, desc="waiting for the model")
        with self.busy[name]:

            def report(done: int, total: int) -> None:
                if flag.is_set():
                    raise UserCancelError(f"Cancelled after {done} of {total} model calls.")
                progress((done, total), desc="model calls", unit="calls")

            return work(report)

    def folder(self) -> Path:
        """A fresh folder for one run's files; runs older than ``KEEP_SECONDS`` go (their
        files were copied into Gradio's own cache, which it prunes likewise)."""
        runs_folder = self.workdir / "runs"
        if runs_folder.is_dir():
            for old in runs_folder.iterdir():
                if time.time() - old.stat().st_mtime > KEEP_SECONDS:
                    shutil.rmtree(old, ignore_errors=True)
        path = runs_folder / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    def choices(self, model: Pipeline, strategy: str | None, sampler: str, steps: float | None,
                **options: Any) -> Any:
        """The plan, resolved by the model from the page's choices (the default sampler or
        strategy, and 0 or no steps: the model's own; ``strategy`` None: a task without known
        audio)."""
        sampler = None if sampler in (DEFAULT, "", None) else sampler
        steps = int(steps) if steps else None
        if strategy is None:
            return model.plan(None, sampler, steps, **options)
        return model.edit_plan(None if strategy == DEFAULT else strategy, sampler, steps,
                               **options)

    # ------------------------------------------------------------------ generate

    @guarded
    def generate(self, name: str, seconds: float, batch: float, seed: float, sampler: str,
                 steps: float | None, loudness: str, request: gr.Request,
                 progress: gr.Progress = PROGRESS) -> list[Any]:
        batch = int(batch or 0)
        self.check_length(seconds * max(batch, 1))
        if not 1 <= batch <= self.limits.batch:
            raise ValueError(f"batch must be 1 to {self.limits.batch}")
        level = runs.parse_loudness(str(loudness).strip(), "loudness")
        model = self.model(name)
        plan = self.choices(model, None, sampler, steps)
        out = self.folder()
        try:
            record = self.watch(
                name, request, progress,
                lambda report: runs.generate(model, self.models[name], out, seconds=seconds,
                                             batch=batch, seed=int(seed), plan=plan,
                                             loudness=level, progress=report))
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)
            raise
        waves = [audio.load(path)[0] for path in record["files"]]
        picture = app_views.spectrogram_png(waves, model.sample_rate, [],
                                            out / "spectrogram.png")
        players = [gr.update(value=record["files"][i] if i < batch else None,
                             visible=i < batch) for i in range(self.limits.batch)]
        return [*players, str(picture), [*record["files"], str(out / "generate.json")],
                _summary(record, record["elapsed_seconds"])]

    # ------------------------------------------------------------------ the edits

    def edit(self, task: str, name: str, uploads: list[tuple[str | None, str]], seed: float,
             choices: dict[str, Any], settings: dict[str, Any], band_fill: bool,
             request: gr.Request, progress: gr.Progress) -> list[Any]:
        """Check the uploads, resolve the plan, run ``task`` through ``runs.edit`` (the band
        above the model's continued from the input's with ``band_fill``); the player,
        spectrogram (seams marked), wav and record, and a summary."""
        inputs = [self.upload(path, what) for path, what in uploads]
        model = self.model(name)
        plan = self.choices(model, **choices)
        out = self.folder() / f"{task}.wav"
        if task == "extend":  # what it is asked to add; the others keep their input's length
            self.check_length(settings["seconds"] + audio.info(inputs[0]).seconds)
        try:
            record = self.watch(
                name, request, progress,
                lambda report: runs.edit(task, model, self.models[name], inputs, out,
                                         seed=int(seed), plan=plan, settings=settings,
                                         progress=report, band_fill=bool(band_fill)))
        except BaseException:
            shutil.rmtree(out.parent, ignore_errors=True)
            raise
        wave, rate = audio.load(out)  # in the upload's format, as written
        picture = app_views.spectrogram_png([wave], rate,
                                            app_views.seams(task, record),
                                            out.with_suffix(".png"))
        return [str(out), str(picture), [str(out), str(out.with_suffix(".json"))],
                _summary(record, record["timings_seconds"]["run"])]

    @guarded
    def extend(self, name: str, prompt: str | None, seconds: float, window: float,
               context: float, regenerate: bool, crossfade: float, strategy: str, seed: float,
               sampler: str, steps: float | None, band_fill: bool, request: gr.Request,
               progress: gr.Progress = PROGRESS) -> list[Any]:
        return self.edit("extend", name, [(prompt, "prompt")], seed,
                         {"strategy": strategy, "sampler": sampler, "steps": steps},
                         {"seconds": seconds, "window_seconds": window,
                          "context_seconds": context, "keep_prompt": not regenerate,
                          "crossfade_seconds": crossfade}, band_fill, request, progress)

    @guarded
    def inpaint(self, name: str, source: str | None, gaps: str, strategy: str, seed: float,
                sampler: str, steps: float | None, band_fill: bool, request: gr.Request,
                progress: gr.Progress = PROGRESS) -> list[Any]:
        return self.edit("inpaint", name, [(source, "audio")], seed,
                         {"strategy": strategy, "sampler": sampler, "steps": steps},
                         {"gaps": runs.parse_gaps(gaps or "", "gaps")}, band_fill, request,
                         progress)

    @guarded
    def outpaint(self, name: str, source: str | None, seconds: float, side: str, strategy: str,
                 seed: float, sampler: str, steps: float | None, band_fill: bool,
                 request: gr.Request, progress: gr.Progress = PROGRESS) -> list[Any]:
        self.check_length(seconds)
        return self.edit("outpaint", name, [(source, "audio")], seed,
                         {"strategy": strategy, "sampler": sampler, "steps": steps},
                         {"seconds": seconds, "side": side}, band_fill, request, progress)

    @guarded
    def transfer(self, name: str, source: str | None, strength: float, seed: float,
                 sampler: str, steps: float | None, band_fill: bool, request: gr.Request,
                 progress: gr.Progress = PROGRESS) -> list[Any]:
        return self.edit("transfer", name, [(source, "audio")], seed,
                         {"strategy": None, "sampler": sampler, "steps": steps},
                         {"strength": strength}, band_fill, request, progress)

    @guarded
    def interpolate(self, name: str, first: str | None, second: str | None, ratio: float,
                    mode: str, strength: float, seed: float, sampler: str, steps: float | None,
                    band_fill: bool, request: gr.Request,
                    progress: gr.Progress = PROGRESS) -> list[Any]:
        return self.edit("interpolate", name, [(first, "clip A"), (second, "clip B")], seed,
                         {"strategy": None, "sampler": sampler, "steps": steps},
                         {"ratio": ratio, "strength": strength, "mode": mode}, band_fill,
                         request, progress)

    # ------------------------------------------------------------------ marking gaps

    def waveform(self, source: str | None, gaps: str, pending: float | None = None) -> Any:
        """The inpaint tab's waveform with the gaps shaded (nothing without a clip)."""
        if not source:
            return None
        wave, rate = audio.load(source)
        try:
            marked = runs.parse_gaps(gaps or "", "gaps")
        except ValueError:
            marked = []
        return app_views.waveform_image(wave, rate, marked, pending)

    def mark(self, source: str | None, gaps: str, pending: float | None,
             event: gr.SelectData) -> tuple[Any, str, float | None]:
        """A click on the waveform: the first marks a gap's start, the second its end."""
        if not source:
            return None, gaps, None
        seconds = audio.info(source).seconds
        at = round(min(max(event.index[0], 0), app_views.WAVE_WIDTH) / app_views.WAVE_WIDTH
                   * seconds, 2)
        if pending is None:
            return self.waveform(source, gaps, at), gaps, at
        start, end = sorted((pending, at))
        text = ",".join(part for part in ((gaps or "").strip(), f"{start:g}-{end:g}") if part)
        return self.waveform(source, text), text, None

    # ------------------------------------------------------------------ evaluate

    @guarded
    def evaluate(self, generated_folder: str, generated_files: list[str] | None,
                 reference_folder: str, reference_files: list[str] | None,
                 clip_seconds: float, classifiers: bool,
                 progress: gr.Progress = TQDM_PROGRESS) -> list[Any]:
        """``cadenza eval`` on two folders (on this machine) or two sets of uploads."""
        from cadenza.evaluate import evaluate

        out = self.folder()
        sides = {}
        for side, folder, files in (("generated", generated_folder, generated_files),
                                    ("reference", reference_folder, reference_files)):
            if files:
                sides[side] = out / side
                sides[side].mkdir()
                for path in files:
                    shutil.copy(path, sides[side] / Path(path).name)
            elif folder and folder.strip():
                if not self.local:
                    raise ValueError("folders can be named only when the app listens on this "
                                     "machine (127.0.0.1); upload the files instead")
                sides[side] = Path(folder.strip()).expanduser()
                if not sides[side].is_dir():
                    raise ValueError(f"{sides[side]}: no such folder")
            else:
                raise ValueError(f"{side}: name a folder or upload audio files")
        metrics = evaluate(sides["generated"], sides["reference"], out_dir=out / "eval",
                           clip_seconds=clip_seconds, classifiers=classifiers, progress=True)
        report = out / "eval" / "report.html"
        frame = ('<iframe style="width:100%;height:720px;border:0" srcdoc="'
                 + _attribute(report.read_text(encoding="utf-8")) + '"></iframe>')
        rows = app_views.metrics_rows(metrics)
        sets = metrics["sets"]
        text = (f"{sets['generated']['clips']} generated and {sets['reference']['clips']} "
                f"reference clips of {clip_seconds:g} s, {metrics['elapsed_seconds']:.1f} s")
        return [rows, frame, [str(out / "eval" / "metrics.json"), str(report)], text]


def _summary(record: dict[str, Any], seconds: float) -> str:
    plan = record["plan"]
    strategy = f", {plan['strategy']}" if plan["strategy"] else ""
    notes = "".join(f"\nnote: {note}" for note in record.get("notes", []))
    return (f"{record['task']}: {plan['sampler']}, {plan['steps']} steps{strategy}, seed "
            f"{record['seed']}; {seconds:.1f} s{notes}")


def _attribute(text: str) -> str:
    """``text`` safe inside a double-quoted HTML attribute."""
    return text.replace("&", "&amp;").replace('"', "&quot;")

