"""The demo: every sampler on the Gaussian oracle, exact errors against model calls, as a report.

Later issues grow it into real music; today it shows what the diffusion core is worth.
"""

from __future__ import annotations

import datetime
import platform
from pathlib import Path

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter
from tqdm.auto import tqdm

from cadenza.atomic import check_writable, write_json
from cadenza.oracle import (
    DEFAULT_SETUP,
    REFERENCE_SETUP,
    SPECTRA,
    GaussianOracle,
    SamplerSetup,
    score_sampler,
)
from cadenza.report import Report
from cadenza.sampling import METHODS
from cadenza.version import __version__

EXPLANATION = (
    "The oracle is a Gaussian prior over signals with a chosen power spectrum, so the exact "
    "denoiser is known and every number below is computed exactly, with no Monte Carlo. "
    "Distribution error: relative 2-Wasserstein distance between the law of the sampler's "
    "output and the prior (what a listener would hear: integration error, truncated noise range "
    "and start noise alike). ODE error: distance between the output and the exact "
    "probability-flow solution from the same noise, relative to the data RMS (deterministic "
    f"samplers only). First row: cadenza's default pipeline ({DEFAULT_SETUP.label()}); "
    "then every method on one common schedule: "
    f"{REFERENCE_SETUP.schedule} in sigma [{REFERENCE_SETUP.sigma_min}, "
    f"{REFERENCE_SETUP.sigma_max}]."
)


def demo_pipelines() -> list[SamplerSetup]:
    """The default, then every method on the reference schedule (3M also deterministic)."""
    pipelines = [DEFAULT_SETUP]
    for method in METHODS:
        variants = [{}, {"eta": 0.0}] if method == "dpmpp_3m_sde" else [{}]
        for options in variants:
            pipelines.append(
                SamplerSetup(
                    method,
                    REFERENCE_SETUP.schedule,
                    REFERENCE_SETUP.sigma_min,
                    REFERENCE_SETUP.sigma_max,
                    method_options=options,
                )
            )
    return pipelines


# Samplers whose updates are the same step, so their curves lie on each other.
SAME_STEP = {
    frozenset({"ddim", "euler"}): "DDIM's update is the Euler step of the probability-flow ODE "
                                  "in sigma (Karras et al. 2022)",
    frozenset({"ddpm", "euler_ancestral"}): "DDPM's ancestral step is Euler ancestral's",
}


def coinciding(rows: list[dict]) -> list[list[str]]:
    """Groups of pipelines (two or more) whose errors agree at every budget, in table order."""
    groups: dict[tuple, list[str]] = {}
    for pipeline in dict.fromkeys(row["pipeline"] for row in rows):
        errors = tuple(
            None if value is None else float(f"{value:.6g}")
            for row in rows if row["pipeline"] == pipeline
            for value in (row["distribution_error"], row["endpoint_error"]))
        groups.setdefault(errors, []).append(pipeline)
    return [names for names in groups.values() if len(names) > 1]


def coinciding_note(groups: list[list[str]]) -> str:
    """One sentence naming the curves that hide each other, and why where it is known."""
    parts = []
    for names in groups:
        methods = frozenset(name.split("/")[0] for name in names)
        why = SAME_STEP.get(methods)
        parts.append(" = ".join(names) + (f" ({why})" if why else ""))
    return ("Identical numbers, so one curve hides the other in the plots: "
            + "; ".join(parts) + ".")


def _plot(rows: list[dict], spectrum: str) -> Figure:
    from matplotlib.ticker import FixedLocator, NullFormatter

    figure = Figure(figsize=(11, 4.2))
    axes = figure.subplots(1, 2)
    colours = matplotlib.colormaps["tab20"]
    hidden = {name: " = ".join(group) for group in coinciding(rows) for name in group[1:]}
    labels = {group[0]: " = ".join(group) for group in coinciding(rows)}
    pipelines = [p for p in dict.fromkeys(row["pipeline"] for row in rows) if p not in hidden]
    budgets = sorted({row["model_calls"] for row in rows})
    for index, pipeline in enumerate(pipelines):
        mine = [row for row in rows if row["pipeline"] == pipeline]
        calls = [row["model_calls"] for row in mine]
        style = {"color": colours(index), "marker": "o", "label": labels.get(pipeline, pipeline)}
        axes[0].loglog(calls, [row["distribution_error"] for row in mine], **style)
        if mine[0]["endpoint_error"] is not None:
            axes[1].loglog(calls, [row["endpoint_error"] for row in mine], **style)
    for axis, title, ylabel in zip(
            axes, ("distribution error", "ODE endpoint error"),
            ("relative W2 to the prior", "distance to the exact ODE solution / RMS"),
            strict=True):
        axis.set_title(f"{spectrum}: {title}")
        axis.set_xlabel("model calls")
        axis.set_ylabel(ylabel)
        # One plain label per budget: log axes otherwise label minor ticks 6x10^0, 7x10^0, ...
        axis.xaxis.set_major_locator(FixedLocator(budgets))
        axis.xaxis.set_major_formatter(ScalarFormatter())
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.grid(True, which="both", alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    figure.legend(handles, names, fontsize=8, loc="upper left", bbox_to_anchor=(0.99, 0.93),
                  title="sampler/schedule", title_fontsize=8)  # beside the plots, off the data
    figure.subplots_adjust(wspace=0.3)
    return figure


def _draw_spectrogram(axis, wave, sample_rate: int, top_hz: float = 5000):
    """Power spectral density in dB (floored at -110 dB, so silence draws without a log of
    zero); returns the image for a colour bar."""
    from scipy.signal import spectrogram

    frequencies, times, power = spectrogram(wave.reshape(-1), fs=sample_rate, nperseg=1024,
                                            noverlap=768, window="hann")
    decibels = 10 * np.log10(np.maximum(power, 1e-11))
    image = axis.pcolormesh(times, frequencies, decibels, cmap="magma", vmin=-110,
                            shading="auto", rasterized=True)
    axis.set_ylim(0, min(top_hz, sample_rate / 2))
    axis.set_ylabel("frequency (Hz)")
    return image


def _colour_bar(figure: Figure, image, axis) -> None:
    figure.colorbar(image, ax=axis, pad=0.01, fraction=0.03, label="power (dB/Hz)")


def spectrogram_figure(wave, sample_rate: int, title: str) -> Figure:
    figure = Figure(figsize=(11, 2.6))
    axis = figure.subplots()
    _colour_bar(figure, _draw_spectrogram(axis, wave, sample_rate), axis)
    axis.set_xlabel("time (s)")
    axis.set_title(title)
    return figure


def music_section(report: Report, out_dir: Path, seconds: float, clips: int) -> list[dict]:
    """Generate piano with every shipped model: wavs beside the report, players inside it."""
    import time

    from cadenza import tasks
    from cadenza.checkpoint import CheckpointError
    from cadenza.data import audio
    from cadenza.pipeline import SHIPPED, load, shipped

    report.heading("Piano from the shipped models")
    records = []
    for name in SHIPPED:
        try:
            pipeline = load(shipped(name))
        except CheckpointError as error:
            report.paragraph(f"{name}: not available ({error}).")
            continue
        preset = pipeline.describe.get("preset", {})
        report.paragraph(
            f"{name}: {preset.get('description', '')}; sampler {pipeline.defaults.sampler}, "
            f"{pipeline.defaults.steps} steps; {clips} clip{'s' * (clips != 1)} of "
            f"{seconds:g} s, " + (f"seeds 0 to {clips - 1}." if clips > 1 else "seed 0.")
        )
        for seed in range(clips):
            started = time.perf_counter()
            wave = tasks.generate(pipeline, seconds, 1, seed=seed)[0].numpy()
            elapsed = time.perf_counter() - started
            path = audio.write(out_dir / f"{name}-seed{seed}.wav", wave, pipeline.sample_rate)
            report.audio(wave, pipeline.sample_rate,
                         f"{name}, seed {seed}: {wave.shape[-1] / pipeline.sample_rate:g} s of "
                         f"audio, {elapsed:.1f} s to make")
            report.figure(spectrogram_figure(wave, pipeline.sample_rate, f"{name}, seed {seed}"))
            records.append({"model": name, "seed": seed, "file": str(path),
                            "seconds": seconds, "elapsed_seconds": round(elapsed, 2)})
    return records


PROMPT_SECONDS = 5.0
"""The demo's prompt: one 5 s window, 4 s of it the known context of the first extension pass."""


def _prompt(sample_rate: int, seconds: float) -> torch.Tensor:
    """The opening of Bach's BWV 846 prelude from cadenza's own synthesiser: a real-music prompt
    that needs no download and sounds the same on every machine."""
    from cadenza.data.catalogue import catalogue
    from cadenza.data.scores import piece_notes
    from cadenza.data.synth import render_notes

    notes = piece_notes(catalogue()[0], piece_seconds=seconds + 1)
    wave = render_notes(notes, sample_rate, seconds=seconds, seed=0)
    return torch.from_numpy(wave[:1].copy())


def edit_figure(wave, sample_rate: int, marks: list[float], title: str) -> Figure:
    """Waveform, spectrogram and pitch track (YIN) of one result, with red lines at ``marks``
    (seconds) where known audio meets generated audio."""
    from cadenza.metrics.pitch import pitch_track

    wave = wave.reshape(-1)
    seconds = len(wave) / sample_rate
    from matplotlib.ticker import FixedLocator, NullFormatter

    figure = Figure(figsize=(11, 6.4))
    axes = figure.subplots(3, 1, sharex=True)
    times = torch.arange(len(wave)) / sample_rate
    axes[0].plot(times, wave, linewidth=0.3, color="black")
    axes[0].set_ylabel("amplitude\n(full scale 1)")
    image = _draw_spectrogram(axes[1], wave, sample_rate, top_hz=4000)
    track = pitch_track(wave, sample_rate, method="yin")
    axes[2].semilogy(track.times, track.f0, ".", markersize=2)
    axes[2].set_ylabel("f0 (Hz, YIN)")
    axes[2].yaxis.set_major_locator(FixedLocator([50, 100, 200, 400, 800, 1600]))
    axes[2].yaxis.set_major_formatter(ScalarFormatter())
    axes[2].yaxis.set_minor_formatter(NullFormatter())
    axes[2].set_xlabel("time (s)")
    # One bar beside all three panels keeps their time axes aligned.
    figure.colorbar(image, ax=list(axes), pad=0.01, fraction=0.03,
                    label="spectrogram power (dB/Hz)")
    for axis in axes:
        for mark in marks:
            axis.axvline(mark, color="red", linewidth=1)
        axis.set_xlim(0, seconds)
    axes[0].set_title(title)
    return figure


def editing_section(report: Report, out_dir: Path, prompt_seconds: float, extend_to: float,
                    gap: tuple[float, float]) -> list[dict]:
    """Extend a real prompt to ``extend_to`` seconds and fill a gap in it (the default model)."""
    import time

    from cadenza import tasks
    from cadenza.data import audio
    from cadenza.loudness import integrated_loudness
    from cadenza.metrics.continuity import continuity, join_dips
    from cadenza.pipeline import load, shipped

    pipeline = load(shipped())
    rate = pipeline.sample_rate
    prompt = _prompt(rate, prompt_seconds)
    report.heading("Editing real music with the shipped model")
    plan = pipeline.edit_plan()
    report.paragraph(
        f"Prompt: the first {prompt_seconds:g} s of Bach's BWV 846 prelude rendered by "
        f"cadenza's synthesiser. Extension to {extend_to:g} s in "
        f"{tasks.EXTEND_WINDOW_SECONDS:g} s windows whose first "
        f"{tasks.EXTEND_CONTEXT_SECONDS:g} s are known audio (the layout of Wang and Kang's "
        "pseudo-autoregressive piano "
        f"synthesis) and gap filling of {gap[0]:g}-{gap[1]:g} s, both with the model's own "
        f"editing strategy, {plan.strategy} (sampler {plan.sampler}, {plan.steps} steps). "
        "Red lines: where known audio meets generated audio. The tiny model learned "
        "piano texture, not Bach: listen for continuity of timbre and loudness."
    )
    records = []
    jobs = [
        ("extended", [prompt_seconds], lambda: tasks.extend(
            pipeline, prompt, extend_to - prompt_seconds, seed=0, plan=plan, progress=True)),
        ("gap-filled", list(gap), lambda: tasks.inpaint(
            pipeline, prompt, [gap], seed=0, plan=plan)),
    ]
    audio.write(out_dir / "prompt.wav", prompt.numpy(), rate)
    report.audio(prompt.numpy(), rate, "prompt")
    for name, marks, job in jobs:
        started = time.perf_counter()
        wave = job().numpy()
        elapsed = time.perf_counter() - started
        path = audio.write(out_dir / f"{name}.wav", wave, rate)
        record = {"task": name, "file": str(path), "seconds": round(wave.shape[-1] / rate, 3),
                  "elapsed_seconds": round(elapsed, 2)}
        report.audio(wave, rate, f"{name}: {wave.shape[-1] / rate:g} s of audio, "
                                 f"{elapsed:.1f} s to make")
        report.figure(edit_figure(wave, rate, marks, name),
                      f"{name}: waveform, spectrogram and pitch track (YIN)")
        if name == "extended":
            seam = round(prompt_seconds * rate)
            # Loudness over 3 s either side (EBU R 128's short-term window), as the editing
            # benchmark measures it: over 0.5 s a note struck after the seam reads as a jump.
            scores = continuity(wave[:, :seam], wave[:, seam:], rate, seam_seconds=3.0)
            scores["loudness_prompt_lufs"] = integrated_loudness(wave[:, :seam], rate)
            scores["loudness_continuation_lufs"] = integrated_loudness(wave[:, seam:], rate)
            # extend's default windows: a join every stride from the seam on.
            stride = tasks.EXTEND_WINDOW_SECONDS - tasks.EXTEND_CONTEXT_SECONDS
            joins = [float(t) for t in np.arange(prompt_seconds + stride, extend_to, stride)]
            scores.update(join_dips(wave, rate, joins, since=prompt_seconds))
            record["continuity"] = scores
            report.heading(f"Does the extension carry on its prompt? (seam at "
                           f"{prompt_seconds:g} s)")
            report.paragraph("Model-free measures of the generated audio after the seam "
                             "against the prompt before it (cadenza.metrics.continuity).")
            report.table(continuity_rows(scores), ["measure", "value", "what it means"])
        records.append(record)
    return records


def continuity_rows(scores: dict) -> list[dict]:
    """The continuity scores as table rows, each with its unit and what it means."""
    from cadenza.metrics.continuity import DIP_DB

    return [
        {"measure": "chroma cosine", "value": f"{scores['chroma_cosine']:.3f}",
         "what it means": "similarity of the pitch-class content before and after the seam "
                          "(1 = the same harmony)"},
        {"measure": "key: prompt / continuation",
         "value": f"{scores['key_prompt']} / {scores['key_continuation']} "
                  f"(score {scores['key_score']:.1f})",
         "what it means": "Krumhansl-Kessler key estimate of each side; MIREX's score of the "
                          "second against the first (1 the same, 0.5 a fifth away, 0.3 "
                          "relative, 0.2 parallel, 0 unrelated)"},
        {"measure": "onset rate ratio", "value": f"{scores['onset_rate_ratio']:.2f}",
         "what it means": "notes per second after the seam / before it (1 = the same pace)"},
        {"measure": "loudness: prompt / continuation",
         "value": f"{scores['loudness_prompt_lufs']:.1f} / "
                  f"{scores['loudness_continuation_lufs']:.1f} LUFS",
         "what it means": "BS.1770 integrated loudness of each side as a whole (the same = "
                          "the continuation holds the prompt's level)"},
        {"measure": "joins with a hole",
         "value": f"{scores['joins_dipping']:.0%} (median {scores['join_dip_db']:+.1f} dB)",
         "what it means": f"window joins where the level falls more than {DIP_DB:g} dB under "
                          "its median just before the join (in real music, rare)"},
        {"measure": "loudness jump", "value": f"{scores['loudness_jump_db']:+.1f} dB",
         "what it means": "RMS level over 3 s after the seam minus over 3 s before it (0 dB = no "
                          "jump)"},
        {"measure": "seam flux ratio", "value": f"{scores['seam_flux_ratio']:.2f}",
         "what it means": "spectral change across the seam / its typical value elsewhere (1 "
                          "or below = no more abrupt than the music around it)"},
    ]


def run_demo(
    out_dir: Path | str,
    spectra: list[str],
    calls: list[int],
    *,
    music_seconds: float = 6.0,
    music_clips: int = 2,
    extend_seconds: float = 30.0,
) -> Path:
    """Piano from the shipped models (``music_clips`` > 0), a 5 s prompt extended to
    ``extend_seconds`` and a gap filled (``extend_seconds`` > 0), then every sampler on the oracle.

    Writes report.html, the wavs, results.json and run.json into ``out_dir``.
    """
    unknown = [name for name in spectra if name not in SPECTRA]
    if unknown:
        raise ValueError(f"unknown spectrum {unknown[0]!r}; choose from {', '.join(SPECTRA)}")
    if not calls or min(calls) < 1:
        raise ValueError("--calls needs positive budgets of model calls, e.g. 5,10,20,50")
    out_dir = check_writable(out_dir)  # before minutes of work, not after
    pipelines = demo_pipelines()
    report = Report("cadenza demo")
    music = music_section(report, out_dir, music_seconds, music_clips) if music_clips else []
    if extend_seconds:
        if extend_seconds <= PROMPT_SECONDS:
            raise ValueError(f"extend_seconds must be above the {PROMPT_SECONDS:g} s prompt")
        music += editing_section(report, out_dir, PROMPT_SECONDS, extend_seconds, (2.0, 3.0))
    report.heading("Samplers on the exact Gaussian oracle")
    report.paragraph(EXPLANATION)
    results = []
    progress = tqdm(total=len(spectra) * len(pipelines) * len(calls), desc="demo", unit="run")
    for spectrum in spectra:
        oracle = GaussianOracle.from_spectrum(spectrum, 256)
        rows = []
        for pipeline in pipelines:
            for budget in calls:
                rows.append({"spectrum": spectrum, "budget": budget,
                             **score_sampler(oracle, pipeline, budget)})
                progress.update()
        results.extend(rows)
        table = []
        for pipeline in dict.fromkeys(row["pipeline"] for row in rows):
            mine = {row["budget"]: row for row in rows if row["pipeline"] == pipeline}
            line = {"pipeline": pipeline}
            line.update({f"W2 @{b}": mine[b]["distribution_error"] for b in calls})
            line.update({f"ODE @{b}": mine[b]["endpoint_error"] for b in calls})
            table.append(line)
        report.heading(f"Oracle: {spectrum} spectrum")
        report.paragraph(
            "Each sampler's distribution error (W2 @ N: relative 2-Wasserstein distance to the "
            "prior) and ODE endpoint error (ODE @ N: distance to the exact probability-flow "
            "solution, relative to the data RMS) at N model calls; 0 is exact. A dash: a "
            "stochastic sampler, which follows no single ODE solution.")
        report.table(table)
        groups = coinciding(rows)
        if groups:
            report.note(coinciding_note(groups))
        report.figure(_plot(rows, spectrum), f"{spectrum}: errors against model calls (log "
                                             "axes; samplers with identical numbers share a "
                                             "curve)")
    progress.close()
    settings = {"spectra": spectra, "calls": calls, "default_pipeline": DEFAULT_SETUP.label()}
    write_json(out_dir / "results.json",
                      {"settings": settings, "rows": results, "music": music})
    write_json(out_dir / "run.json", {
        **settings,
        "cadenza": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    })
    return report.write(out_dir / "report.html")
