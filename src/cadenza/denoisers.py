"""Denoisers: every model is sampled as D(x, sigma) -> x0_hat in the variance-exploding frame.

A network F(x_in, c_noise) knows nothing of diffusion. The wrapper applies the preconditioning

    D(x, sigma) = c_skip(sigma) * x + c_out(sigma) * F(c_in(sigma) * x, c_noise(sigma))

where the parameterisation fixes c_skip, c_out and c_in, and a noise conditioning fixes what
the network is told about the noise level (EDM's ln(sigma)/4, a discrete timestep, a
continuous cosine time). A variance-preserving (VP) model sees x_vp = alpha * x0 + sigma_vp * eps;
dividing by alpha gives the VE frame with sigma = sigma_vp / alpha, and c_in = 1/sqrt(1+sigma^2)
is that division undone.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

PARAMETERIZATIONS = ("eps", "x0", "v", "edm")


# ----------------------------------------------------------------------------- VP tables


def linear_betas(steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Tensor:
    """DDPM's linear beta table (Ho et al. 2020)."""
    return torch.linspace(beta_start, beta_end, steps, dtype=torch.float64)


def cosine_betas(steps: int = 1000, offset: float = 0.008, max_beta: float = 0.999) -> Tensor:
    """Improved-DDPM's cosine table: abar(t) = f(t)/f(0), f(t) = cos^2((t/T + s)/(1 + s) * pi/2)."""
    t = torch.arange(steps + 1, dtype=torch.float64) / steps
    f = torch.cos((t + offset) / (1 + offset) * math.pi / 2) ** 2
    abar = f / f[0]
    return (1 - abar[1:] / abar[:-1]).clamp(max=max_beta)


def alphas_cumprod(betas: Tensor) -> Tensor:
    return torch.cumprod(1 - betas.to(torch.float64), dim=0)


def vp_sigmas(alphas_cumprod: Tensor) -> Tensor:
    """VE-frame sigma of every entry of a discrete VP table: sqrt((1 - abar) / abar)."""
    abar = alphas_cumprod.to(torch.float64)
    return ((1 - abar) / abar).sqrt()


def ve_to_vp(x: Tensor, sigma: Tensor | float) -> Tensor:
    """x_vp = x / sqrt(1 + sigma^2): the VP model's input for a VE state."""
    return x * as_column(1 / (1 + torch.as_tensor(sigma, dtype=torch.float64) ** 2).sqrt(), x)


def vp_to_ve(x_vp: Tensor, sigma: Tensor | float) -> Tensor:
    return x_vp * as_column((1 + torch.as_tensor(sigma, dtype=torch.float64) ** 2).sqrt(), x_vp)


def as_column(value: Tensor, like: Tensor) -> Tensor:
    """A float64 scalar or per-example tensor, cast to ``like``'s dtype and shaped to broadcast.

    One value per example becomes (batch, 1, ...) so it scales that example's every sample.
    """
    value = torch.as_tensor(value, dtype=torch.float64, device=like.device)
    if value.ndim == 1:
        value = value.reshape(-1, *([1] * (like.ndim - 1)))
    return value.to(like.dtype)


# ---------------------------------------------------------------------- noise conditioning


class LogSigma:
    """EDM's c_noise = ln(sigma) / 4."""

    def __call__(self, sigma: Tensor) -> Tensor:
        return sigma.log() / 4


class CosineTime:
    """Continuous time of the cosine schedule, t = (2/pi) atan(sigma / sigma_data), in [0, 1)."""

    def __init__(self, sigma_data: float = 1.0):
        self.sigma_data = sigma_data

    def __call__(self, sigma: Tensor) -> Tensor:
        return 2 / math.pi * torch.atan(sigma / self.sigma_data)

    def sigma(self, t: Tensor) -> Tensor:
        return self.sigma_data * torch.tan(math.pi / 2 * t)


class DiscreteTimesteps:
    """A discrete VP model's timestep index, fractional between table entries.

    sigma -> t interpolates linearly in log(sigma) between neighbouring table entries, and
    ``sigma(t)`` is its exact inverse, so a sampler may ask for any sigma inside the table.
    """

    def __init__(self, alphas_cumprod: Tensor):
        self.log_sigmas = vp_sigmas(alphas_cumprod).log()

    @property
    def sigma_min(self) -> float:
        return float(self.log_sigmas[0].exp())

    @property
    def sigma_max(self) -> float:
        return float(self.log_sigmas[-1].exp())

    def __call__(self, sigma: Tensor) -> Tensor:
        log_sigmas = self.log_sigmas.to(sigma.device)
        log_sigma = sigma.to(torch.float64).log().clamp(log_sigmas[0], log_sigmas[-1])
        high = torch.searchsorted(log_sigmas, log_sigma).clamp(1, len(log_sigmas) - 1)
        low = high - 1
        frac = (log_sigma - log_sigmas[low]) / (log_sigmas[high] - log_sigmas[low])
        return low + frac

    def sigma(self, t: Tensor) -> Tensor:
        t = torch.as_tensor(t, dtype=torch.float64)
        low = t.floor().long().clamp(0, len(self.log_sigmas) - 2)
        frac = t - low
        log_sigma = (1 - frac) * self.log_sigmas[low] + frac * self.log_sigmas[low + 1]
        return log_sigma.exp()


# ------------------------------------------------------------------------------ Denoiser


def preconditioning(
    parameterization: str, sigma: Tensor, sigma_data: float = 1.0
) -> tuple[Tensor, Tensor, Tensor]:
    """(c_skip, c_out, c_in) in float64 for a parameterisation, as the formulas read.

    eps: x0 = x - sigma * eps                       (VP input scaling)
    x0:  x0 = F                                      (VP input scaling)
    v:   x0 = x / (1 + sigma^2) - sigma / sqrt(1 + sigma^2) * v,  v = alpha eps - sigma_vp x0
    edm: Karras et al. 2022, Table 1, with a configurable sigma_data
    """
    sigma = torch.as_tensor(sigma, dtype=torch.float64)
    vp_in = 1 / (1 + sigma**2).sqrt()
    if parameterization == "eps":
        return torch.ones_like(sigma), -sigma, vp_in
    if parameterization == "x0":
        return torch.zeros_like(sigma), torch.ones_like(sigma), vp_in
    if parameterization == "v":
        return 1 / (1 + sigma**2), -sigma * vp_in, vp_in
    if parameterization == "edm":
        total = sigma**2 + sigma_data**2
        return sigma_data**2 / total, sigma * sigma_data / total.sqrt(), 1 / total.sqrt()
    raise ValueError(
        f"unknown parameterization {parameterization!r}; "
        f"choose one of {', '.join(PARAMETERIZATIONS)}"
    )


class Denoiser(nn.Module):
    """D(x, sigma) -> x0_hat around a network F(x_in, c_noise).

    ``sigma`` may be a float, a 0-d tensor or one value per example; the coefficients are
    computed in float64 and cast to the state's dtype, the network runs in whatever dtype it has.
    """

    def __init__(
        self,
        network: nn.Module | Callable[[Tensor, Tensor], Tensor],
        parameterization: str,
        noise_conditioning: Callable[[Tensor], Tensor],
        sigma_data: float = 1.0,
    ):
        super().__init__()
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(
                f"unknown parameterization {parameterization!r}; "
                f"choose one of {', '.join(PARAMETERIZATIONS)}"
            )
        self.network = network
        self.parameterization = parameterization
        self.noise_conditioning = noise_conditioning
        self.sigma_data = sigma_data

    def network_target(self, x: Tensor, x0: Tensor, sigma: Tensor) -> Tensor:
        """What F must output for D(x, sigma) to equal x0: (x0 - c_skip x) / c_out."""
        c_skip, c_out, _ = preconditioning(self.parameterization, sigma, self.sigma_data)
        return (x0 - as_column(c_skip, x) * x) / as_column(c_out, x)

    def forward(self, x: Tensor, sigma: Tensor | float) -> Tensor:
        sigma = torch.as_tensor(sigma, dtype=torch.float64, device=x.device)
        if sigma.ndim == 0:
            sigma = sigma.expand(x.shape[0])
        c_skip, c_out, c_in = preconditioning(self.parameterization, sigma, self.sigma_data)
        c_noise = self.noise_conditioning(sigma).to(torch.float32)
        output = self.network(as_column(c_in, x) * x, c_noise)
        return as_column(c_skip, x) * x + as_column(c_out, x) * output.to(x.dtype)
