"""Noise schedules: a schedule is data, a 1-D float64 tensor of decreasing sigmas ending in 0.

Every sigma lives in the variance-exploding frame, x = x0 + sigma * noise. A schedule with
``steps`` entries followed by 0 gives a first-order sampler ``steps`` model calls.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

SCHEDULES = ("karras", "logsnr", "cosine", "vp_table")


def _append_zero(sigmas: Tensor) -> Tensor:
    return torch.cat([sigmas, sigmas.new_zeros(1)])


def karras(steps: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> Tensor:
    """EDM's schedule: uniform in sigma^(1/rho) from sigma_max to sigma_min."""
    ramp = torch.linspace(0, 1, steps, dtype=torch.float64)
    inv_max, inv_min = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    return _append_zero((inv_max + ramp * (inv_min - inv_max)) ** rho)


def logsnr(steps: int, sigma_min: float, sigma_max: float) -> Tensor:
    """Uniform in log-SNR = -2 log(sigma): geometric spacing of sigma."""
    log_sigmas = torch.linspace(
        math.log(sigma_max), math.log(sigma_min), steps, dtype=torch.float64
    )
    return _append_zero(log_sigmas.exp())


def cosine(steps: int, sigma_min: float, sigma_max: float, sigma_data: float = 1.0) -> Tensor:
    """Uniform in t of the cosine schedule: sigma = sigma_data * tan(pi t / 2)."""
    t_max = 2 / math.pi * math.atan(sigma_max / sigma_data)
    t_min = 2 / math.pi * math.atan(sigma_min / sigma_data)
    t = torch.linspace(t_max, t_min, steps, dtype=torch.float64)
    return _append_zero(sigma_data * torch.tan(math.pi / 2 * t))


def vp_table(steps: int, alphas_cumprod: Tensor, spacing: str = "trailing") -> Tensor:
    """A subset of a discrete VP model's training table, sigma_t = sqrt((1 - abar_t) / abar_t).

    ``spacing`` picks the timesteps: ``linspace`` (both ends of the table included),
    ``trailing`` (always starts at the noisiest step, as recommended by Lin et al. 2024) or
    ``leading`` (the original DDIM choice, which never reaches the noisiest step).
    """
    abar = torch.as_tensor(alphas_cumprod, dtype=torch.float64)
    table = ((1 - abar) / abar).sqrt()
    count = len(table)
    if not 1 <= steps <= count:
        raise ValueError(f"vp_table needs 1 <= steps <= {count} (the table length), got {steps}")
    if spacing == "linspace":
        index = torch.linspace(count - 1, 0, steps, dtype=torch.float64).round().long()
    elif spacing == "trailing":
        index = (torch.arange(count, 0, -count / steps, dtype=torch.float64).round() - 1).long()
    elif spacing == "leading":
        index = (torch.arange(0, steps, dtype=torch.float64) * (count // steps)).long().flip(0)
    else:
        raise ValueError(f"unknown spacing {spacing!r}; choose linspace, trailing or leading")
    return _append_zero(table[index])


def schedule(
    kind: str,
    steps: int,
    *,
    sigma_min: float | None = None,
    sigma_max: float | None = None,
    **options,
) -> Tensor:
    """Build a schedule by name: ``steps`` decreasing sigmas followed by a final 0 (float64).

    ``karras`` takes ``rho`` (default 7), ``cosine`` takes ``sigma_data`` (default 1),
    ``vp_table`` takes ``alphas_cumprod`` and ``spacing`` and ignores ``sigma_min``/``sigma_max``.
    """
    if steps < 1:
        raise ValueError(f"a schedule needs at least 1 step, got {steps}")
    if kind == "vp_table":
        return vp_table(steps, **options)
    if kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")
    if sigma_min is None or sigma_max is None:
        raise ValueError(f"schedule {kind!r} needs sigma_min and sigma_max")
    if not 0 < sigma_min < sigma_max:
        raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min} and {sigma_max}")
    if steps == 1:
        return _append_zero(torch.tensor([sigma_max], dtype=torch.float64))
    builders = {"karras": karras, "logsnr": logsnr, "cosine": cosine}
    return builders[kind](steps, sigma_min, sigma_max, **options)
