"""The ``cadenza`` command line: a thin layer over the Python API."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cadenza.oracle import SPECTRA
from cadenza.plan import STRATEGIES
from cadenza.sampling import METHODS, is_stochastic
from cadenza.version import __version__

app = typer.Typer(
    help="Diffusion models of music audio.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cadenza {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Diffusion models of music audio."""


def _parse_calls(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--calls takes comma-separated integers, got {text!r}") from None


@app.command()
def demo(
    out: Path = typer.Option(Path("cadenza-demo"), help="Folder for report.html and results."),
    spectrum: str = typer.Option("all", help=f"One of {', '.join(SPECTRA)}, or all."),
    calls: str = typer.Option("5,10,20,50", help="Budgets of model calls, comma-separated."),
    clips: int = typer.Option(2, help="Piano clips per shipped model (0: none)."),
    seconds: float = typer.Option(6.0, help="Length of each piano clip."),
    extend: float = typer.Option(30.0, help="Extend a 5 s prompt to this many seconds (> 5) "
                                            "and fill a gap in it (0: skip)."),
) -> None:
    """Generate piano with the shipped models, compare the samplers exactly; an HTML report."""
    from cadenza.demo import run_demo  # matplotlib loads only when needed

    if clips < 0 or seconds <= 0 or extend < 0:
        raise ValueError("--clips and --extend must be >= 0 and --seconds positive")
    spectra = list(SPECTRA) if spectrum == "all" else [spectrum]
    path = run_demo(out, spectra, _parse_calls(calls), music_seconds=seconds, music_clips=clips,
                    extend_seconds=extend)
    typer.echo(f"report: {path}")


data_app = typer.Typer(help="Datasets: check a folder, build caches, render the piano corpus.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("scan")
def data_scan(
    folder: Path = typer.Argument(..., help="Folder of recordings, searched recursively."),
    out: Path = typer.Option(None, help="Manifest to write (default FOLDER/manifest.json)."),
    min_seconds: float = typer.Option(1.0, help="Shorter files are skipped and reported."),
) -> None:
    """Check every audio file into a manifest; unusable files are named and skipped."""
    from cadenza.data.dataset import scan

    manifest = scan(folder, min_seconds=min_seconds)
    path = manifest.save(out or folder / "manifest.json")
    typer.echo(manifest.report())
    typer.echo(f"manifest: {path}")


def _parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes i/n, e.g. 0/4, got {text!r}") from None
    return index, count


@data_app.command("prepare")
def data_prepare(
    folder: Path = typer.Argument(..., help="Folder of recordings (or a manifest.json)."),
    cache: Path = typer.Argument(..., help="Cache folder to create or finish."),
    representation: str = typer.Option("mel", help="waveform, mel, packed_mel or complex_stft."),
    sample_rate: int = typer.Option(22050, help="Audio is resampled to this rate first."),
    chunk_seconds: float = typer.Option(4.0, help="Length of each cached example."),
    channels: int = typer.Option(1, help="1 = mono (averaged), 2 = stereo."),
    files_per_shard: int = typer.Option(16, help="Files encoded into one shard file."),
    workers: int = typer.Option(1, help="Processes encoding shards in parallel."),
    shard: str = typer.Option("0/1", help="This machine's slice i/n of the shards."),
    min_seconds: float = typer.Option(1.0, help="Shorter files are skipped and reported."),
) -> None:
    """Encode a collection into sharded, resumable caches; re-run to finish an interrupted job."""
    from cadenza.data.dataset import Manifest, scan
    from cadenza.data.prepare import prepare
    from cadenza.representations import representation as build

    if folder.suffix == ".json":
        manifest = Manifest.load(folder)
    else:
        manifest = scan(folder, min_seconds=min_seconds)
        typer.echo(manifest.report())
    if not manifest.entries:
        raise ValueError(f"{folder}: no usable recordings")
    summary = prepare(
        manifest,
        cache,
        build(representation, sample_rate=sample_rate),
        chunk_seconds=chunk_seconds,
        channels=channels,
        files_per_shard=files_per_shard,
        workers=workers,
        shard=_parse_shard(shard),
    )
    typer.echo(
        f"{summary['encoded']} shards encoded, {summary['skipped']} already done, "
        f"of this slice's {summary['shards']}: {cache}"
    )


@data_app.command("piano")
def data_piano(
    out: Path = typer.Argument(..., help="Folder for train/, validation/, test/ and corpus.json."),
    minutes: float = typer.Option(10.0, help="Minutes of audio to render."),
    renderer: str = typer.Option("auto", help="auto (FluidSynth if installed), fluidsynth, synth."),
    sample_rate: int = typer.Option(22050, help="Sample rate of the wavs."),
    seed: int = typer.Option(0, help="Seed of the split and the performance details."),
    soundfont: Path = typer.Option(None, help="General MIDI soundfont for FluidSynth."),
) -> None:
    """Render real compositions from music21's corpus to piano audio, split by piece."""
    from cadenza.data.piano import build_piano_corpus

    summary = build_piano_corpus(out, minutes, sample_rate=sample_rate, renderer=renderer,
                                 seed=seed, soundfont=soundfont)
    typer.echo(_corpus_line(summary, out))


@data_app.command("notes")
def data_notes(
    out: Path = typer.Argument(..., help="Folder for the wavs, labels.csv and note_set.json."),
    renderer: str = typer.Option("auto", help="auto (FluidSynth if installed), fluidsynth, synth."),
    seconds: float = typer.Option(2.0, help="Length of each note file."),
    sample_rate: int = typer.Option(22050, help="Sample rate of the wavs."),
    seed: int = typer.Option(0, help="Seed of the split."),
    soundfont: Path = typer.Option(None, help="General MIDI soundfont for FluidSynth."),
) -> None:
    """Render the labelled single-note set (pitch x velocity x instrument)."""
    from cadenza.data.note_set import build_note_set

    summary = build_note_set(out, seconds=seconds, sample_rate=sample_rate, renderer=renderer,
                             seed=seed, soundfont=soundfont)
    typer.echo(_corpus_line(summary, out))


def _corpus_line(summary: dict, out: Path) -> str:
    facts = {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}
    return ", ".join(f"{k}: {v}" for k, v in facts.items()) + f" -> {out}"


@app.command()
def train(
    preset: str = typer.Option(..., help="A bundled preset name or a .yaml file."),
    data: Path = typer.Option(..., help="Folder of recordings, or a `cadenza data prepare` cache."),
    out: Path = typer.Option(..., help="Run folder: checkpoints, logs, samples, model/."),
    set_: list[str] = typer.Option([], "--set", help="Override, e.g. training.steps=2000."),
) -> None:
    """Train a preset; re-running the same command resumes from the last checkpoint."""
    from cadenza.presets import load_preset
    from cadenza.train import train as run_training

    folder = run_training(load_preset(preset, set_), data, out)
    typer.echo(f"model: {folder}")


@app.command()
def export(
    run: Path = typer.Argument(..., help="A training run folder (cadenza train --out)."),
    data: Path = typer.Option(..., help="The run's training data (its statistics are refitted)."),
    out: Path = typer.Option(..., help="The model (or vocoder) folder to write."),
) -> None:
    """Export a run's newest checkpoint (EMA weights) as a model folder, while it trains."""
    from cadenza.train import export as export_run

    typer.echo(f"model: {export_run(run, data, out)}")


@app.command()
def distill(
    teacher: str = typer.Argument(..., help="The teacher: a model folder or a shipped model's "
                                            "name."),
    rounds: int = typer.Option(..., help="Distillation rounds; each halves the steps."),
    out: Path = typer.Option(..., help="Run folder: round-1/, round-2/, ... and model/ (the "
                                       "last student)."),
    data: Path = typer.Option(..., help="The teacher's training data: a folder of recordings "
                                        "or a `cadenza data prepare` cache."),
    start_steps: int = typer.Option(1024, help="The teacher's steps; round K's student has "
                                               "start_steps / 2^K."),
    steps_per_round: int = typer.Option(2000, help="Optimizer steps per round."),
    batch_size: int = typer.Option(None, help="Examples per step (default: the teacher's)."),
    learning_rate: float = typer.Option(1e-4, help="Peak learning rate of every round."),
    weighting: str = typer.Option("snr_trunc", help="Loss weight: snr_trunc = max(SNR, 1) or "
                                                    "snr+1 (the v loss)."),
    sigma_max: float = typer.Option(None, help="Top of the step grid (default: the objective's "
                                               "for v / edm teachers, the teacher's own first "
                                               "sigma for eps teachers)."),
    seed: int = typer.Option(0, help="Seed of the noise draws (round K uses seed + K - 1)."),
    set_: list[str] = typer.Option([], "--set", help="Other training options, e.g. "
                                                     "training.ema_decay=0.9999."),
) -> None:
    """Progressive distillation (seed 001): halve the teacher's DDIM steps, round after round;
    re-running the same command resumes where it stopped."""
    from cadenza.distill import distill as run_distillation
    from cadenza.presets import apply_override

    training: dict = {"training": {}}
    for override in set_:
        if not override.strip().startswith("training."):
            raise ValueError(f"--set {override!r}: distill takes training.* options only")
        apply_override(training, override)
    folder = run_distillation(
        teacher, out, rounds=rounds, start_steps=start_steps, steps_per_round=steps_per_round,
        data=data, batch_size=batch_size, learning_rate=learning_rate, weighting=weighting,
        sigma_max=sigma_max, seed=seed, training=training["training"])
    typer.echo(f"model: {folder}")


@app.command("train-classifier")
def train_classifier_(
    notes: Path = typer.Argument(..., help="A note set made by `cadenza data notes`."),
    target: str = typer.Option("pitch", help="What to classify: pitch or instrument."),
    out: Path = typer.Option(..., help="Folder for the classifier (replaced when done)."),
    steps: int = typer.Option(1500, help="Training steps (batches of 32 one-second crops)."),
    seed: int = typer.Option(0, help="Seed of the initialisation, batches and augmentation."),
) -> None:
    """Train a pitch or instrument classifier on a note set (for PIS, IIS, PKID, IKID)."""
    from cadenza.metrics.classifier import TARGETS, train_classifier

    if target not in TARGETS:
        raise ValueError(f"--target must be one of {', '.join(TARGETS)}, got {target!r}")
    summary = train_classifier(notes, out, target=target, steps=steps, seed=seed)
    test = summary["test_accuracy"]
    typer.echo(f"validation accuracy {summary['validation_accuracy']:.1%} "
               f"({summary['notes_per_split']['validation']} notes, chance "
               f"{summary['chance']:.1%})"
               + ("" if test is None else f", test accuracy {test:.1%}")
               + f"; {summary['parameters']} parameters, {summary['seconds']:.0f} s")
    typer.echo(f"classifier: {out}")


@app.command()
def generate(
    model: Path = typer.Option(None, help="A trained model folder or a shipped model's name "
                               "(default: the shipped piano, tiny-piano-mel)."),
    seconds: float = typer.Option(4.0, help="Length of each clip."),
    batch: int = typer.Option(1, help="How many clips."),
    seed: int = typer.Option(0, help="The same seed gives the same audio."),
    steps: int = typer.Option(None, help="Sampler steps (default: the model's)."),
    sampler: str = typer.Option(None, help="Sampler name (default: the model's); see `methods`."),
    out: Path = typer.Option(Path("cadenza-out"), help="Folder for the wavs and generate.json."),
) -> None:
    """Generate unconditional audio with a trained model."""
    import time

    from cadenza import tasks
    from cadenza.atomic import write_json
    from cadenza.data import audio
    from cadenza.pipeline import load, model_folder

    model = model_folder(model)
    if seconds <= 0 or batch < 1:
        raise ValueError("--seconds must be positive and --batch at least 1")
    pipeline = load(model)
    plan = pipeline.plan(None, sampler, steps)
    started = time.perf_counter()
    waves = tasks.generate(pipeline, seconds, batch, seed=seed, plan=plan, progress=True)
    elapsed = time.perf_counter() - started
    paths = [
        str(audio.write(out / f"clip-{seed}-{i}.wav", wave.numpy(), pipeline.sample_rate))
        for i, wave in enumerate(waves)
    ]
    write_json(out / "generate.json", {
        "task": "generate", "model": str(model), "seconds": seconds, "batch": batch,
        "seed": seed, "plan": plan.record(), "files": paths,
        "elapsed_seconds": round(elapsed, 3), "cadenza": __version__,
    })
    typer.echo("\n".join(paths))


# ---------------------------------------------------------------------------- editing
# The editing commands share their options; each one is a thin call of a Pipeline method.

MODEL = typer.Option(None, help="A trained model folder or a shipped model's name (default: "
                     "the shipped piano, tiny-piano-mel).")
SEED = typer.Option(0, help="The same seed gives the same audio.")
STEPS = typer.Option(None, help="Sampler steps (default: the model's).")
SAMPLER = typer.Option(None, help="Sampler name (default: the model's); see `methods`.")
STRATEGY = typer.Option("replace", help="How the known audio enters sampling: replace, "
                        "repaint (RePaint, Lugmayr et al. 2022), repaint-fast (RePaint's "
                        "fidelity at about 1/6 of its cost; sets its own sampler and steps "
                        "unless given), interp (interpolation guidance) or project (the known "
                        "audio pasted into each denoised estimate).")
JUMP_LENGTH = typer.Option(None, help="repaint: steps between jumps back up (default: "
                           f"{STRATEGIES['repaint']['jump_length']}; repaint-fast "
                           f"{STRATEGIES['repaint-fast']['jump_length']}).")
RESAMPLE = typer.Option(None, help="repaint: passes over each jump (default: "
                        f"{STRATEGIES['repaint']['resample']}; repaint-fast "
                        f"{STRATEGIES['repaint-fast']['resample']}).")
LAMBDA_CURVE = typer.Option(None, help="interp: the lambda curve, seed (the published one) or "
                            f"linear (default: {STRATEGIES['interp']['lambda_curve']}).")
STRENGTH = typer.Option(0.5, help="Fraction of the schedule to run, in (0, 1]: "
                                  "1 starts from noise, small stays close to the input.")


def _strategy_options(strategy: str, jump_length: int | None, resample: int | None,
                      lambda_curve: str | None) -> dict:
    """The options the user gave that apply to ``strategy`` (the plan fills in the rest)."""
    given = {"jump_length": jump_length, "resample": resample, "lambda_curve": lambda_curve}
    applies = STRATEGIES.get(strategy, {})
    return {key: value for key, value in given.items() if value is not None and key in applies}


def _run_edit(task: str, model: Path | None, inputs: list[Path], out: Path, seed: int,
              choices: dict, settings: dict) -> None:
    """Load the model, resolve its plan from ``choices`` (strategy, sampler, steps, strategy
    options), read ``inputs`` at its rate, run ``cadenza.tasks.<task>`` with the plan and
    ``settings``, write the wav and, beside it, a .json record holding the plan verbatim."""
    import time

    import torch

    from cadenza import tasks
    from cadenza.atomic import write_json
    from cadenza.data import audio
    from cadenza.pipeline import load, model_folder

    if out.suffix.lower() != ".wav":
        raise ValueError(f"--out must name a .wav file, got {out}")
    for path in inputs:  # a wrong file fails before the model loads
        audio.info(path)
    model = model_folder(model)
    started = time.perf_counter()
    pipeline = load(model)
    plan = pipeline.plan(**choices)
    waves = [torch.from_numpy(audio.load(path, pipeline.sample_rate,
                                         channels=pipeline.channels)[0]) for path in inputs]
    loaded = time.perf_counter()
    run = {"seed": seed, "plan": plan, "progress": True, **settings}
    if task == "extend":  # streamed: hours of audio never sit in memory
        chunks = tasks.extend_chunks(pipeline, waves[0][None], **run)
        with audio.open_wav(out, pipeline.sample_rate, pipeline.channels) as append:
            for chunk in chunks:
                append(chunk[0].numpy())
    else:
        audio.write(out, getattr(tasks, task)(pipeline, *waves, **run).numpy(),
                    pipeline.sample_rate)
    finished = time.perf_counter()
    write_json(out.with_suffix(".json"), {
        "task": task, "model": str(model), "seed": seed, "plan": plan.record(), **settings,
        "inputs": [str(path) for path in inputs],
        "input_seconds": [round(wave.shape[-1] / pipeline.sample_rate, 6) for wave in waves],
        "output": str(out),
        "output_seconds": round(audio.info(out).seconds, 6),
        "timings_seconds": {"load": round(loaded - started, 3),
                            "run": round(finished - loaded, 3)},
        "cadenza": __version__,
    })
    typer.echo(str(out))


def _parse_gaps(text: str) -> list[tuple[float, float]]:
    try:
        pairs = [part.split("-") for part in text.split(",") if part.strip()]
        return [(float(start), float(end)) for start, end in pairs]
    except ValueError:
        raise ValueError(f"--gaps takes start-end seconds, comma-separated (e.g. 3-5,6.5-7), "
                         f"got {text!r}") from None


def _edit_choices(strategy: str | None, sampler: str | None, steps: int | None,
                  jump_length: int | None = None, resample: int | None = None,
                  lambda_curve: str | None = None) -> dict:
    options = {} if strategy is None else _strategy_options(strategy, jump_length, resample,
                                                            lambda_curve)
    return {"strategy": strategy, "sampler": sampler, "steps": steps, **options}


@app.command()
def extend(
    prompt: Path = typer.Argument(..., help="Audio to continue."),
    seconds: float = typer.Option(..., help="Seconds of new audio to add."),
    out: Path = typer.Option(..., help="The wav to write (streamed; a .json goes beside it)."),
    window: float = typer.Option(5.0, help="Seconds sampled per pass."),
    context: float = typer.Option(4.0, help="Seconds of each window that are known audio."),
    regenerate_context: bool = typer.Option(
        False, help="Each pass rewrites the last context seconds, crossfaded in (as the "
                    "long-form extension paper did) instead of keeping them."),
    crossfade: float = typer.Option(0.05, help="With --regenerate-context: seam crossfade, s."),
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    strategy: str = STRATEGY, jump_length: int = JUMP_LENGTH, resample: int = RESAMPLE,
    lambda_curve: str = LAMBDA_CURVE,
) -> None:
    """Continue a piece without length limit, a window at a time."""
    _run_edit("extend", model, [prompt], out, seed,
              _edit_choices(strategy, sampler, steps, jump_length, resample, lambda_curve),
              {"seconds": seconds, "window_seconds": window, "context_seconds": context,
               "keep_prompt": not regenerate_context, "crossfade_seconds": crossfade})


@app.command()
def inpaint(
    audio: Path = typer.Argument(..., help="Audio with parts to redo."),
    gaps: str = typer.Option(..., help="Spans to regenerate, in seconds: 3-5,6.5-7."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    strategy: str = STRATEGY, jump_length: int = JUMP_LENGTH, resample: int = RESAMPLE,
    lambda_curve: str = LAMBDA_CURVE,
) -> None:
    """Regenerate spans of a recording; everything outside them is kept."""
    _run_edit("inpaint", model, [audio], out, seed,
              _edit_choices(strategy, sampler, steps, jump_length, resample, lambda_curve),
              {"gaps": _parse_gaps(gaps)})


@app.command()
def outpaint(
    audio: Path = typer.Argument(..., help="Audio to add to."),
    seconds: float = typer.Option(..., help="Seconds of new audio."),
    side: str = typer.Option("after", help="after or before the audio."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    strategy: str = STRATEGY, jump_length: int = JUMP_LENGTH, resample: int = RESAMPLE,
    lambda_curve: str = LAMBDA_CURVE,
) -> None:
    """Add new audio before or after a recording, in one pass."""
    _run_edit("outpaint", model, [audio], out, seed,
              _edit_choices(strategy, sampler, steps, jump_length, resample, lambda_curve),
              {"seconds": seconds, "side": side})


@app.command()
def transfer(
    audio: Path = typer.Argument(..., help="Audio to restyle."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    strength: float = STRENGTH,
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
) -> None:
    """Audio-to-audio: noise a recording part-way and let the model redo it (SDEdit)."""
    _run_edit("transfer", model, [audio], out, seed, _edit_choices(None, sampler, steps),
              {"strength": strength})


@app.command()
def interpolate(
    a: Path = typer.Argument(..., help="First audio (ratio 0)."),
    b: Path = typer.Argument(..., help="Second audio (ratio 1)."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    ratio: float = typer.Option(0.5, help="Where between A (0) and B (1)."),
    mode: str = typer.Option("slerp", help="slerp or linear mixing of the noisy encodings."),
    strength: float = STRENGTH,
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
) -> None:
    """Blend two recordings (cropped to the shorter one) through the model."""
    _run_edit("interpolate", model, [a, b], out, seed, _edit_choices(None, sampler, steps),
              {"ratio": ratio, "strength": strength, "mode": mode})


@app.command("eval")
def eval_(
    generated: Path = typer.Argument(..., help="Folder of generated audio (searched recursively)."),
    reference: Path = typer.Argument(..., help="Folder of reference audio (searched recursively)."),
    train: Path = typer.Option(None, help="Training audio: adds copy (memorisation) detection."),
    embedder: str = typer.Option("mel_stats", help="Embedding for FAD / KID: mel_stats, "
                                 "classifier (the pitch classifier's), or the path of a "
                                 "TorchScript export of VGGish, PANNs, CLAP, ... (never "
                                 "downloaded)."),
    embedder_rate: int = typer.Option(16000, help="Sample rate a TorchScript embedder expects."),
    out: Path = typer.Option(Path("cadenza-eval"), help="Folder for metrics.json and report.html."),
    seconds: float = typer.Option(4.0, help="Clip length: files are cut into clips this long."),
    rate: int = typer.Option(16000, help="Sample rate the audio is resampled to."),
    seed: int = typer.Option(0, help="Seed of the bootstrap and subset draws."),
    classifiers: bool = typer.Option(True, help="PIS, IIS, PKID, IKID with the shipped "
                                                "pitch and instrument classifiers."),
) -> None:
    """Measure generated audio against reference audio: FAD, KID, KS, PIS, IIS, copies; an HTML
    report."""
    from cadenza.evaluate import evaluate
    from cadenza.metrics.embedders import ThirdPartyModelError

    try:
        result = evaluate(generated, reference, train_dir=train, embedder=embedder,
                          sample_rate=rate, clip_seconds=seconds, out_dir=out, seed=seed,
                          classifiers=classifiers, embedder_rate=embedder_rate)
    except ThirdPartyModelError as error:
        raise ValueError(str(error)) from None
    sets = result["sets"]
    typer.echo("; ".join(f"{name}: {s['clips']} clips from {s['files']} files"
                         + (f" ({len(s['skipped'])} skipped)" if s["skipped"] else "")
                         for name, s in sets.items()))
    for name, s in sets.items():
        for item in s["skipped"]:
            typer.echo(f"  skipped ({name}) {item['path']}: {item['reason']}")
    fad, inf, kid, ks = result["fad"], result["fad_infinity"], result["kid"], result["ks"]
    two = result["c2st"]
    typer.echo(f"C2ST: {two['unavailable']}" if "unavailable" in two else
               f"C2ST accuracy {two['accuracy']:.3f} (95% CI {two['ci_low']:.3f} to "
               f"{two['ci_high']:.3f}, {two['clips']} clips; 0.5 = indistinguishable)")
    typer.echo(f"FAD {fad['value']:.4g} (95% CI {fad['ci_low']:.4g} to {fad['ci_high']:.4g})"
               + (f", FAD-inf {inf['value']:.4g} (r2 {inf['r2']:.3f})" if inf else ""))
    typer.echo(f"KID {kid['mean']:.4g} +- {kid['std']:.2g} ({kid['subsets']} subsets of "
               f"{kid['subset_size']})")
    typer.echo("KS D: " + ", ".join(
        f"{name} {'n/a' if ks[name] is None else format(ks[name], '.3f')}" for name in ks))
    if result["pis"] is not None or result["iis"] is not None:
        typer.echo(", ".join(
            f"{key.upper()} {result[key]['mean']:.3g} +- {result[key]['std']:.2g}"
            + (f" (reference {result[key]['reference_mean']:.3g})" if "reference_mean" in
               result[key] else "")
            for key in ("pis", "iis", "pkid", "ikid") if result[key] is not None))
    elif classifiers:
        typer.echo(f"classifiers not used: {result['classifiers']['unavailable']}")
    copies = result["copies"]
    if copies:
        typer.echo(f"copies: generated p95 {copies['generated_nn_p95']:.3f} vs train p95 "
                   f"{copies['train_nn_p95']:.3f} (gap {copies['gap']:+.3f}); "
                   f"{copies['pairs_above_0.90']} clips above 0.90")
    typer.echo(f"metrics: {result['files']['metrics']}")
    typer.echo(f"report: {result['files']['report']}")


@app.command()
def methods() -> None:
    """List the samplers."""
    for name in METHODS:
        typer.echo(f"{name} (stochastic)" if is_stochastic(name) else name)


def main() -> None:
    """Entry point: user mistakes print one line and exit 2, never a traceback."""
    try:
        app()
    except (ValueError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
