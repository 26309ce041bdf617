"""Drive the schedulers of the `diffusers` library with the oracle's exact model, exactly.

A diffusers scheduler expects a network. Here the network is the oracle's exact posterior mean,
translated into what each scheduler family asks for:

- VP schedulers (DDPM, DDIM, PNDM, DPM-Solver, DEIS, UniPC, ...; ``init_noise_sigma == 1``) and
  the discrete Euler family (which scale their input by 1/sqrt(sigma^2+1)) both call
  ``model(x_vp, t)`` and want eps; sigma(t) is the scheduler's own table, interpolated in
  log-sigma exactly as diffusers maps sigma to fractional t.
- EDM schedulers call ``model(c_in x, 0.25 ln sigma)`` and want EDM's F.

Like cadenza's samplers, these are linear and diagonal in the Fourier basis on the oracle, so
the state is the per-source coefficient tensor of :meth:`GaussianOracle.output_variance`, and the
fresh noise a stochastic scheduler draws is intercepted (its module's ``randn_tensor``) and
replaced by the next unit source.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import torch

from cadenza.oracle import GaussianOracle


def _vp_log_sigmas(scheduler) -> torch.Tensor:
    abar = scheduler.alphas_cumprod.to(torch.float64)
    return ((1 - abar) / abar).sqrt().log()


def exact_model(oracle: GaussianOracle, scheduler):
    """The oracle as the network this scheduler expects."""
    if hasattr(scheduler, "precondition_noise"):  # EDM family
        sigma_data = scheduler.config.sigma_data

        def edm_model(x_in, t):
            sigma = torch.exp(4 * torch.as_tensor(t, dtype=torch.float64))
            total = sigma**2 + sigma_data**2
            x = x_in.to(torch.float64) * total.sqrt()
            denoised = oracle.spectral_denoise(x, sigma)
            c_skip, c_out = sigma_data**2 / total, sigma * sigma_data / total.sqrt()
            sign = -1.0 if scheduler.config.prediction_type == "v_prediction" else 1.0
            return ((denoised - c_skip * x) / (sign * c_out)).to(x_in.dtype)

        return edm_model
    log_sigmas = _vp_log_sigmas(scheduler)
    positions = torch.arange(len(log_sigmas), dtype=torch.float64)

    def eps_model(x_vp, t):
        t = torch.as_tensor(t, dtype=torch.float64).reshape(1)
        low = t.floor().long().clamp(0, len(log_sigmas) - 2)
        frac = t - positions[low]
        sigma = ((1 - frac) * log_sigmas[low] + frac * log_sigmas[low + 1]).exp()
        x = x_vp.to(torch.float64) * (1 + sigma**2).sqrt()
        return ((x - oracle.spectral_denoise(x, sigma)) / sigma).to(x_vp.dtype)

    return eps_model


@contextmanager
def intercepted_noise(scheduler, noise_rows: torch.Tensor):
    """Replace the scheduler module's ``randn_tensor`` by unit sources, one row per draw."""
    module = sys.modules[type(scheduler).__module__]
    original = getattr(module, "randn_tensor", None)
    state = {"draws": 0}

    def unit_source(shape, *args, **kwargs):
        state["draws"] += 1
        if state["draws"] >= noise_rows.shape[0]:
            raise RuntimeError("the scheduler drew more noise than the coefficient state holds")
        unit = torch.zeros_like(noise_rows)
        unit[state["draws"]] = 1
        return unit.to(kwargs.get("dtype") or noise_rows.dtype)

    if original is not None:
        module.randn_tensor = unit_source
    try:
        yield state
    finally:
        if original is not None:
            module.randn_tensor = original


def start_sigma(scheduler) -> tuple[float, float]:
    """(VE sigma of the first model call, VE std of one unit of the scheduler's start noise)."""
    if hasattr(scheduler, "precondition_noise") or scheduler.init_noise_sigma != 1:
        sigma = float(scheduler.sigmas[0])
        return sigma, float(scheduler.init_noise_sigma)
    t = int(scheduler.timesteps[0])
    sigma = float(_vp_log_sigmas(scheduler)[t].exp())
    return sigma, (1 + sigma**2) ** 0.5  # x_vp ~ N(0, 1) is x_ve ~ N(0, 1 + sigma^2)


def run_scheduler(oracle: GaussianOracle, scheduler, steps: int, noise_draws: int = 4096) -> dict:
    """Run one scheduler for ``steps`` inference steps; exact output law and endpoint gain."""
    scheduler.set_timesteps(steps)
    model = exact_model(oracle, scheduler)
    bins = oracle.power.numel()
    state = torch.zeros(noise_draws + 1, 1, bins, dtype=torch.float64)
    state[0] = float(scheduler.init_noise_sigma)
    calls = 0
    with intercepted_noise(scheduler, state) as drawn:
        sample = state
        for t in scheduler.timesteps:
            model_input = scheduler.scale_model_input(sample, t)
            output = model(model_input, t)
            calls += 1
            sample = scheduler.step(output, t, sample, return_dict=False)[0]
    variance = (sample.to(torch.float64) ** 2).sum(0).reshape(bins)
    sigma_start, unit_std = start_sigma(scheduler)
    result = {
        "model_calls": calls,
        "stochastic": drawn["draws"] > 0,
        "distribution_error": oracle.relative_w2(variance),
        "endpoint_error": None,
    }
    if not result["stochastic"]:
        # Row 0 is the coefficient of one unit of start noise, which in VE has std unit_std.
        gain = sample[0].reshape(bins).to(torch.float64)
        result["endpoint_error"] = oracle.relative_error(
            gain / unit_std, oracle.endpoint_gain(sigma_start), unit_std
        )
    return result
