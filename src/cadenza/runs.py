"""Running a task as the command line and the web app do: one call, a wav and its JSON record.

``generate`` and ``edit`` take a loaded model and the plan it resolved, read the inputs at the
model's rate (:mod:`cadenza.conform`), run the :mod:`cadenza.tasks` function, write the audio
in the user's format with every known sample as it was, and beside it the record: the plan
verbatim (``plan.record()``), the settings, the formats, the inputs and the timings. The
CLI and the app (``cadenza app``) both run tasks through here, so a result made either way is
described the same way.

Both take the task's ``progress``: True for a bar, or a callable told ``(calls done, total)``
before every model call, which the app uses to show progress and to cancel.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

from cadenza import band, conform, tasks
from cadenza.atomic import add_record, check_writable, unique_key, write_json
from cadenza.data import audio
from cadenza.metrics.bandwidth import power_above
from cadenza.plan import Plan
from cadenza.version import __version__

EDITS = ("extend", "inpaint", "outpaint", "transfer", "interpolate")
"""The tasks that start from audio: their inputs are files, their result one wav."""

BAND_NOTE_DB = -40.0
"""An edit says so when more of its input's power than this (dB of the whole) lies above the
band the model can make: the new audio has none of it. A piano's hammer noise alone puts about
-50 dB above 8 kHz; -40 dB is a band that is clearly there."""


def parse_gaps(text: str, option: str = "--gaps") -> list[tuple[float, float]]:
    """``"3-5,6.5-7"`` -> ``[(3.0, 5.0), (6.5, 7.0)]``; ``option`` names the field in errors."""
    try:
        pairs = [part.split("-") for part in text.split(",") if part.strip()]
        return [(float(start), float(end)) for start, end in pairs]
    except ValueError:
        raise ValueError(f"{option} takes start-end seconds, comma-separated (e.g. 3-5,6.5-7), "
                         f"got {text!r}") from None


def parse_loudness(text: str, option: str = "--loudness") -> float | str | None:
    """A number of LUFS, ``'model'`` (the model's own target) or ``'off'`` (None)."""
    if text in ("model", "off"):
        return None if text == "off" else text
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not -70 <= value <= 0:
        raise ValueError(f"{option} takes LUFS between -70 and 0, 'model' or 'off'; got {text!r}")
    return value


def check_inputs(inputs: Sequence[Path]) -> None:
    """A wrong or too long input file fails here, before anything slow; the error names it."""
    for path in inputs:
        audio.check_length(audio.info(path))


def read_inputs(model: tasks.Model, inputs: Sequence[Path]
                ) -> tuple[list[tuple[np.ndarray, int]], list[Tensor]]:
    """The files as they hold them, ``(wave, rate)``, and as the model takes them: at its rate
    and channel count."""
    originals = [audio.load(path) for path in inputs]
    waves = [conform.to_model(wave, native, model.sample_rate, model.channels)
             for wave, native in originals]
    return originals, waves


def generate(model: tasks.Model, model_name: str | Path, out: Path, *, seconds: float,
             batch: int, seed: int, plan: Plan, loudness: float | str | None = "model",
             progress: tasks.Progress = False) -> dict[str, Any]:
    """``batch`` clips of ``seconds`` written to ``out/clip-SEED-I.wav``, the record added to
    ``out/generate.json``; returns the record."""
    check_writable(out)  # the task checks seconds and batch itself, before any work
    started = time.perf_counter()
    gains: list[dict] = []
    waves = tasks.generate(model, seconds, batch, seed=seed, plan=plan, progress=progress,
                           loudness=loudness, gains=gains)
    elapsed = time.perf_counter() - started
    paths: list[str] = []
    for index, wave in enumerate(waves):
        try:
            paths.append(str(audio.write(out / f"clip-{seed}-{index}.wav", wave.numpy(),
                                         model.sample_rate)))
        except OSError as error:  # say which files are whole
            done = ", ".join(Path(path).name for path in paths) or "none"
            raise OSError(f"{error}; complete before it: {done}") from None
    record = {
        "task": "generate", "model": str(model_name), "seconds": seconds, "batch": batch,
        "seed": seed, "plan": plan.record(), "files": paths, "loudness": gains,
        "clipped_samples": int((waves.abs() >= 1).sum()),
        "elapsed_seconds": round(elapsed, 3), "cadenza": __version__,
    }
    # Other runs may write into this folder at the same time: add this run's record to theirs.
    add_record(out / "generate.json", record, unique_key(f"seed-{seed}"))
    return record


def edit(task: str, model: tasks.Model, model_name: str | Path, inputs: Sequence[Path],
         out: Path, *, seed: int, plan: Plan, settings: dict[str, Any],
         rate: int | None = None, channels: int | None = None,
         progress: tasks.Progress = False, band_fill: bool = True,
         load_seconds: float = 0.0) -> dict[str, Any]:
    """Run ``cadenza.tasks.<task>`` with ``plan`` and ``settings`` on the audio files
    ``inputs`` at the model's rate; write the wav ``out`` in the first input's format (or
    ``rate`` / ``channels``) with its known samples as they were, and beside it (``out`` with
    ``.json``) the record: the plan verbatim, both formats and what was done to the new audio's
    level. The band above the model's is continued in the new audio from the user's around it
    (``cadenza.band``) unless ``band_fill`` is off. Returns the record; ``load_seconds``
    (loading the model) counts in its load time.
    ``extend`` is streamed: hours of audio never sit in memory."""
    if task not in EDITS:
        raise ValueError(f"unknown editing task {task!r}; choose one of {', '.join(EDITS)}")
    if out.suffix.lower() != ".wav":
        raise ValueError(f"the output must be a .wav file, got {out}")
    check_inputs(inputs)
    check_writable(out.parent)
    started = time.perf_counter()
    user = conform.format_of(str(inputs[0]), rate, channels)
    originals, waves = read_inputs(model, inputs)
    bases = [audio.load(path, user.sample_rate, channels=user.channels)[0] for path in inputs]
    loaded = time.perf_counter()
    gains: list[dict] = []
    run = {"seed": seed, "plan": plan, "progress": progress, **settings}
    if task in ("extend", "inpaint", "outpaint"):
        run["gains"] = gains
    done: dict = {}
    if task == "extend":
        chunks = tasks.extend_chunks(model, waves[0][None], **run)  # checks the settings
        keep = bases[0]
        if not settings["keep_prompt"]:  # the prompt's last context is made anew
            keep = keep[:, : keep.shape[-1] - round(settings["context_seconds"]
                                                    * user.sample_rate)]
        added = bases[0].shape[-1] + round(settings["seconds"] * user.sample_rate) \
            - keep.shape[-1]
        clipped = 0
        with audio.open_wav(out, user.sample_rate, user.channels, user.subtype) as append:
            for piece in conform.stream_to_user(chunks, model.sample_rate, keep, user, added,
                                                band_fill):
                clipped += int((np.abs(piece) >= 1.0).sum())
                append(piece)
        filled = keep.shape[-1] >= band.N_FFT and conform.fills_band(model.sample_rate, user,
                                                                      band_fill)
        done = {"band_filled_hz": filled or None, "clipped_samples": clipped}
    else:  # looked up at call time, so a test can spy on the task
        made = getattr(tasks, task)(model, *waves, **run)
        base, regions = _timeline(task, bases, user.sample_rate, settings)
        result, done = conform.to_user(made, model.sample_rate, base, user, regions, band_fill)
        audio.write(out, result, user.sample_rate, user.subtype)
    finished = time.perf_counter()
    output = audio.info(out)
    record = {
        "task": task, "model": str(model_name), "seed": seed, "plan": plan.record(), **settings,
        "inputs": [str(path) for path in inputs],
        "input_formats": [{"sample_rate": native, "channels": wave.shape[0],
                           "seconds": round(wave.shape[-1] / native, 6)}
                          for wave, native in originals],
        "model_format": {"sample_rate": model.sample_rate, "channels": model.channels},
        "output": str(out),
        "output_format": {**user.record(), "seconds": round(output.seconds, 6)},
        "output_seconds": round(output.seconds, 6),
        "loudness_matching": gains, **done,
        **band_beyond_model(originals, model.sample_rate, done["band_filled_hz"]),
        "timings_seconds": {"load": round(load_seconds + loaded - started, 3),
                            "run": round(finished - loaded, 3)},
        "cadenza": __version__,
    }
    write_json(out.with_suffix(".json"), record)
    return record


def band_beyond_model(originals: Sequence[tuple[np.ndarray, int]], model_rate: int,
                      filled_hz: list[float] | None = None) -> dict[str, Any]:
    """What the inputs hold above the model's band (half its sample rate), which the audio it
    makes cannot: the band, the largest share of an input's power above it (dB; None when no
    input's rate reaches past it) and, when that share is above ``BAND_NOTE_DB``, a note
    saying whether the band was continued from the input (``filled_hz``) or left empty."""
    edge = model_rate / 2
    shares = [power_above(wave, native, edge) for wave, native in originals if native / 2 > edge]
    share = max(shares, default=0.0)
    above_db = round(10 * math.log10(share), 1) if share > 0 else None
    notes = []
    if above_db is not None and above_db > BAND_NOTE_DB:
        made = (f"its band above {edge / 1000:g} kHz was continued from the input's "
                "(--no-band-fill leaves it empty)" if filled_hz else
                f"what it made has nothing above {edge / 1000:g} kHz")
        notes.append(f"the model makes audio at {model_rate} Hz, and the input holds "
                     f"{above_db:g} dB of its power above {edge / 1000:g} kHz: {made} (the "
                     "input's own samples keep theirs)")
    return {"model_band_hz": edge, "input_power_above_model_band_db": above_db,
            "notes": notes}


def _timeline(task: str, bases: list[np.ndarray], rate: int,
              settings: dict[str, Any]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The user's audio on the output's time line, and the regions (seconds) the model made."""
    wave = bases[0]
    seconds = wave.shape[-1] / rate
    if task == "inpaint":
        return wave, settings["gaps"]
    if task == "outpaint":
        added = round(settings["seconds"] * rate)
        if settings.get("side", "after") == "before":
            return conform.placed(wave, before=added), [(0.0, added / rate)]
        return conform.placed(wave, after=added), [(seconds, (wave.shape[-1] + added) / rate)]
    if task == "interpolate":  # cropped to the shorter clip, all of it made
        length = min(base.shape[-1] for base in bases)
        return wave[:, :length], [(0.0, length / rate)]
    return wave, [(0.0, seconds)]  # transfer: all of it made
