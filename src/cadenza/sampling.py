"""Samplers: small stateless functions over a schedule.

Every sampler integrates from ``sigmas[0]`` down the given sigmas (usually ending in 0) with a
denoiser ``D(x, sigma) -> x0_hat`` in the variance-exploding frame. Scalar maths (sigmas,
coefficients) is float64; the state keeps the dtype it came in. A schedule may end at a nonzero
sigma, in which case the state at that sigma is returned.

Hooks: ``step_hook(x, index, sigmas) -> x`` may change the state at the start of every step (this
is how editing enters the loop; samplers never see masks); ``callback(Step)`` sees every model
evaluation at a step's own sigma. ``noise(sigma, sigma_next) -> Tensor`` supplies the fresh
Gaussian noise of the stochastic samplers (default: ``torch.randn`` with ``generator``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor
from tqdm.auto import tqdm

from cadenza.integrator_weights import exponential_lagrange_weights, unipc_weights
from cadenza.plan import SAMPLER

Denoise = Callable[[Tensor, Tensor], Tensor]
StepHook = Callable[[Tensor, int, Tensor], Tensor]
NoiseSource = Callable[[float, float], Tensor]


@dataclass
class Step:
    """What a callback sees: the state entering step ``index`` and the model's estimate there."""

    index: int
    sigma: float
    sigma_next: float
    x: Tensor
    denoised: Tensor


class _Run:
    """Shared plumbing of one sampling run: hooks, callback, progress, model-call count."""

    def __init__(self, denoiser, x, sigmas, step_hook, callback, noise, generator, progress):
        self.denoiser = denoiser
        self.sigmas = sigmas
        self.step_hook = step_hook
        self.callback = callback
        self.generator = generator
        self.noise_source = noise
        self.shape_like = x
        self.progress = progress
        self.model_calls = 0

    def steps(self) -> Iterator[tuple[int, float, float]]:
        count = len(self.sigmas) - 1
        for i in tqdm(range(count), disable=not self.progress, desc="sampling", leave=False):
            yield i, float(self.sigmas[i]), float(self.sigmas[i + 1])

    def __call__(self, x: Tensor, sigma: float) -> Tensor:
        self.model_calls += 1
        sigma_batch = torch.full((x.shape[0],), sigma, dtype=torch.float64, device=x.device)
        return self.denoiser(x, sigma_batch)

    def enter(self, x: Tensor, i: int) -> tuple[Tensor, Tensor]:
        """Start step i: apply the step hook, evaluate the model, report to the callback."""
        if self.step_hook is not None:
            x = self.step_hook(x, i, self.sigmas)
        sigma, sigma_next = float(self.sigmas[i]), float(self.sigmas[i + 1])
        denoised = self(x, sigma)
        if self.callback is not None:
            self.callback(Step(i, sigma, sigma_next, x, denoised))
        return x, denoised

    def noise(self, sigma: float, sigma_next: float) -> Tensor:
        if self.noise_source is not None:
            return self.noise_source(sigma, sigma_next)
        like = self.shape_like
        return torch.randn(
            like.shape, generator=self.generator, dtype=like.dtype, device=like.device
        )


# ------------------------------------------------------------------ first-order samplers


def euler(run: _Run, x: Tensor) -> Tensor:
    """Euler's method on the probability-flow ODE dx/dsigma = (x - D(x, sigma)) / sigma."""
    for i, sigma, sigma_next in run.steps():
        x, denoised = run.enter(x, i)
        x = x + (sigma_next - sigma) * ((x - denoised) / sigma)
    return x


def ancestral_sigmas(sigma: float, sigma_next: float, eta: float = 1.0) -> tuple[float, float]:
    """Split a step into a deterministic move to sigma_down and fresh noise of std sigma_up.

    With eta = 1 the pair is the exact Gaussian posterior q(x_next | x, x0) of the VE process,
    which is DDPM's posterior step; eta = 0 is the deterministic DDIM step.
    """
    if sigma_next == 0:
        return 0.0, 0.0
    sigma_up = min(sigma_next, eta * sigma_next * math.sqrt(1 - sigma_next**2 / sigma**2))
    return math.sqrt(sigma_next**2 - sigma_up**2), sigma_up


def ddim(run: _Run, x: Tensor, eta: float = 0.0, s_noise: float = 1.0) -> Tensor:
    """DDIM with stochasticity eta: x_next = x0 + sigma_down * eps_hat + sigma_up * z.

    eta = 1 is DDPM's ancestral posterior step (``ddpm``) and k-diffusion's Euler ancestral
    (``euler_ancestral``): the three are one update, written once.
    """
    for i, sigma, sigma_next in run.steps():
        x, denoised = run.enter(x, i)
        sigma_down, sigma_up = ancestral_sigmas(sigma, sigma_next, eta)
        x = denoised + sigma_down * ((x - denoised) / sigma)
        if sigma_up > 0:
            x = x + run.noise(sigma, sigma_next) * (s_noise * sigma_up)
    return x


def ddpm(run: _Run, x: Tensor) -> Tensor:
    """Ancestral sampling with the DDPM posterior variance (beta-tilde)."""
    return ddim(run, x, eta=1.0)


def euler_ancestral(run: _Run, x: Tensor, eta: float = 1.0, s_noise: float = 1.0) -> Tensor:
    return ddim(run, x, eta=eta, s_noise=s_noise)


# ------------------------------------------------------------------------- EDM's Heun


def heun(
    run: _Run,
    x: Tensor,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = float("inf"),
    s_noise: float = 1.0,
) -> Tensor:
    """EDM Algorithm 2: Heun's 2nd-order method with churn (S_churn, S_min, S_max, S_noise).

    Costs 2 model calls per step, 1 on a final step to sigma = 0.
    """
    count = len(run.sigmas) - 1
    for i, sigma, sigma_next in run.steps():
        gamma = min(s_churn / count, math.sqrt(2) - 1) if s_tmin <= sigma <= s_tmax else 0.0
        if gamma > 0:
            if run.step_hook is not None:
                x = run.step_hook(x, i, run.sigmas)
            sigma_hat = sigma * (1 + gamma)
            x = x + run.noise(sigma, sigma_hat) * (s_noise * math.sqrt(sigma_hat**2 - sigma**2))
            denoised = run(x, sigma_hat)
            if run.callback is not None:
                run.callback(Step(i, sigma_hat, sigma_next, x, denoised))
        else:
            sigma_hat = sigma
            x, denoised = run.enter(x, i)
        slope = (x - denoised) / sigma_hat
        x_next = x + (sigma_next - sigma_hat) * slope
        if sigma_next > 0:
            slope_next = (x_next - run(x_next, sigma_next)) / sigma_next
            x_next = x + (sigma_next - sigma_hat) * 0.5 * (slope + slope_next)
        x = x_next
    return x


# ------------------------------------------------------------------- DPM-Solver++ family


def dpmpp_2m(run: _Run, x: Tensor) -> Tensor:
    """DPM-Solver++(2M): 2nd-order multistep exponential integrator in log-sigma."""
    old_denoised, h_last = None, None
    for i, sigma, sigma_next in run.steps():
        x, denoised = run.enter(x, i)
        if sigma_next == 0:
            x = denoised
            continue
        h = math.log(sigma / sigma_next)
        if old_denoised is not None:
            r = h_last / h
            denoised_used = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
        else:
            denoised_used = denoised
        x = (sigma_next / sigma) * x - math.expm1(-h) * denoised_used
        old_denoised, h_last = denoised, h
    return x


def dpmpp_2m_sde(run: _Run, x: Tensor, eta: float = 1.0, s_noise: float = 1.0) -> Tensor:
    """DPM-Solver++(2M) SDE, midpoint variant; eta = 0 makes it an ODE solver."""
    old_denoised, h_last = None, None
    for i, sigma, sigma_next in run.steps():
        x, denoised = run.enter(x, i)
        if sigma_next == 0:
            x = denoised
            continue
        h = math.log(sigma / sigma_next)
        eta_h = eta * h
        x = (sigma_next / sigma) * math.exp(-eta_h) * x - math.expm1(-h - eta_h) * denoised
        if old_denoised is not None:
            r = h_last / h
            x = x - 0.5 * math.expm1(-h - eta_h) / r * (denoised - old_denoised)
        if eta > 0:
            x = x + run.noise(sigma, sigma_next) * (
                sigma_next * math.sqrt(-math.expm1(-2 * eta_h)) * s_noise
            )
        old_denoised, h_last = denoised, h
    return x


def dpmpp_3m_sde(run: _Run, x: Tensor, eta: float = 1.0, s_noise: float = 1.0) -> Tensor:
    """DPM-Solver++(3M) SDE (Lu et al. 2022); eta = 0 is the deterministic 3rd-order solver."""
    denoised_1 = denoised_2 = None
    h_1 = h_2 = None
    for i, sigma, sigma_next in run.steps():
        x, denoised = run.enter(x, i)
        if sigma_next == 0:
            x = denoised
            continue
        h = math.log(sigma / sigma_next)
        h_eta = h * (eta + 1)
        x = math.exp(-h_eta) * x - math.expm1(-h_eta) * denoised
        phi_2 = math.expm1(-h_eta) / h_eta + 1
        if h_2 is not None:
            r0, r1 = h_1 / h, h_2 / h
            d1_0 = (denoised - denoised_1) / r0
            d1_1 = (denoised_1 - denoised_2) / r1
            d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1)
            d2 = (d1_0 - d1_1) / (r0 + r1)
            phi_3 = phi_2 / h_eta - 0.5
            # d2 estimates h^2 x0''/2, and the exact Taylor weight of x0'' is -h^2 phi_3, hence
            # 2 phi_3. k-diffusion and diffusers use phi_3 alone, which is only 2nd-order accurate
            # (measured on the Gaussian oracle: error slope 2.0 against 3.0 with this weight).
            x = x + phi_2 * d1 - 2 * phi_3 * d2
        elif h_1 is not None:
            x = x + phi_2 * ((denoised - denoised_1) / (h_1 / h))
        if eta > 0:
            x = x + run.noise(sigma, sigma_next) * (
                sigma_next * math.sqrt(-math.expm1(-2 * eta * h)) * s_noise
            )
        denoised_1, denoised_2 = denoised, denoised_1
        h_1, h_2 = h, h_1
    return x


# ----------------------------------------------------------------------------- DEIS


def deis(run: _Run, x: Tensor, order: int = 3, corrector: bool = True) -> Tensor:
    """DEIS (Zhang & Chen 2023), log-rho Adams-Bashforth, with an optional Adams-Moulton corrector.

    In the VE frame the probability-flow ODE is dx/dsigma = eps_hat(x, sigma). With u = log sigma
    the update integrates eps_hat e^u du exactly over the Lagrange polynomial through the last
    ``order`` values of eps_hat in u (eps_hat is nearly constant at high noise, so this is
    accurate where data-prediction solvers are not). The final step to sigma = 0 is x = D(x).

    ``corrector=True`` (the default; ``False`` is DEIS as published) re-integrates each step
    once the next model evaluation is known, with that value as one more node: one order
    higher (Adams-Moulton, as UniC does for UniPC) at no extra model calls.
    """
    if order not in (1, 2, 3):
        raise ValueError(f"deis supports order 1, 2 or 3, got {order}")
    history: list[tuple[float, Tensor]] = []  # (log sigma, eps_hat), newest first
    previous = None  # (x, sigma) where the last predictor step started
    for i, sigma, sigma_next in run.steps():
        x, denoised = run.enter(x, i)
        log_sigma = math.log(sigma)
        if corrector and previous is not None:
            x_start, sigma_start = previous
            nodes = [(log_sigma, (x - denoised) / sigma), *history][: order + 1]
            weights = exponential_lagrange_weights(
                [u for u, _ in nodes], math.log(sigma_start), log_sigma
            )
            x = x_start + sum(w * eps for w, (_, eps) in zip(weights, nodes, strict=True))
        history = [(log_sigma, (x - denoised) / sigma), *history][:order]
        if sigma_next == 0:
            x = denoised
            continue
        weights = exponential_lagrange_weights(
            [u for u, _ in history], log_sigma, math.log(sigma_next)
        )
        previous = (x, sigma)
        x = x + sum(w * eps for w, (_, eps) in zip(weights, history, strict=True))
    return x


# --------------------------------------------------------------------------------- UniPC


def unipc(run: _Run, x: Tensor, order: int = 3, corrector: bool = True) -> Tensor:
    """UniPC (Zhao et al. 2023): UniP-p predictor with the UniC corrector, bh2, data prediction.

    The corrector reuses the model evaluation of the next step, so it costs no extra calls and
    raises the order by one. Orders drop near the start (warm-up) and on the last steps.
    """
    if order not in (1, 2, 3):
        raise ValueError(f"unipc supports order 1, 2 or 3, got {order}")
    lambdas: list[float] = []  # lambda = -log(sigma) of past steps, newest last
    outputs: list[Tensor] = []
    pending = None  # what the corrector needs from the previous predictor step
    for i, sigma, sigma_next in run.steps():
        x, denoised = run.enter(x, i)
        if pending is not None and corrector:
            x_linear, b_h, differences, rhos_c = pending
            x = x_linear - b_h * (
                sum(rho * d for rho, d in zip(rhos_c[:-1], differences, strict=True))
                + rhos_c[-1] * (denoised - outputs[-1])
            )
        lambdas.append(-math.log(sigma))
        outputs.append(denoised)
        if sigma_next == 0:
            x, pending = denoised, None
            continue
        this_order = min(order, i + 1)
        h = -math.log(sigma_next) - lambdas[-1]
        rks, differences = [], []
        for k in range(1, this_order):
            rk = (lambdas[-1 - k] - lambdas[-1]) / h
            rks.append(rk)
            differences.append((outputs[-1 - k] - outputs[-1]) / rk)
        rks.append(1.0)
        rhos_p, rhos_c = unipc_weights(rks, h)
        b_h = math.expm1(-h)
        x_linear = (sigma_next / sigma) * x - math.expm1(-h) * outputs[-1]
        x = x_linear - b_h * sum(rho * d for rho, d in zip(rhos_p, differences, strict=True))
        pending = (x_linear, b_h, differences, rhos_c)
    return x


# ------------------------------------------------------------------------ the entry point

SAMPLERS: dict[str, Callable[..., Tensor]] = {
    "ddpm": ddpm,
    "ddim": ddim,
    "euler": euler,
    "euler_ancestral": euler_ancestral,
    "heun": heun,
    "dpmpp_2m": dpmpp_2m,
    "dpmpp_2m_sde": dpmpp_2m_sde,
    "dpmpp_3m_sde": dpmpp_3m_sde,
    "deis": deis,
    "unipc": unipc,
}
METHODS: tuple[str, ...] = tuple(SAMPLERS)
STOCHASTIC: frozenset[str] = frozenset({"ddpm", "euler_ancestral", "dpmpp_2m_sde", "dpmpp_3m_sde"})


def is_stochastic(method: str, **options) -> bool:
    """Whether a method with these options draws fresh noise."""
    if method == "ddim":
        return options.get("eta", 0.0) > 0
    if method == "heun":
        return options.get("s_churn", 0.0) > 0
    if method in ("euler_ancestral", "dpmpp_2m_sde", "dpmpp_3m_sde"):
        return options.get("eta", 1.0) > 0
    return method in STOCHASTIC


def model_calls(method: str, steps: int) -> int:
    """Model evaluations for ``steps`` steps ending at sigma = 0."""
    return 2 * steps - 1 if method == "heun" else steps


def start_noise(
    shape: tuple[int, ...] | torch.Size,
    sigma_max: float,
    *,
    sigma_data: float = 0.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Starting state at sigma_max: N(0, sigma_max^2 + sigma_data^2).

    The noisy marginal of data with variance sigma_data^2 has exactly this variance; the common
    ``randn * sigma_max`` drops sigma_data^2 and shrinks every sample a little.
    """
    std = math.sqrt(sigma_max**2 + sigma_data**2)
    return torch.randn(shape, generator=generator, device=device, dtype=dtype) * std


def sample(
    denoiser: Denoise,
    x: Tensor,
    sigmas: Tensor,
    method: str = SAMPLER,
    *,
    generator: torch.Generator | None = None,
    noise: NoiseSource | None = None,
    step_hook: StepHook | None = None,
    callback: Callable[[Step], None] | None = None,
    progress: bool = False,
    **options,
) -> Tensor:
    """Run ``method`` from state ``x`` at ``sigmas[0]`` down the schedule; returns the final state.

    ``x`` is ``(batch, channels, time)`` or ``(batch, channels, freq, time)``; ``denoiser`` is any
    callable ``(x, sigma) -> x0_hat`` taking one float64 sigma per example.
    """
    if method not in SAMPLERS:
        raise ValueError(f"unknown sampler {method!r}; choose one of {', '.join(METHODS)}")
    sigmas = torch.as_tensor(sigmas, dtype=torch.float64).cpu()
    if sigmas.ndim != 1 or len(sigmas) < 2:
        raise ValueError("sigmas must be a 1-D schedule of at least two values")
    if bool((sigmas[1:] >= sigmas[:-1]).any()) or float(sigmas[-1]) < 0:
        raise ValueError("sigmas must be strictly decreasing and non-negative")
    run = _Run(denoiser, x, sigmas, step_hook, callback, noise, generator, progress)
    with torch.no_grad():
        return SAMPLERS[method](run, x, **options)
