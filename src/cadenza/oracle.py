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
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import torch
from torch import Tensor

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


def _cholesky(covariance: Tensor) -> Tensor:
    """Cholesky factor of a conditional covariance, which rounding can leave barely indefinite."""
    jitter = 1e-12 * torch.eye(len(covariance), dtype=covariance.dtype)
    return torch.linalg.cholesky(covariance + jitter)
