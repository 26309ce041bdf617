"""Commands that run a model: generate, extend, inpaint, outpaint, transfer, interpolate."""

from __future__ import annotations

from pathlib import Path

import typer

from cadenza import runs
from cadenza.cli.app import app
from cadenza.plan import FAST_REPAINT_STEPS, STRATEGIES
from cadenza.tasks import EXTEND_CONTEXT_SECONDS, EXTEND_WINDOW_SECONDS


@app.command()
def generate(
    model: Path = typer.Option(None, help="A trained model folder or a shipped model's name "
                               "(default: the shipped piano, tiny-piano-mel)."),
    seconds: float = typer.Option(4.0, help="Length of each clip."),
    batch: int = typer.Option(1, help="How many clips."),
    seed: int = typer.Option(0, help="The same seed gives the same audio."),
    steps: int = typer.Option(None, help="Sampler steps (default: the model's)."),
    sampler: str = typer.Option(None, help="Sampler name (default: the model's); see `methods`."),
    loudness: str = typer.Option("model", help="Bring each clip to this loudness, in LUFS "
                                 "(ITU-R BS.1770), peaks limited to -1 dB true peak; 'model': "
                                 "the median of the model's training corpus; 'off': as the "
                                 "network makes it."),
    out: Path = typer.Option(Path("cadenza-out"), help="Folder for the wavs and generate.json."),
) -> None:
    """Generate unconditional audio with a trained model."""
    from cadenza import runs
    from cadenza.pipeline import load, model_folder

    model = model_folder(model)
    pipeline = load(model)
    plan = pipeline.plan(None, sampler, steps)
    record = runs.generate(pipeline, model, out, seconds=seconds, batch=batch, seed=seed,
                           plan=plan, loudness=runs.parse_loudness(loudness), progress=True)
    typer.echo("\n".join(record["files"]))


# ---------------------------------------------------------------------------- editing
# The editing commands share their options; each one is a thin call of a cadenza.tasks function.

MODEL = typer.Option(None, help="A trained model folder or a shipped model's name (default: "
                     "the shipped piano, tiny-piano-mel).")
SEED = typer.Option(0, help="The same seed gives the same audio.")
STEPS = typer.Option(None, help="Sampler steps (default: the model's).")
SAMPLER = typer.Option(None, help="Sampler name (default: the model's); see `methods`.")
STRATEGY = typer.Option(None, help="How the known audio enters sampling (default: the "
                        "model's own, its edit_strategy): replace, "
                        "repaint (RePaint, Lugmayr et al. 2022), repaint-fast (the fidelity "
                        "of RePaint at 200 steps for about 1/6 of its model calls; it runs "
                        f"its own sampler and {FAST_REPAINT_STEPS} steps unless given, more "
                        "calls than repaint "
                        "at the model's steps), interp (Wang and Kang's interpolation "
                        "guidance) or "
                        "project (the known audio pasted into each denoised estimate).")
JUMP_LENGTH = typer.Option(None, help="repaint: steps between jumps back up (default: "
                           f"{STRATEGIES['repaint']['jump_length']}; repaint-fast "
                           f"{STRATEGIES['repaint-fast']['jump_length']}).")
RESAMPLE = typer.Option(None, help="repaint: passes over each jump (default: "
                        f"{STRATEGIES['repaint']['resample']}; repaint-fast "
                        f"{STRATEGIES['repaint-fast']['resample']}).")
LAMBDA_CURVE = typer.Option(None, help="interp: the lambda curve, seed (the curve Wang and Kang "
                            "published) or linear (default: "
                            f"{STRATEGIES['interp']['lambda_curve']}).")
RATE = typer.Option(None, help="Sample rate of the output (default: the input's).")
CHANNELS = typer.Option(None, help="Channels of the output (default: the input's).")
BAND_FILL = typer.Option(True, help="Where the input reaches above the model's band, continue "
                         "the new audio's band from the input's (spectral band replication: "
                         "the envelope of the audio around each new region, or of the audio "
                         "it restyles); --no-band-fill leaves it empty.")
STRENGTH = typer.Option(0.5, help="Fraction of the schedule to run, in (0, 1]: "
                                  "1 starts from noise, small stays close to the input.")


def _strategy_options(strategy: str, jump_length: int | None, resample: int | None,
                      lambda_curve: str | None) -> dict:
    """The options the user gave that apply to ``strategy`` (the plan fills in the rest)."""
    given = {"jump_length": jump_length, "resample": resample, "lambda_curve": lambda_curve}
    applies = STRATEGIES.get(strategy, {})
    return {key: value for key, value in given.items() if value is not None and key in applies}


def _run_edit(task: str, model: Path | None, inputs: list[Path], out: Path, seed: int,
              choices: dict, settings: dict, rate: int | None = None,
              channels: int | None = None, band_fill: bool = True) -> None:
    """Load the model, resolve its plan from ``choices`` (sampler, steps and, for tasks with
    known audio, strategy and strategy options: see :func:`_edit_choices`), run
    ``cadenza.tasks.<task>`` with the plan and ``settings`` on ``inputs`` at the model's rate,
    and write the wav in the first input's format (or ``rate`` / ``channels``) with its known
    samples as they were, and beside it a .json record holding the plan verbatim, both formats
    and what was done to the new audio's level."""
    import time

    from cadenza import runs
    from cadenza.pipeline import load, model_folder

    if out.suffix.lower() != ".wav":
        raise ValueError(f"--out must name a .wav file, got {out}")
    runs.check_inputs(inputs)  # a wrong or too long file fails before the model loads
    model = model_folder(model)
    started = time.perf_counter()
    pipeline = load(model)
    if "strategy" in choices:
        strategy = choices["strategy"] or pipeline.edit_strategy
        plan = pipeline.edit_plan(strategy, choices["sampler"], choices["steps"],
                                  **_strategy_options(strategy, **choices["options"]))
    else:
        plan = pipeline.plan(None, choices["sampler"], choices["steps"])
    record = runs.edit(task, pipeline, model, inputs, out, seed=seed, plan=plan,
                       settings=settings, rate=rate, channels=channels, progress=True,
                       band_fill=band_fill,
                       load_seconds=time.perf_counter() - started)
    for note in record["notes"]:
        typer.echo(f"note: {note}", err=True)
    typer.echo(str(out))


def _edit_choices(strategy: str | None, sampler: str | None, steps: int | None,
                  jump_length: int | None, resample: int | None,
                  lambda_curve: str | None) -> dict:
    """A task with known audio's choices: ``strategy`` None is the model's own, and the
    options are sorted out once it is known."""
    return {"strategy": strategy, "sampler": sampler, "steps": steps,
            "options": {"jump_length": jump_length, "resample": resample,
                        "lambda_curve": lambda_curve}}


@app.command()
def extend(
    prompt: Path = typer.Argument(..., help="Audio to continue."),
    seconds: float = typer.Option(..., help="Seconds of new audio to add."),
    out: Path = typer.Option(..., help="The wav to write (streamed; a .json goes beside it)."),
    window: float = typer.Option(EXTEND_WINDOW_SECONDS, help="Seconds sampled per pass."),
    context: float = typer.Option(EXTEND_CONTEXT_SECONDS,
                                  help="Seconds of each window that are known audio."),
    regenerate_context: bool = typer.Option(
        False, help="Each pass rewrites the last context seconds, crossfaded in (as Wang and "
                    "Kang's pseudo-autoregressive piano synthesis did) instead of keeping "
                    "them."),
    crossfade: float = typer.Option(0.05, help="With --regenerate-context: seam crossfade, s."),
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    rate: int = RATE, channels: int = CHANNELS, band_fill: bool = BAND_FILL,
    strategy: str = STRATEGY, jump_length: int = JUMP_LENGTH, resample: int = RESAMPLE,
    lambda_curve: str = LAMBDA_CURVE,
) -> None:
    """Continue a piece, a window at a time.

    No length limit: each window's first --context seconds are known audio (the layout of
    Wang and Kang's pseudo-autoregressive piano synthesis)."""
    _run_edit("extend", model, [prompt], out, seed,
              _edit_choices(strategy, sampler, steps, jump_length, resample, lambda_curve),
              {"seconds": seconds, "window_seconds": window, "context_seconds": context,
               "keep_prompt": not regenerate_context, "crossfade_seconds": crossfade},
              rate=rate, channels=channels, band_fill=band_fill)


@app.command()
def inpaint(
    audio: Path = typer.Argument(..., help="Audio with parts to redo."),
    gaps: str = typer.Option(..., help="Spans to regenerate, in seconds: 3-5,6.5-7."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    rate: int = RATE, channels: int = CHANNELS, band_fill: bool = BAND_FILL,
    strategy: str = STRATEGY, jump_length: int = JUMP_LENGTH, resample: int = RESAMPLE,
    lambda_curve: str = LAMBDA_CURVE,
) -> None:
    """Regenerate spans of a recording.

    Everything outside the spans is kept."""
    _run_edit("inpaint", model, [audio], out, seed,
              _edit_choices(strategy, sampler, steps, jump_length, resample, lambda_curve),
              {"gaps": runs.parse_gaps(gaps)},
              rate=rate, channels=channels, band_fill=band_fill)


@app.command()
def outpaint(
    audio: Path = typer.Argument(..., help="Audio to add to."),
    seconds: float = typer.Option(..., help="Seconds of new audio."),
    side: str = typer.Option("after", help="after or before the audio."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    rate: int = RATE, channels: int = CHANNELS, band_fill: bool = BAND_FILL,
    strategy: str = STRATEGY, jump_length: int = JUMP_LENGTH, resample: int = RESAMPLE,
    lambda_curve: str = LAMBDA_CURVE,
) -> None:
    """Add new audio before or after a recording, in one pass."""
    _run_edit("outpaint", model, [audio], out, seed,
              _edit_choices(strategy, sampler, steps, jump_length, resample, lambda_curve),
              {"seconds": seconds, "side": side},
              rate=rate, channels=channels, band_fill=band_fill)


@app.command()
def transfer(
    audio: Path = typer.Argument(..., help="Audio to restyle."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    strength: float = STRENGTH,
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    rate: int = RATE, channels: int = CHANNELS, band_fill: bool = BAND_FILL,
) -> None:
    """Restyle a recording (SDEdit).

    SDEdit (Meng et al. 2022): the recording is noised part-way (--strength) and the model
    redoes it."""
    _run_edit("transfer", model, [audio], out, seed, {"sampler": sampler, "steps": steps},
              {"strength": strength},
              rate=rate, channels=channels, band_fill=band_fill)


@app.command()
def interpolate(
    a: Path = typer.Argument(..., help="First audio (ratio 0)."),
    b: Path = typer.Argument(..., help="Second audio (ratio 1)."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    ratio: float = typer.Option(0.5, help="Where between A (0) and B (1)."),
    mode: str = typer.Option("slerp", help="slerp or linear mixing of the noisy encodings."),
    strength: float = STRENGTH,
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    rate: int = RATE, channels: int = CHANNELS, band_fill: bool = BAND_FILL,
) -> None:
    """Blend two recordings through the model.

    Both are cropped to the shorter one, noised, mixed and denoised."""
    _run_edit("interpolate", model, [a, b], out, seed, {"sampler": sampler, "steps": steps},
              {"ratio": ratio, "strength": strength, "mode": mode},
              rate=rate, channels=channels, band_fill=band_fill)
