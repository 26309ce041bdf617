"""Noise schedules: a schedule is data, a 1-D float64 tensor of decreasing sigmas ending in 0.

Every sigma lives in the variance-exploding frame, x = x0 + sigma * noise. A schedule with
``steps`` entries followed by 0 gives a first-order sampler ``steps`` model calls.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

SCHEDULES = ("karras", "logsnr", "cosine", "cosine_grid", "vp_table", "tuned")


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


def cosine_grid(steps: int, sigma_min: float, sigma_max: float) -> Tensor:
    """Progressive distillation's grid (seed 001): t uniform on ``steps`` steps, truncated.

    sigma(t) = tan(pi t / 2) (alpha = cos, sigma_VP = sin); the grid divides [t_min, t_max], the
    times of ``sigma_min`` and ``sigma_max``, into ``steps`` equal steps, t_i = t_min + (t_max -
    t_min) i / steps, and the last step goes from t_1 to sigma = 0 instead of t_min. Unlike
    ``cosine`` the grids nest: the grid of 2N steps is the grid of N steps with the midpoint (in
    t) of every step added, which is what a student of N steps distilled from a teacher of 2N
    steps needs. Every sigma but the final 0 lies in [sigma_min, sigma_max].
    """
    t_min, t_max = (2 / math.pi * math.atan(sigma) for sigma in (sigma_min, sigma_max))
    fraction = torch.arange(steps, 0, -1, dtype=torch.float64) / steps
    sigmas = torch.tan(math.pi / 2 * (t_min + (t_max - t_min) * fraction))
    sigmas[0] = sigma_max  # exactly, not tan(atan(sigma_max)) rounded
    return _append_zero(sigmas)


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


# The tuned schedules, in log(sigma / sigma_data). Produced by `python
# benchmarks/tune_schedule.py`: exact output law of `deis` (order 3 with corrector) on Gaussian
# spectra other than the benchmark's; see benchmarks/RESULTS.md. Up to 15 steps every sigma was
# tuned (TUNED_LOG_SIGMAS); above, the shape is uniform in log-sigma from a first to a
# second-last value, then a free last one, and TUNED_SHAPES holds those three numbers.
TUNED_LOG_SIGMAS: dict[int, tuple[float, ...]] = {
    3: (5.04006, 0.73660, -9.21034),
    4: (4.73909, 0.95069, -2.72400, -9.21034),
    5: (4.41629, 1.58666, -0.10058, -1.27826, -2.45805),
    6: (5.37414, 2.62308, 1.01682, -0.31074, -1.43352, -3.36133),
    7: (5.70454, 2.72580, 1.03456, -0.29388, -1.44896, -3.12260, -4.44621),
    8: (4.21257, 2.92937, 1.91117, 0.75900, -0.33667, -1.45853, -2.57059, -3.70690),
    9: (4.42388, 3.18175, 2.14137, 1.01479, -0.05085, -1.13245, -2.20818, -3.24470, -4.31751),
    10: (4.75977, 3.57836, 2.51390, 1.39895, 0.31549, -0.77582, -1.89870, -3.08125, -4.23200,
            -5.86725),
    11: (5.03109, 3.92585, 2.88909, 1.79070, 0.72921, -0.32948, -1.39168, -2.47461, -3.56408,
            -4.63149, -5.75054),
    12: (5.89841, 4.86395, 3.82306, 2.73319, 1.67555, 0.62282, -0.43200, -1.49125, -2.56993,
            -3.65488, -4.71867, -5.80321),
    13: (6.43990, 5.37021, 4.31108, 3.24593, 2.18375, 1.13636, 0.08616, -0.96123, -2.02074,
            -3.08493, -4.14769, -5.21404, -6.27397),
    14: (4.23164, 3.65318, 3.23827, 2.73485, 2.04075, 1.11671, 0.32183, -0.47422, -1.17980,
            -1.52736, -2.05702, -2.67474, -3.11638, -4.68347),
    15: (4.22844, 3.71759, 3.22192, 2.72075, 1.92160, 0.99034, 0.15282, -0.66609, -1.39023,
            -1.91101, -2.46965, -3.19882, -3.89316, -4.68323, -5.28926),
}
TUNED_SHAPES: dict[int, tuple[float, float, float]] = {
    20: (5.11670, -3.10777, -4.34466),
    25: (5.48368, -3.04118, -4.35521),
    30: (5.80746, -3.76965, -4.94336),
    40: (6.23080, -4.10867, -5.43325),
    50: (6.52646, -4.64837, -5.89105),
    75: (7.15732, -5.56361, -6.81150),
    100: (7.60090, -6.10492, -7.31021),
}


def tuned(steps: int, sigma_data: float = 1.0) -> Tensor:
    """Sigmas tuned for cadenza's default sampler (``deis``, order 3 with corrector).

    Tabulated counts return the table. Other counts above 15 interpolate the three shape
    numbers linearly in the step count (beyond 100 they keep the 100-step values); 1 and 2
    steps use the first and last sigmas of the 3-step table. Sigmas scale with ``sigma_data``.
    """
    if steps in TUNED_LOG_SIGMAS:
        log_sigmas = list(TUNED_LOG_SIGMAS[steps])
    elif steps < min(TUNED_LOG_SIGMAS):
        first, *_, last = TUNED_LOG_SIGMAS[min(TUNED_LOG_SIGMAS)]
        log_sigmas = [first] if steps == 1 else [first, last]
    else:
        largest = max(TUNED_LOG_SIGMAS)
        table = TUNED_LOG_SIGMAS[largest]
        shapes = {largest: (table[0], table[-2], table[-1]), **TUNED_SHAPES}
        below = max(count for count in shapes if count <= steps)
        above = min((count for count in shapes if count >= steps), default=below)
        weight = 0.0 if above == below else (steps - below) / (above - below)
        first, second_last, last = (
            (1 - weight) * low + weight * high
            for low, high in zip(shapes[below], shapes[above], strict=True)
        )
        log_sigmas = torch.linspace(first, second_last, steps - 1, dtype=torch.float64).tolist()
        log_sigmas.append(last)
    return _append_zero(sigma_data * torch.tensor(log_sigmas, dtype=torch.float64).exp())


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
    ``cosine_grid`` (progressive distillation's nested grid) takes nothing else,
    ``vp_table`` takes ``alphas_cumprod`` and ``spacing``; ``tuned`` takes ``sigma_data``; both
    ignore ``sigma_min``/``sigma_max`` (their range is part of the table).
    """
    if steps < 1:
        raise ValueError(f"a schedule needs at least 1 step, got {steps}")
    if kind == "vp_table":
        return vp_table(steps, **options)
    if kind == "tuned":
        return tuned(steps, **options)
    if kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")
    if sigma_min is None or sigma_max is None:
        raise ValueError(f"schedule {kind!r} needs sigma_min and sigma_max")
    if not 0 < sigma_min < sigma_max:
        raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min} and {sigma_max}")
    if steps == 1:
        return _append_zero(torch.tensor([sigma_max], dtype=torch.float64))
    builders = {"karras": karras, "logsnr": logsnr, "cosine": cosine, "cosine_grid": cosine_grid}
    return builders[kind](steps, sigma_min, sigma_max, **options)
