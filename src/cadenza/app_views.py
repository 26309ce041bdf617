"""What the web app shows besides players and the model card (``cadenza.cards``): waveforms,
spectrograms with the seams marked, the metrics table. Pictures and text only; no task logic,
no Gradio.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

WAVE_WIDTH, WAVE_HEIGHT = 1200, 160
"""The waveform picture's size: a click at pixel x is x / WAVE_WIDTH of the clip."""


# ---------------------------------------------------------------------------- pictures


def waveform_image(wave: np.ndarray, rate: int, gaps: list[tuple[float, float]],
                   pending: float | None = None) -> np.ndarray:
    """An RGB picture (WAVE_HEIGHT x WAVE_WIDTH) of ``wave`` (channels, samples): its envelope,
    each gap shaded red, a pending gap start as a red line, a grey tick every second (or
    every 10 s on long clips)."""
    mono = wave.mean(axis=0) if wave.ndim == 2 else wave
    picture = np.full((WAVE_HEIGHT, WAVE_WIDTH, 3), 255, dtype=np.uint8)
    seconds = len(mono) / rate
    edges = np.linspace(0, len(mono), WAVE_WIDTH + 1).astype(int)
    step = 1.0 if seconds <= 30 else 10.0
    for tick in np.arange(step, seconds, step):
        picture[:, min(WAVE_WIDTH - 1, int(tick / seconds * WAVE_WIDTH))] = (215, 215, 215)
    for start, end in gaps:
        first, last = (round(t / seconds * WAVE_WIDTH) for t in (start, end))
        picture[:, max(first, 0): max(min(last, WAVE_WIDTH), first + 1)] = (250, 200, 200)
    peak = float(np.abs(mono).max()) or 1.0
    middle = WAVE_HEIGHT // 2
    for x in range(WAVE_WIDTH):
        piece = mono[edges[x]: max(edges[x + 1], edges[x] + 1)]
        if piece.size:
            low = middle - int(piece.max() / peak * (middle - 4))
            high = middle - int(piece.min() / peak * (middle - 4))
            picture[low: high + 1, x] = (40, 70, 140)
    if pending is not None:
        picture[:, min(WAVE_WIDTH - 1, int(pending / seconds * WAVE_WIDTH))] = (200, 30, 30)
    return picture


def spectrogram_png(waves: list[np.ndarray], rate: int, seams: list[float], path: Path) -> Path:
    """Log-magnitude spectrograms of ``waves`` (each (channels, samples)), one row each, with
    the ``seams`` (seconds: where generated audio meets known audio) as dashed lines."""
    from matplotlib.figure import Figure  # plots only here: the app starts without matplotlib

    figure = Figure(figsize=(10, 2.2 * len(waves)), dpi=80, layout="constrained")
    axes = figure.subplots(len(waves), 1, squeeze=False)[:, 0]
    for axis, wave in zip(axes, waves, strict=True):
        mono = wave.mean(axis=0) if wave.ndim == 2 else wave
        decibels, seconds = _spectrogram(mono, rate)
        axis.imshow(decibels, origin="lower", aspect="auto", cmap="magma",
                    extent=(0, seconds, 0, rate / 2000), vmin=decibels.max() - 80)
        for seam in seams:
            axis.axvline(seam, color="cyan", linestyle="--", linewidth=1.2)
        axis.set_ylabel("kHz")
    axes[-1].set_xlabel("seconds" + ("  (dashed: seams)" if seams else ""))
    figure.savefig(path)
    return path


def _spectrogram(mono: np.ndarray, rate: int, size: int = 1024) -> tuple[np.ndarray, float]:
    """dB magnitude (frequency x frames) of a Hann-windowed STFT, hop a quarter window."""
    hop = size // 4
    padded = np.pad(mono.astype(np.float32), (size // 2, size // 2))
    frames = 1 + max(0, len(padded) - size) // hop
    index = np.arange(size)[None, :] + hop * np.arange(frames)[:, None]
    spectrum = np.abs(np.fft.rfft(padded[index] * np.hanning(size), axis=1)).T
    return 20 * np.log10(spectrum + 1e-6), len(mono) / rate


def seams(task: str, record: dict[str, Any]) -> list[float]:
    """Where a task's generated audio meets known audio, in seconds of its output, from the
    record ``cadenza.runs.edit`` writes."""
    if task == "inpaint":
        ends = {edge for gap in record["gaps"] for edge in gap}
        return sorted(t for t in ends if 0 < t < record["output_seconds"])
    if task == "outpaint":
        known = record["input_formats"][0]["seconds"]
        return [known if record["side"] == "after" else record["output_seconds"] - known]
    if task == "extend":  # the prompt's end, then each window's join
        start, total = record["input_formats"][0]["seconds"], record["output_seconds"]
        stride = record["window_seconds"] - record["context_seconds"]
        count = max(0, math.ceil((total - start) / stride)) if stride > 0 else 0
        return [start + k * stride for k in range(count) if start + k * stride < total]
    return []


# ---------------------------------------------------------------------------- metrics


def metrics_rows(metrics: dict[str, Any]) -> list[list[str]]:
    """``cadenza eval``'s metrics as table rows: metric, value, interval or spread, note."""
    rows = []
    for key in ("fad", "fad_infinity", "kid", "c2st", "c2st_fine", "pis", "iis", "pkid",
                "ikid"):
        value = metrics.get(key)
        if not isinstance(value, dict):
            continue
        if "accuracy" in value:  # C2ST: 0.5 = indistinguishable
            rows.append([key, _number(value["accuracy"]),
                         f"[{_number(value['ci_low'])}, {_number(value['ci_high'])}]",
                         "0.5 = indistinguishable"])
        elif "ci_low" in value:
            rows.append([key, _number(value["value"]),
                         f"[{_number(value['ci_low'])}, {_number(value['ci_high'])}]", ""])
        elif "value" in value:
            rows.append([key, _number(value["value"]), "", ""])
        elif "mean" in value:
            reference = value.get("reference_mean")
            rows.append([key, _number(value["mean"]), f"± {_number(value['std'])}",
                         "" if reference is None else f"reference {_number(reference)}"])
    for feature, statistic in (metrics.get("ks") or {}).items():
        rows.append([f"ks {feature}", _number(statistic), "", "Kolmogorov-Smirnov"])
    return rows


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) else str(value)


def short_error(message: str, folders: list[Path]) -> str:
    """``message`` with the app's own temporary folders cut from the file names in it: the
    user sees ``take.wav``, not where the server keeps its uploads."""
    for folder in folders:
        message = re.sub(re.escape(str(folder)) + r"/(?:[^/\s]+/)*", "", message)
    return message
