"""Training objectives: how a clean batch becomes a loss, and the Denoiser that samples it.

- ``ddpm``:    discrete VP table (linear or cosine betas), eps target, L2 or L1 (Ho et al. 2020).
- ``vcosine``: continuous alpha = cos(pi t / 2), v target, ``snr_trunc`` or ``snr+1`` weighting
               (Salimans & Ho 2022, seed 001).
- ``edm``:     log-normal sigma, preconditioned D, weight 1/c_out^2 (Karras et al. 2022, seed 002).

Networks are called as ``network(x_in, c_noise)``; an objective never looks inside them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from cadenza.denoisers import (
    CosineTime,
    Denoiser,
    DiscreteTimesteps,
    LogSigma,
    alphas_cumprod,
    cosine_betas,
    linear_betas,
)


def _column(values: Tensor, like: Tensor) -> Tensor:
    return values.reshape(-1, *([1] * (like.ndim - 1))).to(like.dtype)


def _randn_like(x: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def _uniform(count: int, x: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.rand(count, generator=generator, dtype=torch.float64, device=x.device)


@dataclass
class DDPM:
    """Discrete-time DDPM: t uniform over the table, predict eps."""

    betas: str = "linear"
    timesteps: int = 1000
    loss_type: str = "l2"
    alphas_cumprod: Tensor = field(init=False, repr=False)

    def __post_init__(self):
        if self.betas == "linear":
            table = linear_betas(self.timesteps)
        elif self.betas == "cosine":
            table = cosine_betas(self.timesteps)
        else:
            raise ValueError(f"unknown betas {self.betas!r}; choose linear or cosine")
        if self.loss_type not in ("l1", "l2"):
            raise ValueError(f"unknown loss_type {self.loss_type!r}; choose l1 or l2")
        self.alphas_cumprod = alphas_cumprod(table)

    @property
    def sigma_range(self) -> tuple[float, float]:
        timesteps = DiscreteTimesteps(self.alphas_cumprod)
        return timesteps.sigma_min, timesteps.sigma_max

    def loss(
        self, network: nn.Module, x0: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        t = (
            (_uniform(x0.shape[0], x0, generator) * self.timesteps)
            .long()
            .clamp(max=self.timesteps - 1)
        )
        abar = _column(self.alphas_cumprod.to(x0.device)[t], x0)
        noise = _randn_like(x0, generator)
        x_t = abar.sqrt() * x0 + (1 - abar).sqrt() * noise
        error = network(x_t, t.to(torch.float32)) - noise
        return error.abs().mean() if self.loss_type == "l1" else error.pow(2).mean()

    def denoiser(self, network: nn.Module) -> Denoiser:
        return Denoiser(network, "eps", DiscreteTimesteps(self.alphas_cumprod))


@dataclass
class VCosine:
    """Continuous cosine schedule with v-prediction; the network sees t in [0, 1]."""

    weighting: str = "snr_trunc"
    t_min: float = 1e-3
    t_max: float = 1 - 1e-3

    def __post_init__(self):
        if self.weighting not in ("snr_trunc", "snr+1"):
            raise ValueError(f"unknown weighting {self.weighting!r}; choose snr_trunc or snr+1")

    @property
    def sigma_range(self) -> tuple[float, float]:
        return math.tan(math.pi / 2 * self.t_min), math.tan(math.pi / 2 * self.t_max)

    def loss(
        self, network: nn.Module, x0: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        t = self.t_min + (self.t_max - self.t_min) * _uniform(x0.shape[0], x0, generator)
        alpha, sigma = torch.cos(math.pi / 2 * t), torch.sin(math.pi / 2 * t)
        noise = _randn_like(x0, generator)
        z = _column(alpha, x0) * x0 + _column(sigma, x0) * noise
        v = _column(alpha, x0) * noise - _column(sigma, x0) * x0
        # The x0-space error is sigma^2 |v_hat - v|^2, so weight w(SNR) on x0 is w * sigma^2 on v:
        # snr+1 gives 1 (plain v loss), snr_trunc = max(SNR, 1) gives max(alpha^2, sigma^2).
        weight = (
            torch.ones_like(t) if self.weighting == "snr+1" else torch.maximum(alpha**2, sigma**2)
        )
        error = network(z, t.to(torch.float32)) - v
        return (_column(weight, x0) * error.pow(2)).mean()

    def denoiser(self, network: nn.Module) -> Denoiser:
        return Denoiser(network, "v", CosineTime())


@dataclass
class EDM:
    """EDM training: ln(sigma) ~ N(P_mean, P_std^2), loss weight 1 / c_out^2."""

    sigma_data: float = 0.5
    p_mean: float = -1.2
    p_std: float = 1.2
    sigma_min: float = 0.002
    sigma_max: float = 80.0

    @property
    def sigma_range(self) -> tuple[float, float]:
        return self.sigma_min, self.sigma_max

    def loss(
        self, network: nn.Module, x0: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        normal = torch.randn(
            x0.shape[0], generator=generator, dtype=torch.float64, device=x0.device
        )
        sigma = (normal * self.p_std + self.p_mean).exp()
        noisy = x0 + _column(sigma, x0) * _randn_like(x0, generator)
        weight = (sigma**2 + self.sigma_data**2) / (sigma * self.sigma_data) ** 2
        error = self.denoiser(network)(noisy, sigma) - x0
        return (_column(weight, x0) * error.pow(2)).mean()

    def denoiser(self, network: nn.Module) -> Denoiser:
        return Denoiser(network, "edm", LogSigma(), self.sigma_data)


OBJECTIVES = {"ddpm": DDPM, "vcosine": VCosine, "edm": EDM}


def objective(name: str, **options) -> DDPM | VCosine | EDM:
    """Build an objective by name with its options (e.g. ``objective("edm", sigma_data=0.2)``)."""
    if name not in OBJECTIVES:
        raise ValueError(f"unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name](**options)
