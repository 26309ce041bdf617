"""Sampling with part of the signal known: inpainting, outpainting and extension.

A known region is a boolean mask over the time axis (True = known) and a reference tensor with
the known values. A *strategy* says how the known values enter the sampler's loop:

- ``replace``: at the start of every step, the known region is overwritten with the reference
  noised to the step's level (the seeds' baseline).
- ``repaint``: ``replace`` plus RePaint's resampling: after every ``jump_length`` steps the state
  is noised back up ``jump_length`` steps and denoised again, ``resample`` times in all.
- ``interp``: seed 003's interpolation guidance: the known region becomes
  ``(1 - lambda) * noised reference + lambda * state``, with the reverse-lambda schedule.
- ``project``: the reference is pasted into the denoiser's clean estimate (DDNM-style), so every
  sampler update sees the known values exactly; no extra model calls.

Everything works in the variance-exploding frame of :mod:`cadenza.sampling` and with any of its
samplers: strategies are a step hook or a wrapped denoiser, never a change to a sampler.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from cadenza.plan import EDIT_SAMPLER, JUMP_LENGTH, LAMBDA_CURVE, RESAMPLE
from cadenza.sampling import SAMPLERS, Denoise, Step, sample, start_noise

STRATEGIES = ("replace", "repaint", "interp", "project")

SEED_INTERP_STEPS = 200
"""Seed 003 tuned its lambda curve for 200 DDPM steps."""


# ----------------------------------------------------------------------------- lambda


def seed_interp_lambda(index: int, steps: int) -> float:
    """Seed 003's reverse-lambda value at step ``index`` (0 = noisiest) of ``steps``, verbatim.

    lambda_i = ((0.3704 e)^(0.5 i) - 1)^4 with lambda = 1 on the last step. At 200 steps it rises
    from 0 to 0.87 before the final 1; at 50 steps it never passes 0.0011, so interpolation
    guidance collapses to ``replace`` (use :func:`interp_lambda`, which follows progress).
    """
    if index >= steps - 1:
        return 1.0
    return ((0.3704 * math.e) ** (0.5 * index) - 1) ** 4


def interp_lambda(progress: float, curve: str = LAMBDA_CURVE) -> float:
    """The interpolation weight of the model's own state at ``progress`` in [0, 1] (1 = last step).

    ``seed`` is seed 003's curve as a function of progress: exactly its values at 200 steps, the
    same shape at any other number of steps. ``linear`` is lambda = progress.
    """
    if progress >= 1:
        return 1.0
    if curve == "seed":
        return seed_interp_lambda(round(progress * (SEED_INTERP_STEPS - 1), 9), SEED_INTERP_STEPS)
    if curve == "linear":
        return float(progress)
    raise ValueError(f"unknown lambda curve {curve!r}; choose 'seed' or 'linear' or a callable")


def _lambda_schedule(curve: str | Callable[[float], float], steps: int) -> list[float]:
    if curve == "seed-index":
        return [seed_interp_lambda(i, steps) for i in range(steps)]
    function = curve if callable(curve) else (lambda p: interp_lambda(p, curve))
    last = max(steps - 1, 1)
    return [1.0 if i == steps - 1 else float(function(i / last)) for i in range(steps)]


# --------------------------------------------------------------------------- RePaint


def repaint_path(
    steps: int,
    jump_length: int = JUMP_LENGTH,
    resample: int = RESAMPLE,
    allowed: Callable[[int], bool] | None = None,
) -> list[int]:
    """RePaint's walk over schedule indices (0 = noisiest, ``steps`` = the end of the schedule).

    Going down one index is one sampler step; going up is re-noising. As in RePaint's
    ``get_schedule_jump``: on reaching a state with r = 1, 1 + jump_length, 1 + 2 jump_length, ...
    steps left (and at least ``jump_length`` steps above it), the walk goes back up
    ``jump_length`` steps and down again, ``resample - 1`` times. ``resample = 1`` is plain descent.
    ``allowed(index)`` (default: everywhere) limits where jumps start.
    """
    if jump_length < 1 or resample < 1:
        raise ValueError("jump_length and resample must be at least 1")
    jumps_left = {
        1 + r: resample - 1
        for r in range(0, steps - jump_length, jump_length)
        if allowed is None or allowed(steps - 1 - r)
    }
    path, index = [0], 0
    while index < steps:
        index += 1
        path.append(index)
        remaining = steps - index
        if jumps_left.get(remaining, 0) > 0:
            jumps_left[remaining] -= 1
            index -= jump_length
            path.append(index)
    return path


def repaint_model_calls(
    steps: int,
    jump_length: int = JUMP_LENGTH,
    resample: int = RESAMPLE,
    allowed: Callable[[int], bool] | None = None,
) -> int:
    """Model calls of RePaint with a one-call-per-step sampler."""
    path = repaint_path(steps, jump_length, resample, allowed)
    return sum(1 for a, b in itertools.pairwise(path) if b == a + 1)


# ---------------------------------------------------------------------------- the core


@dataclass
class KnownRegion:
    """The known values of a signal: ``mask`` (True = known) broadcast to ``reference``."""

    reference: Tensor
    mask: Tensor
    generator: torch.Generator | None = None

    def __post_init__(self):
        self.mask = broadcast_mask(self.mask, self.reference)

    def noised(self, sigma: float) -> Tensor:
        """The reference at noise level ``sigma``, with fresh noise."""
        noise = torch.randn(self.reference.shape, generator=self.generator,
                            dtype=self.reference.dtype, device=self.reference.device)
        return self.reference + sigma * noise

    def paste(self, x: Tensor, values: Tensor) -> Tensor:
        return torch.where(self.mask, values, x)


def broadcast_mask(mask: Tensor, like: Tensor) -> Tensor:
    """A time-axis mask (or any mask broadcastable to ``like``) as a full boolean tensor."""
    mask = torch.as_tensor(mask, dtype=torch.bool, device=like.device)
    try:
        return torch.broadcast_to(mask, like.shape)
    except RuntimeError:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not fit a signal of shape {tuple(like.shape)};"
            " give one value per time step (the last axis)"
        ) from None


def inpaint(
    denoiser: Denoise,
    reference: Tensor,
    mask: Tensor,
    sigmas: Tensor,
    *,
    sampler: str = EDIT_SAMPLER,
    strategy: str = "replace",
    generator: torch.Generator | None = None,
    sigma_data: float = 0.0,
    start: Tensor | None = None,
    verbatim: bool = True,
    jump_length: int = JUMP_LENGTH,
    resample: int = RESAMPLE,
    resample_band: tuple[float, float] | None = None,
    lambda_curve: str | Callable[[float], float] = LAMBDA_CURVE,
    callback: Callable[[Step], None] | None = None,
    progress: bool = False,
    **sampler_options,
) -> Tensor:
    """Fill the unknown part of ``reference`` (where ``mask`` is False) consistently with the rest.

    ``reference`` is a network-space tensor ``(batch, channels, [freq,] time)``; ``mask`` is one
    boolean per time step (or anything broadcastable to ``reference``). Returns the full tensor,
    same shape as ``reference``. With ``verbatim`` the known region of the result is the reference
    bit for bit; without, it is whatever the sampler made of it.

    ``start`` is the state at ``sigmas[0]`` (default: noise of the marginal's variance, with
    ``sigma_data`` the data's std). ``jump_length``, ``resample`` and ``resample_band`` (the
    (low, high) sigmas between which jumps start; default everywhere) apply to ``repaint``,
    ``lambda_curve`` to ``interp`` ("seed", "linear", "seed-index" for the seed's formula in the
    step index, or a callable of progress in [0, 1]). Other keywords go to the sampler.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of "
                         f"{', '.join(STRATEGIES)} (or repaint-fast, through cadenza.tasks)")
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}")
    sigmas = torch.as_tensor(sigmas, dtype=torch.float64).cpu()
    known = KnownRegion(reference, mask, generator)
    x = start
    if x is None:
        x = start_noise(reference.shape, float(sigmas[0]), sigma_data=sigma_data,
                        generator=generator, device=reference.device, dtype=reference.dtype)
    run = {"generator": generator, "callback": callback, "progress": progress, **sampler_options}

    if strategy == "project":
        def projected(state: Tensor, sigma: Tensor) -> Tensor:
            return known.paste(denoiser(state, sigma), known.reference)

        x = sample(projected, x, sigmas, sampler, **run)
    elif strategy == "repaint":
        allowed = None
        if resample_band is not None:
            low, high = resample_band
            allowed = lambda index: low <= float(sigmas[index]) <= high  # noqa: E731
        path = repaint_path(len(sigmas) - 1, jump_length, resample, allowed)
        x = _repaint(denoiser, x, sigmas, known, sampler, path, run)
    else:
        steps = len(sigmas) - 1
        weights = _lambda_schedule(lambda_curve, steps) if strategy == "interp" else [0.0] * steps

        def hook(state: Tensor, index: int, schedule: Tensor) -> Tensor:
            noised = known.noised(float(schedule[index]))
            weight = weights[index]
            return known.paste(state, noised if weight == 0 else (1 - weight) * noised
                               + weight * state)

        x = sample(denoiser, x, sigmas, sampler, step_hook=hook, **run)
    return known.paste(x, known.reference) if verbatim else x


def _repaint(denoiser, x, sigmas, known, sampler, path, run) -> Tensor:
    """Walk :func:`repaint_path`: runs of the sampler downwards with ``replace``, noise upwards."""

    def hook(state: Tensor, index: int, schedule: Tensor) -> Tensor:
        return known.paste(state, known.noised(float(schedule[index])))

    position = 0
    while position < len(path) - 1:
        end = position
        while end + 1 < len(path) and path[end + 1] == path[end] + 1:
            end += 1
        if end > position:  # a downward run of sampler steps
            segment = sigmas[path[position]: path[end] + 1]
            x = sample(denoiser, x, segment, sampler, step_hook=hook, **run)
            position = end
        else:  # one jump up: add the noise that takes sigma_low to sigma_high
            low, high = float(sigmas[path[position]]), float(sigmas[path[position + 1]])
            noise = torch.randn(x.shape, generator=run["generator"], dtype=x.dtype,
                                device=x.device)
            x = x + math.sqrt(high**2 - low**2) * noise
            position += 1
    return x
