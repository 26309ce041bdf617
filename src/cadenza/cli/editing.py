"""Commands that run a model: generate, extend, inpaint, outpaint, transfer, interpolate."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from cadenza.cli.app import app
from cadenza.plan import STRATEGIES
from cadenza.version import __version__


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
                                 "(ITU-R BS.1770), keeping 1 dB of true-peak headroom; 'model': "
                                 "the median of the model's training corpus; 'off': as the "
                                 "network makes it."),
    out: Path = typer.Option(Path("cadenza-out"), help="Folder for the wavs and generate.json."),
) -> None:
    """Generate unconditional audio with a trained model."""
    import time

    from cadenza import tasks
    from cadenza.atomic import add_record, unique_key
    from cadenza.data import audio
    from cadenza.pipeline import load, model_folder

    model = model_folder(model)
    if seconds <= 0 or batch < 1:
        raise ValueError("--seconds must be positive and --batch at least 1")
    pipeline = load(model)
    plan = pipeline.plan(None, sampler, steps)
    started = time.perf_counter()
    gains: list[dict] = []
    waves = tasks.generate(pipeline, seconds, batch, seed=seed, plan=plan, progress=True,
                           loudness=_loudness(loudness), gains=gains)
    elapsed = time.perf_counter() - started
    paths = [
        str(audio.write(out / f"clip-{seed}-{i}.wav", wave.numpy(), pipeline.sample_rate))
        for i, wave in enumerate(waves)
    ]
    # Other runs may write into this folder at the same time: add this run's record to theirs.
    add_record(out / "generate.json", {
        "task": "generate", "model": str(model), "seconds": seconds, "batch": batch,
        "seed": seed, "plan": plan.record(), "files": paths, "loudness": gains,
        "clipped_samples": int((waves.abs() >= 1).sum()),
        "elapsed_seconds": round(elapsed, 3), "cadenza": __version__,
    }, unique_key(f"seed-{seed}"))
    typer.echo("\n".join(paths))


def _loudness(text: str) -> float | str | None:
    """``--loudness``: a number of LUFS, 'model' or 'off'."""
    if text in ("model", "off"):
        return None if text == "off" else text
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not -70 <= value <= 0:
        raise ValueError(f"--loudness takes LUFS between -70 and 0, 'model' or 'off'; got {text!r}")
    return value


# ---------------------------------------------------------------------------- editing
# The editing commands share their options; each one is a thin call of a cadenza.tasks function.

MODEL = typer.Option(None, help="A trained model folder or a shipped model's name (default: "
                     "the shipped piano, tiny-piano-mel).")
SEED = typer.Option(0, help="The same seed gives the same audio.")
STEPS = typer.Option(None, help="Sampler steps (default: the model's).")
SAMPLER = typer.Option(None, help="Sampler name (default: the model's); see `methods`.")
STRATEGY = typer.Option("replace", help="How the known audio enters sampling: replace, "
                        "repaint (RePaint, Lugmayr et al. 2022), repaint-fast (RePaint's "
                        "fidelity at about 1/6 of its cost; sets its own sampler and steps "
                        "unless given), interp (Wang and Kang's interpolation guidance) or "
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
              channels: int | None = None) -> None:
    """Load the model, resolve its plan from ``choices`` (strategy, sampler, steps, strategy
    options), run ``cadenza.tasks.<task>`` with the plan and ``settings`` on ``inputs`` at the
    model's rate, and write the wav in the first input's format (or ``rate`` / ``channels``)
    with its known samples as they were, and beside it a .json record holding the plan
    verbatim, both formats and what was done to the new audio's level."""
    import time

    import numpy as np

    from cadenza import conform, tasks
    from cadenza.atomic import write_json
    from cadenza.data import audio
    from cadenza.pipeline import load, model_folder

    if out.suffix.lower() != ".wav":
        raise ValueError(f"--out must name a .wav file, got {out}")
    for path in inputs:  # a wrong or too long file fails before the model loads
        audio.check_length(audio.info(path))
    user = conform.format_of(str(inputs[0]), rate, channels)
    model = model_folder(model)
    started = time.perf_counter()
    pipeline = load(model)
    plan = pipeline.plan(**choices)
    originals = [audio.load(path) for path in inputs]  # (wave, rate) as the files hold them
    waves = [conform.to_model(wave, native, pipeline.sample_rate, pipeline.channels)
             for wave, native in originals]
    bases = [audio.load(path, user.sample_rate, channels=user.channels)[0] for path in inputs]
    loaded = time.perf_counter()
    gains: list[dict] = []
    run = {"seed": seed, "plan": plan, "progress": True, **settings}
    if task in ("extend", "inpaint", "outpaint"):
        run["gains"] = gains
    done: dict = {}
    if task == "extend":  # streamed: hours of audio never sit in memory
        keep = bases[0]
        if not settings["keep_prompt"]:  # the prompt's last context is made anew
            keep = keep[:, : keep.shape[-1] - round(settings["context_seconds"]
                                                    * user.sample_rate)]
        added = bases[0].shape[-1] + round(settings["seconds"] * user.sample_rate) \
            - keep.shape[-1]
        chunks = tasks.extend_chunks(pipeline, waves[0][None], **run)
        clipped = 0
        with audio.open_wav(out, user.sample_rate, user.channels, user.subtype) as append:
            for piece in conform.stream_to_user(chunks, pipeline.sample_rate, keep, user, added):
                clipped += int((np.abs(piece) >= 1.0).sum())
                append(piece)
        done = {"clipped_samples": clipped}
    else:
        made = getattr(tasks, task)(pipeline, *waves, **run)
        base, regions = _timeline(task, bases, user.sample_rate, settings)
        result, done = conform.to_user(made, pipeline.sample_rate, base, user, regions)
        audio.write(out, result, user.sample_rate, user.subtype)
    finished = time.perf_counter()
    output = audio.info(out)
    write_json(out.with_suffix(".json"), {
        "task": task, "model": str(model), "seed": seed, "plan": plan.record(), **settings,
        "inputs": [str(path) for path in inputs],
        "input_formats": [{"sample_rate": native, "channels": wave.shape[0],
                           "seconds": round(wave.shape[-1] / native, 6)}
                          for wave, native in originals],
        "model_format": {"sample_rate": pipeline.sample_rate, "channels": pipeline.channels},
        "output": str(out),
        "output_format": {**user.record(), "seconds": round(output.seconds, 6)},
        "output_seconds": round(output.seconds, 6),
        "loudness_matching": gains, **done,
        "timings_seconds": {"load": round(loaded - started, 3),
                            "run": round(finished - loaded, 3)},
        "cadenza": __version__,
    })
    typer.echo(str(out))


def _timeline(task: str, bases: list, rate: int, settings: dict) -> tuple:
    """The user's audio on the output's time line, and the regions (seconds) the model made."""
    from cadenza import conform

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
        False, help="Each pass rewrites the last context seconds, crossfaded in (as Wang and "
                    "Kang's pseudo-autoregressive piano synthesis did) instead of keeping "
                    "them."),
    crossfade: float = typer.Option(0.05, help="With --regenerate-context: seam crossfade, s."),
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    rate: int = RATE, channels: int = CHANNELS,
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
              rate=rate, channels=channels)


@app.command()
def inpaint(
    audio: Path = typer.Argument(..., help="Audio with parts to redo."),
    gaps: str = typer.Option(..., help="Spans to regenerate, in seconds: 3-5,6.5-7."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    rate: int = RATE, channels: int = CHANNELS,
    strategy: str = STRATEGY, jump_length: int = JUMP_LENGTH, resample: int = RESAMPLE,
    lambda_curve: str = LAMBDA_CURVE,
) -> None:
    """Regenerate spans of a recording.

    Everything outside the spans is kept."""
    _run_edit("inpaint", model, [audio], out, seed,
              _edit_choices(strategy, sampler, steps, jump_length, resample, lambda_curve),
              {"gaps": _parse_gaps(gaps)},
              rate=rate, channels=channels)


@app.command()
def outpaint(
    audio: Path = typer.Argument(..., help="Audio to add to."),
    seconds: float = typer.Option(..., help="Seconds of new audio."),
    side: str = typer.Option("after", help="after or before the audio."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    rate: int = RATE, channels: int = CHANNELS,
    strategy: str = STRATEGY, jump_length: int = JUMP_LENGTH, resample: int = RESAMPLE,
    lambda_curve: str = LAMBDA_CURVE,
) -> None:
    """Add new audio before or after a recording, in one pass."""
    _run_edit("outpaint", model, [audio], out, seed,
              _edit_choices(strategy, sampler, steps, jump_length, resample, lambda_curve),
              {"seconds": seconds, "side": side},
              rate=rate, channels=channels)


@app.command()
def transfer(
    audio: Path = typer.Argument(..., help="Audio to restyle."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    strength: float = STRENGTH,
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    rate: int = RATE, channels: int = CHANNELS,
) -> None:
    """Restyle a recording (SDEdit).

    SDEdit (Meng et al. 2022): the recording is noised part-way (--strength) and the model
    redoes it."""
    _run_edit("transfer", model, [audio], out, seed, _edit_choices(None, sampler, steps),
              {"strength": strength},
              rate=rate, channels=channels)


@app.command()
def interpolate(
    a: Path = typer.Argument(..., help="First audio (ratio 0)."),
    b: Path = typer.Argument(..., help="Second audio (ratio 1)."),
    out: Path = typer.Option(..., help="The wav to write (a .json goes beside it)."),
    ratio: float = typer.Option(0.5, help="Where between A (0) and B (1)."),
    mode: str = typer.Option("slerp", help="slerp or linear mixing of the noisy encodings."),
    strength: float = STRENGTH,
    model: Path = MODEL, seed: int = SEED, steps: int = STEPS, sampler: str = SAMPLER,
    rate: int = RATE, channels: int = CHANNELS,
) -> None:
    """Blend two recordings through the model.

    Both are cropped to the shorter one, noised, mixed and denoised."""
    _run_edit("interpolate", model, [a, b], out, seed, _edit_choices(None, sampler, steps),
              {"ratio": ratio, "strength": strength, "mode": mode},
              rate=rate, channels=channels)
