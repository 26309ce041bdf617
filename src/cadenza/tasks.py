"""What you do with a model: generate, inpaint, outpaint, extend, transfer, interpolate.

Each task is a function over a model (a :class:`~cadenza.pipeline.Pipeline`, or anything with
the same few members, :class:`Model`) and a sampling :class:`~cadenza.plan.Plan`. Pass the plan
the model resolved (``model.plan(...)``; ``model.edit_plan(...)`` for a task with known audio)
to run it verbatim, or the choices (``sampler``,
``steps``, strategy options) and the task resolves it. ``inpaint``, ``outpaint`` and ``extend``
sample part of the signal with the rest known (:func:`cadenza.edit.inpaint`), by the model's
``edit_strategy`` unless the caller names a ``strategy``; ``transfer``
(SDEdit) and ``interpolate`` start part-way down the schedule from noised encodings.

Audio goes in and comes out as ``(channels, samples)`` or ``(batch, channels, samples)`` at the
model's ``sample_rate``; durations are in seconds; the same seed gives the same audio.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import torch
from torch import Tensor
from tqdm.auto import tqdm

from cadenza import edit
from cadenza.data.audio import check_seconds
from cadenza.joins import (
    CONTEXT_SECONDS,
    SEAM_SECONDS,
    fade_in,
    glide,
    match_context,
    mirror_extend,
    paste,
    span_gain,
)
from cadenza.loudness import integrated_loudness
from cadenza.loudness import match as match_loudness
from cadenza.plan import Plan
from cadenza.representations import Representation
from cadenza.sampling import Denoise, model_calls, sample, start_noise

Progress = bool | Callable[[int, int], None]
"""A task's ``progress``: True draws one bar over its model calls; a callable is told
``(calls done, total)`` before every call (see :class:`CallBar`)."""


class Model(Protocol):
    """What a task needs of a model."""

    representation: Representation
    sigma_data: float
    channels: int
    loudness: float | None
    min_seconds: float

    @property
    def sample_rate(self) -> int: ...
    @property
    def device(self) -> torch.device: ...
    def denoiser(self) -> Denoise: ...
    def plan(self, strategy: str | None = None, sampler: str | None = None,
             steps: int | None = None, **options: Any) -> Plan: ...
    def edit_plan(self, strategy: str | None = None, sampler: str | None = None,
                  steps: int | None = None, **options: Any) -> Plan: ...
    def sigmas(self, plan: Plan | None = None) -> Tensor: ...
    def shape_for(self, seconds: float, batch: int = 1) -> tuple[int, ...]: ...
    def decode(self, tensor: Tensor, samples: int | None = None) -> Tensor: ...


@torch.no_grad()
def generate(model: Model, seconds: float, batch: int = 1, *, seed: int = 0,
             plan: Plan | None = None, loudness: float | str | None = "model",
             gains: list[dict] | None = None, progress: Progress = False, **choices: Any) -> Tensor:
    """Unconditional audio ``(batch, channels, round(seconds * sample_rate))``.

    Each clip is brought to ``loudness`` (LUFS; ``"model"``: the model's own target, the
    median of its training corpus, if it has one; None: the network's level as it comes) by
    one gain, its peaks held under the true-peak ceiling by a limiter
    (:func:`cadenza.loudness.match`); with
    a list as ``gains``, what was done to each clip is appended to it.
    """
    plan = _resolved(model, plan, choices)
    check_seconds(seconds, "generate's seconds")
    if seconds < model.min_seconds:
        raise ValueError(f"{seconds:g} s is shorter than this model can make; give at least "
                         f"{model.min_seconds:.3g} s")
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    sigmas = model.sigmas(plan)
    generator = _generator(model, seed)
    x = start_noise(model.shape_for(seconds, batch), float(sigmas[0]),
                    sigma_data=model.sigma_data, generator=generator, device=model.device)
    with CallBar(expected_calls(plan, sigmas, model.sigma_data), progress) as bar:
        waves = _sample_and_decode(model, plan, x, sigmas,
                                   model.representation.samples_for(seconds), generator,
                                   bar.counted(model.denoiser()))
    target = model.loudness if loudness == "model" else loudness
    if target is None:
        return waves
    if isinstance(target, str):
        raise ValueError(f"loudness is a number of LUFS, 'model' or None, got {target!r}")
    matched = []
    for wave in waves.numpy():
        scaled, record = match_loudness(wave, model.sample_rate, float(target))
        matched.append(torch.from_numpy(scaled))
        if gains is not None:
            gains.append({"target_lufs": float(target), **record})
    return torch.stack(matched)


EXTEND_WINDOW_SECONDS, EXTEND_CONTEXT_SECONDS = 5.0, 4.0
"""An extension's windows and the known audio that opens each (seed 003's layout): a join a
second."""
EXTEND_MARGIN_SECONDS = 0.5
"""How far past what it keeps each extension window is sampled: the end of a sampled canvas
comes out quieter (benchmarks/RESULTS.md, "Extension windows sampled 0.5 s past")."""


@torch.no_grad()
def inpaint(model: Model, audio: Tensor, gaps: list[tuple[float, float]], *, seed: int = 0,
            plan: Plan | None = None, strategy: str | None = None, progress: Progress = False,
            gains: list[dict] | None = None, **choices: Any) -> Tensor:
    """Regenerate the ``gaps`` (``[start, end)`` in seconds) of ``audio``; keep the rest.

    Outside the gaps the result is ``audio`` bit for bit; the new audio is brought to the
    loudness of the audio around it (``gains`` collects what was done, see :func:`fill`), and
    representations that lose the phase (mel) meet the known audio through a short crossfade
    inside each gap.
    """
    plan = _edit_resolved(model, plan, strategy, choices)
    wave, single = _as_batch(model, audio)
    seconds = wave.shape[-1] / model.sample_rate
    if not gaps:
        raise ValueError("inpaint needs at least one gap")
    for start, end in gaps:
        if not 0 <= start < end <= seconds:
            raise ValueError(f"gap {start:g}-{end:g} s is empty or outside the clip "
                             f"(0-{seconds:g} s); give start < end inside it")
    ordered = sorted(gaps)
    for (start, end), (next_start, next_end) in itertools.pairwise(ordered):
        if next_start < end:
            raise ValueError(f"gaps {start:g}-{end:g} and {next_start:g}-{next_end:g} s overlap; "
                             f"give them as one gap {start:g}-{max(end, next_end):g}")
    if sum(end - start for start, end in gaps) >= seconds:
        raise ValueError(f"the gaps cover the whole clip ({seconds:g} s): nothing is known to "
                         "keep; use generate, or transfer to restyle the clip")
    with CallBar(expected_calls(plan, model.sigmas(plan), model.sigma_data), progress) as bar:
        filled = fill(model, plan, wave, gaps, _generator(model, seed), gains=gains,
                      denoiser=bar.counted(model.denoiser()))
    return _unbatch(filled, single)


@torch.no_grad()
def outpaint(model: Model, audio: Tensor, seconds: float, side: str = "after", *, seed: int = 0,
             plan: Plan | None = None, strategy: str | None = None, progress: Progress = False,
             gains: list[dict] | None = None, **choices: Any) -> Tensor:
    """``audio`` with ``seconds`` of new audio ``after`` or ``before`` it, kept verbatim: the
    result is ``round(seconds * sample_rate)`` samples longer than ``audio``."""
    plan = _edit_resolved(model, plan, strategy, choices)
    if side not in ("after", "before"):
        raise ValueError(f"side must be 'after' or 'before', got {side!r}")
    check_seconds(seconds, "outpaint's seconds")
    wave, single = _as_batch(model, audio)
    known, added, rate = wave.shape[-1], model.representation.samples_for(seconds), \
        model.sample_rate
    canvas = mirror_extend(wave, added, side)
    gap = (known / rate, (known + added) / rate) if side == "after" else (0.0, added / rate)
    with CallBar(expected_calls(plan, model.sigmas(plan), model.sigma_data), progress) as bar:
        filled = fill(model, plan, canvas, [gap], _generator(model, seed), gains=gains,
                      denoiser=bar.counted(model.denoiser()))
    return _unbatch(filled, single)


def extend(model: Model, prompt: Tensor, seconds: float, **settings: Any) -> Tensor:
    """``prompt`` continued by ``seconds``: :func:`extend_chunks` joined in memory."""
    wave, single = _as_batch(model, prompt)
    return _unbatch(torch.cat(list(extend_chunks(model, wave, seconds, **settings)), dim=-1),
                    single)


def extend_chunks(
    model: Model,
    prompt: Tensor,
    seconds: float,
    *,
    window_seconds: float = EXTEND_WINDOW_SECONDS,
    context_seconds: float = EXTEND_CONTEXT_SECONDS,
    margin_seconds: float = EXTEND_MARGIN_SECONDS,
    keep_prompt: bool = True,
    crossfade_seconds: float = 0.05,
    seed: int = 0,
    plan: Plan | None = None,
    strategy: str | None = None,
    progress: Progress = False,
    gains: list[dict] | None = None,
    **choices: Any,
) -> Iterator[Tensor]:
    """Continue ``prompt`` by ``seconds``, window by window, without limit (seed 003), yielding
    the audio ``(batch, channels, samples)`` piece by piece as it becomes final, so a caller can
    write hours of it while only the last context stays in memory.

    Each pass samples a window of ``window_seconds`` whose first ``context_seconds`` are the
    last ``context_seconds`` of the audio so far (known) and the rest new; it is sampled
    ``margin_seconds`` longer than that and the extra dropped, as the end of a sampled canvas
    comes out quieter than the rest (a dip at every join otherwise). The pieces add up to
    exactly ``prompt`` plus ``seconds``. ``keep_prompt`` keeps the prompt and everything
    generated verbatim, and each window's new audio takes the loudness of the audio just before
    it, gliding back towards the prompt's (:func:`cadenza.joins.glide`); without it, as the
    seed's authors did, each pass replaces the last ``context_seconds`` with its regenerated
    version, joined by a ``crossfade_seconds`` crossfade.
    """
    plan = _edit_resolved(model, plan, strategy, choices)
    wave, _ = _as_batch(model, prompt)
    check_seconds(seconds, "extend's seconds")
    for value, name in ((window_seconds, "window_seconds"), (context_seconds, "context_seconds")):
        check_seconds(value, name)
    if not (math.isfinite(margin_seconds) and margin_seconds >= 0):
        raise ValueError(f"margin_seconds must be 0 or more, got {margin_seconds:g}")
    if window_seconds < model.min_seconds:
        raise ValueError(f"window_seconds is {window_seconds:g}; this model needs windows of at "
                         f"least {model.min_seconds:.3g} s")
    if not (math.isfinite(crossfade_seconds) and crossfade_seconds >= 0):
        raise ValueError(f"crossfade_seconds must be 0 or more, got {crossfade_seconds:g}")
    rep, rate = model.representation, model.sample_rate
    context, window = rep.samples_for(context_seconds), rep.samples_for(window_seconds)
    margin = rep.samples_for(window_seconds + margin_seconds) - window
    fade, total = rep.samples_for(crossfade_seconds), rep.samples_for(seconds)
    if total <= 0:
        raise ValueError(f"extend needs a positive number of seconds, got {seconds:g}")
    if not 0 < context < window:
        raise ValueError("extend needs 0 < context_seconds < window_seconds")
    if not keep_prompt and not 0 <= fade <= context:
        raise ValueError("crossfade_seconds must be between 0 and context_seconds")
    if wave.shape[-1] < context:
        raise ValueError(f"the prompt is {wave.shape[-1] / rate:.2f} s; extend needs at least "
                         f"context_seconds = {context_seconds:g} s of prompt")
    generator, gap = _generator(model, seed), [(context / rate, (window + margin) / rate)]
    calls = math.ceil(total / (window - context)) * expected_calls(plan, model.sigmas(plan),
                                                                    model.sigma_data)
    # Checked above, before the first chunk is asked for; the loop itself is a generator.
    return _extending(calls, progress, model, plan, wave, total, context, window, margin, fade,
                      keep_prompt, generator, gap, gains)


@torch.no_grad()
def _extending(calls: int, progress: Progress, model: Model, *arguments: Any) -> Iterator[Tensor]:
    with CallBar(calls, progress) as bar:
        yield from _extension(model, *arguments, bar.counted(model.denoiser()))


def _extension(model: Model, plan: Plan, wave: Tensor, total: int, context: int, window: int,
               margin: int, fade: int, keep_prompt: bool, generator: torch.Generator,
               gap: list[tuple[float, float]], gains: list[dict] | None,
               denoiser: Denoise) -> Iterator[Tensor]:
    """The window-by-window loop of :func:`extend_chunks`, its arguments checked."""
    rate = model.sample_rate
    yield wave[..., :-context].cpu()
    tail, done = wave[..., -context:], 0
    prompt_lufs: list[float] = []  # the glide's target (only kept prompts glide) ...
    levels: list[float] = []  # ... and where it starts: the level just before the seam
    if keep_prompt:
        recent = min(context, round(CONTEXT_SECONDS * rate))
        prompt_lufs = [integrated_loudness(clip.cpu().numpy(), rate) for clip in wave]
        levels = [integrated_loudness(clip[..., -recent:].cpu().numpy(), rate) for clip in wave]
    while done < total:
        take = min(window - context, total - done)
        canvas = mirror_extend(tail, window + margin - context, "after")
        if keep_prompt:
            records: list[dict] = []
            joined = fill(model, plan, canvas, gap, generator, gains=records,
                          denoiser=denoiser, keep=context + take)
            new, glides, levels, cuts = glide(joined[..., context:], levels, prompt_lufs, rate)
            joined = torch.cat([joined[..., :context], new], dim=-1)
            if gains is not None:  # the window's times -> the output's
                offset = (wave.shape[-1] - context + done) / rate
                gains += [{**record, "start_seconds": round(record["start_seconds"] + offset, 6),
                           "end_seconds": round(offset + (context + take) / rate, 6),
                           "glide_db": glides[record["clip"]],
                           "limiter_db": max(record["limiter_db"], cuts[record["clip"]]),
                           "peak_limited": record["peak_limited"] or cuts[record["clip"]] > 0,
                           "lufs": round(levels[record["clip"]], 3)}
                          for record in records]
        else:  # the whole window, context included, crossfaded in over the old context
            regenerated = regenerate(model, plan, canvas, gap, generator, verbatim=False,
                                     denoiser=denoiser)
            length = context + take
            joined = paste(canvas[..., :length], regenerated[..., :length],
                           fade_in(length, fade, canvas))
        yield joined[..., :-context].cpu()
        tail, done = joined[..., -context:], done + take
    yield tail.cpu()


@torch.no_grad()
def transfer(model: Model, audio: Tensor, strength: float, *, seed: int = 0,
             plan: Plan | None = None, progress: Progress = False, **choices: Any) -> Tensor:
    """Audio-to-audio (SDEdit): noise the encoding of ``audio``, then denoise it.

    ``strength`` in (0, 1] is the fraction of the schedule that runs: 1 starts from (almost)
    pure noise, small values stay close to ``audio``.
    """
    plan = _resolved(model, plan, choices)
    wave, single = _as_batch(model, audio)
    sigmas = remaining_schedule(model, plan, strength)
    generator = _generator(model, seed)
    encoded = model.representation.encode(wave)
    x = encoded + float(sigmas[0]) * _noise_like(encoded, generator)
    with CallBar(expected_calls(plan, sigmas, model.sigma_data), progress) as bar:
        result = _sample_and_decode(model, plan, x, sigmas, wave.shape[-1], generator,
                                    bar.counted(model.denoiser()))
    return _unbatch(result, single)


@torch.no_grad()
def interpolate(model: Model, audio_a: Tensor, audio_b: Tensor, ratio: float, *,
                strength: float = 0.5, mode: str = "slerp", seed: int = 0,
                plan: Plan | None = None, progress: Progress = False, **choices: Any) -> Tensor:
    """A blend of two clips: both noised with the same noise, mixed by ``ratio``, denoised.

    ``ratio`` 0 is ``audio_a``'s side, 1 ``audio_b``'s; ``strength`` is as in ``transfer``;
    ``mode`` mixes the noisy tensors linearly or spherically (``slerp``). Clips of different
    lengths are cropped to the shorter one (from the start).
    """
    plan = _resolved(model, plan, choices)
    if not 0 <= ratio <= 1:
        raise ValueError(f"ratio must be in [0, 1], got {ratio:g}")
    if mode not in ("slerp", "linear"):
        raise ValueError(f"mode must be 'slerp' or 'linear', got {mode!r}")
    wave_a, single = _as_batch(model, audio_a)
    wave_b, _ = _as_batch(model, audio_b)
    if wave_a.shape[0] != wave_b.shape[0]:
        raise ValueError("interpolate needs the same batch size on both sides")
    length = min(wave_a.shape[-1], wave_b.shape[-1])
    sigmas = remaining_schedule(model, plan, strength)
    generator = _generator(model, seed)
    encoded_a = model.representation.encode(wave_a[..., :length])
    encoded_b = model.representation.encode(wave_b[..., :length])
    noise = float(sigmas[0]) * _noise_like(encoded_a, generator)
    mix = slerp if mode == "slerp" else torch.lerp
    x = mix(encoded_a + noise, encoded_b + noise, ratio)
    with CallBar(expected_calls(plan, sigmas, model.sigma_data), progress) as bar:
        result = _sample_and_decode(model, plan, x, sigmas, length, generator,
                                    bar.counted(model.denoiser()))
    return _unbatch(result, single)


# ------------------------------------------------------------------ shared by the tasks


class CallBar:
    """One progress bar over every model call of a task: its total, rate and time left; or,
    when ``progress`` is a callable, ``progress(done, total)`` before every call (a caller
    such as the web app shows it, and may raise to stop the run between two calls)."""

    def __init__(self, total: int, progress: Progress) -> None:
        self.report = progress if callable(progress) else None
        self.done, self.total = 0, total
        self.bar = tqdm(total=total, unit="call", desc="model calls", leave=False,
                        disable=not progress or self.report is not None)

    def __enter__(self) -> CallBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()

    def counted(self, denoiser: Denoise) -> Denoise:
        def counting(x: Tensor, sigma: Tensor) -> Tensor:
            if self.report is not None:
                self.report(self.done, self.total)
            out = denoiser(x, sigma)
            self.done += 1
            self.bar.update(1)
            return out

        return counting


def expected_calls(plan: Plan, sigmas: Tensor, sigma_data: float) -> int:
    """Model calls of one sampling pass of ``plan`` over ``sigmas`` (RePaint's walk included)."""
    steps = len(sigmas) - 1
    calls = model_calls(plan.sampler, steps)
    if plan.strategy not in ("repaint", "repaint-fast"):
        return calls
    band, allowed = plan.options.get("resample_band"), None
    if band is not None:
        low, high = (sigma_data * value for value in band)
        allowed = lambda index: low <= float(sigmas[index]) <= high  # noqa: E731
    walked = edit.repaint_model_calls(steps, plan.options["jump_length"],
                                      plan.options["resample"], allowed)
    return round(walked * calls / steps)


def regenerate(model: Model, plan: Plan, canvas: Tensor, gaps: list[tuple[float, float]],
               generator: torch.Generator, *, verbatim: bool = True,
               denoiser: Denoise | None = None) -> Tensor:
    """Decoded ``canvas`` with the frames under ``gaps`` (seconds) sampled, the rest known.

    A gap ``[a, b)`` covers frames ``floor(a * fps)`` to ``ceil(b * fps)``: every frame whose
    analysis window is centred in it or on its edge.
    """
    reference = model.representation.encode(canvas)
    fps = model.representation.frames_per_second
    known = torch.ones(reference.shape[-1], dtype=torch.bool, device=reference.device)
    for start, end in gaps:
        known[math.floor(start * fps): math.ceil(end * fps) + 1] = False
    options = dict(plan.options)
    if options.get("resample_band") is not None:  # sigma_data units -> sigmas
        options["resample_band"] = tuple(model.sigma_data * v for v in options["resample_band"])
    strategy = "repaint" if plan.strategy == "repaint-fast" else plan.strategy
    x = edit.inpaint(denoiser or model.denoiser(), reference, known, model.sigmas(plan),
                     sampler=plan.sampler, strategy=strategy, generator=generator,
                     sigma_data=model.sigma_data, verbatim=verbatim, **options)
    return model.decode(x.float(), canvas.shape[-1])


def fill(model: Model, plan: Plan, canvas: Tensor, gaps: list[tuple[float, float]],
         generator: torch.Generator, *, gains: list[dict] | None = None,
         denoiser: Denoise | None = None, keep: int | None = None) -> Tensor:
    """``canvas`` with its ``gaps`` (seconds) regenerated and pasted in; the rest verbatim.

    The new audio in each gap is first brought to the loudness of the known audio around it
    (:func:`match_context`); with a list as ``gains``, one record per clip and gap is appended.
    ``keep``: only the first ``keep`` samples are matched and returned (the rest was sampled
    for the network's sake, see :func:`extend_chunks`).
    """
    decoded = regenerate(model, plan, canvas, gaps, generator, denoiser=denoiser)
    canvas, decoded = canvas[..., :keep], decoded[..., :keep]
    rate = model.sample_rate
    # A waveform model's output already joins its known samples; only a decoded phase
    # (Griffin-Lim, vocoder) differs from the original's and needs a crossfade.
    fade = 0 if model.representation.kind == "waveform" else round(SEAM_SECONDS * rate)
    spans = [(round(start * rate), min(round(end * rate), canvas.shape[-1]))
             for start, end in gaps]
    decoded = match_context(decoded, canvas, spans, rate, gains)
    gain = torch.zeros(canvas.shape[-1], dtype=canvas.dtype, device=canvas.device)
    for first, last in spans:
        gain[first:last] = torch.maximum(gain[first:last],
                                         span_gain(first, last, canvas.shape[-1], fade, canvas))
    return paste(canvas, decoded, gain)


def remaining_schedule(model: Model, plan: Plan, strength: float) -> Tensor:
    """The tail of the plan's schedule holding the last ``strength`` of its steps (at least
    one)."""
    if not 0 < strength <= 1:
        raise ValueError(f"strength must be in (0, 1], got {strength:g}")
    sigmas = model.sigmas(plan)
    count = len(sigmas) - 1
    return sigmas[min(round((1 - strength) * count), count - 1):]


def slerp(a: Tensor, b: Tensor, ratio: float) -> Tensor:
    """Spherical interpolation per example (linear where ``a`` and ``b`` are parallel)."""
    flat_a, flat_b = a.flatten(1).double(), b.flatten(1).double()
    cosine = torch.nn.functional.cosine_similarity(flat_a, flat_b, dim=1).clamp(-1, 1)
    angle = torch.arccos(cosine)
    sine = torch.sin(angle)
    parallel = sine < 1e-6
    safe = torch.where(parallel, torch.ones_like(sine), sine)
    weight_a = torch.where(parallel, 1 - ratio, torch.sin((1 - ratio) * angle) / safe)
    weight_b = torch.where(parallel, torch.full_like(sine, ratio), torch.sin(ratio * angle) / safe)
    shape = (-1,) + (1,) * (a.dim() - 1)
    return (weight_a.view(shape) * a + weight_b.view(shape) * b).to(a.dtype)


def _resolved(model: Model, plan: Plan | None, choices: dict[str, Any]) -> Plan:
    """The plan of a task without known audio: ``plan`` as given, or the model's resolution of
    the caller's choices."""
    if plan is None:
        return model.plan(None, **choices)
    _given_alone(choices)
    if plan.strategy is not None:
        raise ValueError(f"this task's plan needs no editing strategy, got {plan.strategy!r}")
    return plan


def _edit_resolved(model: Model, plan: Plan | None, strategy: str | None,
                   choices: dict[str, Any]) -> Plan:
    """The plan of a task with known audio: ``plan`` as given, or the model's resolution of
    the caller's choices (``strategy`` None: the model's ``edit_strategy``)."""
    if plan is None:
        return model.edit_plan(strategy, **choices)
    _given_alone(choices)
    if plan.strategy is None:
        raise ValueError("this task's plan needs an editing strategy, got none")
    if strategy is not None and strategy != plan.strategy:
        raise ValueError(f"the plan's strategy is {plan.strategy!r}, not {strategy!r}")
    return plan


def _given_alone(choices: dict[str, Any]) -> None:
    if choices:
        raise TypeError(f"give either a plan or the choices {sorted(choices)}, not both")


def _sample_and_decode(model: Model, plan: Plan, x: Tensor, sigmas: Tensor, samples: int,
                       generator: torch.Generator, denoiser: Denoise) -> Tensor:
    x = sample(denoiser, x, sigmas, plan.sampler, generator=generator, **plan.options)
    return model.decode(x.float(), samples).cpu()


def _generator(model: Model, seed: int) -> torch.Generator:
    return torch.Generator(device=model.device).manual_seed(seed)


def _as_batch(model: Model, audio: Tensor) -> tuple[Tensor, bool]:
    """``audio`` as ``(batch, channels, samples)`` on the model's device, and whether the caller
    gave a single clip ``(channels, samples)`` (so the result drops the batch axis)."""
    wave = torch.as_tensor(audio, dtype=torch.float32, device=model.device)
    single = wave.dim() == 2
    if single:
        wave = wave[None]
    if wave.dim() != 3 or wave.shape[1] != model.channels or wave.shape[-1] == 0:
        raise ValueError(f"expected {model.channels}-channel audio (channels, samples) or "
                         f"(batch, channels, samples), got shape {tuple(wave.shape)}")
    if wave.shape[-1] < model.min_seconds * model.sample_rate:
        raise ValueError(f"the audio is {wave.shape[-1] / model.sample_rate:.3g} s; this model "
                         f"needs at least {model.min_seconds:.3g} s")
    return wave, single


def _unbatch(wave: Tensor, single: bool) -> Tensor:
    return (wave[0] if single else wave).cpu()


def _noise_like(x: Tensor, generator: torch.Generator) -> Tensor:
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
