"""Exact evaluation of sampling pipelines (start noise, schedule, sampler) on the Gaussian oracle.

Two numbers per pipeline and budget of model calls, both exact (no Monte Carlo):

- ``endpoint_error``: RMS distance between the sampler's output and the exact probability-flow
  ODE solution from the same start noise, relative to the data RMS (deterministic samplers only);
- ``distribution_error``: relative 2-Wasserstein distance between the law of the output and the
  prior. This is what a user hears: it counts integration error, the truncated sigma range and
  a mis-scaled start alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from cadenza.oracle import GaussianOracle
from cadenza.sampling import is_stochastic, sample
from cadenza.schedules import schedule


@dataclass(frozen=True)
class Pipeline:
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

    def sigmas(self, steps: int):
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


def evaluate(oracle: GaussianOracle, pipeline: Pipeline, model_calls: int) -> dict:
    """Exact endpoint and distribution errors of ``pipeline`` at a budget of model calls."""
    sigmas = pipeline.sigmas(pipeline.steps_for(model_calls))
    stochastic = is_stochastic(pipeline.method, **pipeline.method_options)
    start_std = pipeline.start_std(oracle.sigma_data, float(sigmas[0]))
    calls = 0

    def run(denoise, x, noise):
        def counted(state, sigma):
            nonlocal calls
            calls += 1
            return denoise(state, sigma)

        return sample(counted, x, sigmas, pipeline.method, noise=noise, **pipeline.method_options)

    variance = oracle.output_variance(run, start_std, noise_draws=len(sigmas) if stochastic else 0)
    endpoint = None
    if not stochastic:
        state = oracle.power.new_full((1, 1, oracle.power.numel()), 1.0)
        gain = sample(
            oracle.spectral_denoise, state, sigmas, pipeline.method, **pipeline.method_options
        )
        endpoint = oracle.relative_error(
            gain.reshape(-1), oracle.endpoint_gain(float(sigmas[0])), start_std
        )
    return {
        "pipeline": pipeline.label(),
        "method": pipeline.method,
        "schedule": pipeline.schedule,
        "model_calls": calls,
        "steps": len(sigmas) - 1,
        "endpoint_error": endpoint,
        "distribution_error": oracle.relative_w2(variance),
    }


DEFAULT_PIPELINE = Pipeline("deis", "tuned", method_options={"order": 3, "corrector": True})
"""cadenza's default: DEIS order 3 with the Adams-Moulton corrector on the tuned sigmas."""

REFERENCE_PIPELINE = Pipeline("unipc", "logsnr", sigma_min=0.02, sigma_max=80.0)
"""A common fixed schedule on which every method is compared (the best before tuning)."""
