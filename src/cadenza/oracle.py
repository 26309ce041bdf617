"""A Gaussian "audio" prior whose every diffusion quantity is known exactly.

Signals of ``length`` samples are drawn from a stationary, periodic Gaussian process with a chosen
power spectrum: x0 = irfft(sqrt(P) * rfft(white noise)). Its covariance is circulant, so the
orthonormal Fourier basis diagonalises everything:

- denoiser:        D(x, sigma)_k = P_k / (P_k + sigma^2) * X_k
- probability flow: X_k(sigma) is proportional to sqrt(P_k + sigma^2), so the ODE from sigma_a to
                    sigma_b multiplies bin k by sqrt((P_k + sigma_b^2) / (P_k + sigma_a^2))
- a known region:   the missing samples given the known ones are Gaussian with the usual
                    conditional mean and covariance of the circulant covariance matrix.

Any sampler driven by this denoiser is linear and diagonal in the Fourier basis, so the law of
its output is Gaussian with a per-frequency variance that :meth:`GaussianOracle.output_variance`
computes exactly, stochastic samplers included.

:func:`score_sampler` turns that into two exact numbers for one :class:`SamplerSetup` (method,
schedule, start noise) at a budget of model calls; the demo and ``benchmarks/samplers.py`` rank
samplers with it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from cadenza import plan
from cadenza.sampling import is_stochastic, sample
from cadenza.schedules import schedule

SPECTRA = ("white", "pink", "piano")


def power_spectrum(kind: str, length: int) -> Tensor:
    """Unnormalised power per rfft bin (length // 2 + 1 values, float64)."""
    bins = length // 2 + 1
    k = torch.arange(bins, dtype=torch.float64)
    if kind == "white":
        return torch.ones(bins, dtype=torch.float64)
    if kind == "pink":
        return 1 / k.clamp(min=1)  # 1/f, with the DC bin given the power of the first bin
    if kind == "piano":
        # Two notes a fifth apart, each a stretched (inharmonic) harmonic series with 1/m^2
        # amplitudes and peaks about a bin wide, over a quiet -40 dB noise floor.
        power = torch.full((bins,), 1e-4, dtype=torch.float64)
        for fundamental in (length / 32, 1.5 * length / 32):
            for m in range(1, 16):
                centre = m * fundamental * math.sqrt(1 + 4e-4 * m**2)
                if centre >= bins - 1:
                    break
                power += torch.exp(-0.5 * ((k - centre) / 0.8) ** 2) / m**2
        return power
    raise ValueError(f"unknown spectrum {kind!r}; choose one of {', '.join(SPECTRA)}")


class GaussianOracle:
    """Exact denoiser, samples, ODE flow and conditionals of a stationary Gaussian prior.

    Signals have shape ``(..., length)``; every leading dimension (batch, channels, frequency
    rows) is an independent draw. ``sigma`` arguments are floats or one value per example.
    """

    def __init__(self, power: Tensor, length: int, sigma_data: float = 1.0):
        power = torch.as_tensor(power, dtype=torch.float64)
        if power.shape != (length // 2 + 1,) or bool((power <= 0).any()):
            raise ValueError("power needs length // 2 + 1 positive values")
        self.length = length
        # Multiplicity of each rfft bin as real dimensions: DC (and Nyquist for even lengths)
        # are one real dimension, every other bin is two (cosine and sine).
        multiplicity = torch.full_like(power, 2.0)
        multiplicity[0] = 1
        if length % 2 == 0:
            multiplicity[-1] = 1
        self.multiplicity = multiplicity
        # Scale so that the average variance per sample is sigma_data^2.
        self.power = power * (sigma_data**2 * length / (multiplicity * power).sum())
        self.sigma_data = sigma_data

    @classmethod
    def from_spectrum(cls, kind: str, length: int = 256, sigma_data: float = 1.0) -> GaussianOracle:
        return cls(power_spectrum(kind, length), length, sigma_data)

    # ------------------------------------------------------------------ time domain

    def _filter(self, x: Tensor, gain: Tensor) -> Tensor:
        spectrum = torch.fft.rfft(x.to(torch.float64), norm="ortho")
        return torch.fft.irfft(spectrum * gain, n=self.length, norm="ortho").to(x.dtype)

    def _sigma(self, sigma: Tensor | float, x: Tensor) -> Tensor:
        sigma = torch.as_tensor(sigma, dtype=torch.float64, device=x.device)
        return sigma.reshape(-1, *([1] * (x.ndim - 1))) if sigma.ndim == 1 else sigma

    def sample(
        self, *shape: int, generator: torch.Generator | None = None, dtype=torch.float32
    ) -> Tensor:
        """Exact samples of shape ``(*shape, length)``."""
        white = torch.randn(*shape, self.length, generator=generator, dtype=torch.float64)
        return self._filter(white, self.power.sqrt()).to(dtype)

    def denoise(self, x: Tensor, sigma: Tensor | float) -> Tensor:
        """The exact posterior mean E[x0 | x0 + sigma * noise = x]."""
        sigma = self._sigma(sigma, x)
        return self._filter(x, self.power / (self.power + sigma**2))

    __call__ = denoise

    def ode(self, x: Tensor, sigma_from: float, sigma_to: float) -> Tensor:
        """Exact probability-flow ODE solution from ``sigma_from`` to ``sigma_to`` (0 allowed)."""
        gain = ((self.power + sigma_to**2) / (self.power + sigma_from**2)).sqrt()
        return self._filter(x, gain)

    def covariance(self) -> Tensor:
        """The (length, length) circulant covariance matrix of x0, float64."""
        autocovariance = torch.fft.irfft(self.power, n=self.length)
        lag = torch.arange(self.length)
        return autocovariance[(lag[:, None] - lag[None, :]) % self.length]

    def conditional(self, known: Tensor, reference: Tensor) -> tuple[Tensor, Tensor]:
        """Exact law of the missing samples given the known ones.

        ``known`` is a boolean mask of shape (length,), True where ``reference`` (shape
        (..., length)) is given. Returns the conditional mean (..., n_missing) and covariance
        (n_missing, n_missing), both float64.
        """
        known = torch.as_tensor(known, dtype=torch.bool)
        missing = ~known
        cov = self.covariance()
        cov_kk = cov[known][:, known]
        cov_mk = cov[missing][:, known]
        cholesky = torch.linalg.cholesky(cov_kk)
        solved = torch.cholesky_solve(cov_mk.T, cholesky)  # (n_known, n_missing) = C_kk^-1 C_km
        mean = reference.to(torch.float64)[..., known] @ solved
        covariance = cov[missing][:, missing] - cov_mk @ solved
        return mean, 0.5 * (covariance + covariance.T)

    def conditional_samples(
        self, known: Tensor, reference: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """Exact draws of the missing samples, one per row of ``reference``: (..., n_missing)."""
        mean, covariance = self.conditional(known, reference)
        factor = _cholesky(covariance)
        white = torch.randn(*mean.shape, generator=generator, dtype=torch.float64)
        return mean + white @ factor.T

    def conditional_fidelity(
        self, missing: Tensor, known: Tensor, reference: Tensor, *, within: Tensor | None = None
    ) -> float:
        """Per-dimension KL from N(0, I) of the whitened residuals of generated missing samples.

        ``missing`` (n, n_missing) are generated values where ``known`` is False, ``reference``
        (n, length) the signals they were conditioned on (one per row). Each residual from the
        exact conditional mean is whitened with the exact conditional covariance; a Gaussian
        N(m, S) fitted over the n rows is compared with N(0, I):
        KL = (tr S + |m|^2 - d - log det S) / (2 d). Both incoherent samples (S too wide, m off)
        and collapsed ones (S too narrow) score high. ``within`` (a mask over the missing samples)
        restricts the measure to a sub-block, marginalising the rest. The estimator's floor with
        n exact samples is about (d + 1) / (4 n); measure it with :meth:`conditional_samples`.
        """
        mean, covariance = self.conditional(known, reference)
        residual = missing.to(torch.float64) - mean
        if within is not None:
            within = torch.as_tensor(within, dtype=torch.bool)
            residual, covariance = residual[:, within], covariance[within][:, within]
        factor = _cholesky(covariance)
        white = torch.linalg.solve_triangular(factor, residual.T, upper=False).T
        count, dims = white.shape
        m = white.mean(0)
        centred = white - m
        fitted = centred.T @ centred / (count - 1)
        logdet = torch.linalg.slogdet(fitted)[1]
        return float((fitted.trace() + m @ m - dims - logdet) / (2 * dims))

    # -------------------------------------------------------- exact pipeline analysis

    def spectral_denoise(self, state: Tensor, sigma: Tensor | float) -> Tensor:
        """The denoiser acting on per-bin coefficients of shape (..., length // 2 + 1)."""
        sigma = self._sigma(sigma, state)
        return state * (self.power / (self.power + sigma**2))

    def output_variance(
        self,
        run: Callable[[Callable, Tensor, Callable], Tensor],
        start_std: float,
        noise_draws: int = 2048,
    ) -> Tensor:
        """Exact per-bin variance of a sampling pipeline's output, with no Monte Carlo.

        ``run(denoiser, x, noise)`` must run the sampler from state ``x`` with the given denoiser
        and noise source. The state handed over has one row per independent Gaussian source
        (row 0 the start noise of std ``start_std``, row j the j-th fresh noise draw), and each
        row tracks that source's coefficient in every frequency bin. As the pipeline is linear
        and diagonal, the output variance of bin k is the sum of squared coefficients.
        """
        bins = self.power.numel()
        state = torch.zeros(noise_draws + 1, 1, bins, dtype=torch.float64)
        state[0] = start_std
        draws = itertools.count(1)

        def noise(*_) -> Tensor:
            j = next(draws)
            if j > noise_draws:
                raise RuntimeError(f"the pipeline drew more than {noise_draws} noise tensors")
            unit = torch.zeros_like(state)
            unit[j] = 1
            return unit

        coefficients = run(self.spectral_denoise, state, noise)
        return (coefficients**2).sum(0).reshape(bins)

    def endpoint_gain(self, sigma_start: float, sigma_end: float = 0.0) -> Tensor:
        """Per-bin gain of the exact ODE flow; the reference for deterministic samplers."""
        return ((self.power + sigma_end**2) / (self.power + sigma_start**2)).sqrt()

    def relative_w2(self, variance: Tensor) -> float:
        """W2(N(0, diag variance), prior) / sqrt(E|x0|^2): exact for diagonal Gaussians."""
        gap = (variance.sqrt() - self.power.sqrt()) ** 2
        return math.sqrt(
            float((self.multiplicity * gap).sum() / (self.multiplicity * self.power).sum())
        )

    def relative_error(self, gain: Tensor, reference_gain: Tensor, start_std: float) -> float:
        """RMS distance of two linear maps of the same start noise, relative to the data RMS."""
        gap = (start_std * (gain - reference_gain)) ** 2
        return math.sqrt(
            float((self.multiplicity * gap).sum() / (self.multiplicity * self.power).sum())
        )


# ------------------------------------------------------------------------ the sampler study


@dataclass(frozen=True)
class SamplerSetup:
    """One way to sample: method and options, schedule kind and range, and the start noise.

    ``start`` is ``marginal`` (std sqrt(sigma_max^2 + sigma_data^2), the true noisy marginal)
    or ``sigma_max`` (std sigma_max, k-diffusion's and EDM's convention).
    """

    method: str
    schedule: str = "karras"
    sigma_min: float = 0.002
    sigma_max: float = 80.0
    schedule_options: dict = field(default_factory=dict)
    method_options: dict = field(default_factory=dict)
    start: str = "marginal"

    def steps_for(self, model_calls: int) -> int:
        """The most steps whose cost fits in ``model_calls`` (Heun pays 2 per step but the last)."""
        return max(1, (model_calls + 1) // 2) if self.method == "heun" else model_calls

    def sigmas(self, steps: int) -> Tensor:
        return schedule(
            self.schedule,
            steps,
            sigma_min=self.sigma_min,
            sigma_max=self.sigma_max,
            **self.schedule_options,
        )

    def start_std(self, sigma_data: float, sigma_start: float) -> float:
        if self.start == "marginal":
            return math.sqrt(sigma_start**2 + sigma_data**2)
        if self.start == "sigma_max":
            return sigma_start
        raise ValueError(f"unknown start {self.start!r}; choose marginal or sigma_max")

    def label(self) -> str:
        options = ",".join(
            f"{k}={v}" for k, v in {**self.schedule_options, **self.method_options}.items()
        )
        text = f"{self.method}/{self.schedule}"
        if self.schedule != "tuned":  # a tuned schedule carries its own range
            text += f"[{self.sigma_min:g},{self.sigma_max:g}]"
        return f"{text}({options})" if options else text


def score_sampler(oracle: GaussianOracle, setup: SamplerSetup, model_calls: int) -> dict:
    """Exact errors of ``setup`` at a budget of model calls, with no Monte Carlo.

    ``endpoint_error``: RMS distance between the output and the exact probability-flow ODE
    solution from the same start noise, relative to the data RMS (None for stochastic samplers).
    ``distribution_error``: relative 2-Wasserstein distance between the law of the output and
    the prior. This is what a listener hears: it counts integration error, the truncated sigma
    range and a mis-scaled start alike. The row keeps the key ``pipeline`` (the setup's label)
    that saved results and reports already use.
    """
    sigmas = setup.sigmas(setup.steps_for(model_calls))
    stochastic = is_stochastic(setup.method, **setup.method_options)
    start_std = setup.start_std(oracle.sigma_data, float(sigmas[0]))
    calls = 0

    def run(denoise, x, noise):
        def counted(state, sigma):
            nonlocal calls
            calls += 1
            return denoise(state, sigma)

        return sample(counted, x, sigmas, setup.method, noise=noise, **setup.method_options)

    variance = oracle.output_variance(run, start_std, noise_draws=len(sigmas) if stochastic else 0)
    endpoint = None
    if not stochastic:
        state = oracle.power.new_full((1, 1, oracle.power.numel()), 1.0)
        gain = sample(oracle.spectral_denoise, state, sigmas, setup.method, **setup.method_options)
        endpoint = oracle.relative_error(
            gain.reshape(-1), oracle.endpoint_gain(float(sigmas[0])), start_std
        )
    return {
        "pipeline": setup.label(),
        "method": setup.method,
        "schedule": setup.schedule,
        "model_calls": calls,
        "steps": len(sigmas) - 1,
        "endpoint_error": endpoint,
        "distribution_error": oracle.relative_w2(variance),
    }


DEFAULT_SETUP = SamplerSetup(plan.SAMPLER, plan.SCHEDULE,
                             method_options={"order": 3, "corrector": True})
"""cadenza's default: DEIS order 3 with the Adams-Moulton corrector on the tuned sigmas."""

REFERENCE_SETUP = SamplerSetup("unipc", "logsnr", sigma_min=0.02, sigma_max=80.0)
"""A common fixed schedule on which every method is compared (the best before tuning)."""


def _cholesky(covariance: Tensor) -> Tensor:
    """Cholesky factor of a conditional covariance, which rounding can leave barely indefinite."""
    jitter = 1e-12 * torch.eye(len(covariance), dtype=covariance.dtype)
    return torch.linalg.cholesky(covariance + jitter)
