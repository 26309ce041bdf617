"""Commands that make things: the demo, data sets, trained, exported and distilled models."""

from __future__ import annotations

from pathlib import Path

import typer

from cadenza.cli.app import app, data_app
from cadenza.oracle import SPECTRA


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
    """Hear the shipped models and compare the samplers.

    Generates piano with each shipped model, extends and gap-fills a Bach prompt, and scores
    every sampler against the exact Gaussian oracle; writes an HTML report."""
    from cadenza.demo import run_demo  # matplotlib loads only when needed

    if clips < 0 or seconds <= 0 or extend < 0:
        raise ValueError("--clips and --extend must be >= 0 and --seconds positive")
    spectra = list(SPECTRA) if spectrum == "all" else [spectrum]
    path = run_demo(out, spectra, _parse_calls(calls), music_seconds=seconds, music_clips=clips,
                    extend_seconds=extend)
    typer.echo(f"report: {path}")


@data_app.command("scan")
def data_scan(
    folder: Path = typer.Argument(..., help="Folder of recordings, searched recursively."),
    out: Path = typer.Option(None, help="Manifest to write (default FOLDER/manifest.json)."),
    min_seconds: float = typer.Option(1.0, help="Shorter files are skipped and reported."),
) -> None:
    """Check every audio file into a manifest.

    Unusable files are named and skipped, with the reason, as are links that loop or dangle
    and folders named like audio files."""
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
    """Encode recordings into sharded, resumable caches.

    Re-run the same command to finish an interrupted job."""
    from cadenza.data.dataset import Manifest, scan
    from cadenza.data.prepare import prepare
    from cadenza.representations import representation as build

    # The options first: a typo should not wait for a scan of hours of audio.
    if sample_rate < 1000:
        raise ValueError(f"--sample-rate must be at least 1000 Hz, got {sample_rate}")
    rep = build(representation, sample_rate=sample_rate)
    if not (0 < chunk_seconds < float("inf")) or channels < 1 or files_per_shard < 1 \
            or workers < 1:
        raise ValueError("--chunk-seconds must be positive and --channels, --files-per-shard "
                         "and --workers at least 1")
    shard_index = _parse_shard(shard)
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
        rep,
        chunk_seconds=chunk_seconds,
        channels=channels,
        files_per_shard=files_per_shard,
        workers=workers,
        shard=shard_index,
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
    """Render music21's compositions as piano audio.

    Pieces are split into train/, validation/ and test/ by piece, never by crop; the
    command says how it split. With too few minutes for a piece per split, every piece is
    cut shorter so that each split gets one."""
    from cadenza.data.piano import build_piano_corpus

    summary = build_piano_corpus(out, minutes, sample_rate=sample_rate, renderer=renderer,
                                 seed=seed, soundfont=soundfont)
    typer.echo(_corpus_line(summary, out))
    typer.echo(summary["split_summary"])


@data_app.command("notes")
def data_notes(
    out: Path = typer.Argument(..., help="Folder for the wavs, labels.csv and note_set.json."),
    renderer: str = typer.Option("auto", help="auto (FluidSynth if installed), fluidsynth, synth."),
    seconds: float = typer.Option(2.0, help="Length of each note file."),
    sample_rate: int = typer.Option(22050, help="Sample rate of the wavs."),
    seed: int = typer.Option(0, help="Seed of the split."),
    soundfont: Path = typer.Option(None, help="General MIDI soundfont for FluidSynth."),
) -> None:
    """Render the labelled single-note set.

    Every pitch x velocity x instrument, split so that each split sees every class."""
    from cadenza.data.note_set import build_note_set

    summary = build_note_set(out, seconds=seconds, sample_rate=sample_rate, renderer=renderer,
                             seed=seed, soundfont=soundfont)
    typer.echo(_corpus_line(summary, out))


def _corpus_line(summary: dict, out: Path) -> str:
    facts = {k: v for k, v in summary.items()
             if isinstance(v, (int, float, str)) and k != "split_summary"}
    return ", ".join(f"{k}: {v}" for k, v in facts.items()) + f" -> {out}"


@app.command()
def train(
    preset: str = typer.Option(..., help="A bundled preset name or a .yaml file."),
    data: Path = typer.Option(..., help="Folder of recordings, or a `cadenza data prepare` cache."),
    out: Path = typer.Option(..., help="Run folder: checkpoints, logs, samples, model/."),
    set_: list[str] = typer.Option([], "--set", help="Override, e.g. training.steps=2000."),
) -> None:
    """Train a preset.

    Re-running the same command resumes from the last checkpoint."""
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
    """Export a run's newest checkpoint as a model folder.

    Takes the EMA weights; works while the run trains."""
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
    """Progressive distillation (Salimans & Ho 2022).

    Each round trains a student to take one DDIM step for two of its teacher's, halving the
    steps; re-running the same command resumes where it stopped."""
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
    """Train a pitch or instrument note classifier.

    Trained on a note set from `cadenza data notes`; used for PIS, IIS, PKID and IKID."""
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
