import math

import pytest
import torch

from cadenza.denoisers import (
    CosineTime,
    Denoiser,
    DiscreteTimesteps,
    LogSigma,
    alphas_cumprod,
    cosine_betas,
    linear_betas,
    preconditioning,
    ve_to_vp,
    vp_sigmas,
    vp_to_ve,
)
from cadenza.oracle import GaussianOracle

ORACLE = GaussianOracle.from_spectrum("pink", 64)
SIGMAS = torch.tensor([0.02, 0.3, 1.0, 7.5, 60.0], dtype=torch.float64)


def noisy_batch():
    generator = torch.Generator().manual_seed(0)
    x0 = ORACLE.sample(5, 1, generator=generator, dtype=torch.float64)
    return x0 + SIGMAS.reshape(-1, 1, 1) * torch.randn(
        x0.shape, generator=generator, dtype=torch.float64
    )


@pytest.mark.parametrize("table", [linear_betas(), cosine_betas()], ids=["linear", "cosine"])
def test_discrete_timesteps_round_trip_between_sigma_and_t(table):
    timesteps = DiscreteTimesteps(alphas_cumprod(table))
    t = torch.tensor([0.0, 0.5, 17.25, 500.0, 998.9, 999.0], dtype=torch.float64)
    assert torch.allclose(timesteps(timesteps.sigma(t)), t, atol=1e-9)
    on_table = vp_sigmas(alphas_cumprod(table))[[0, 10, 999]]
    assert torch.allclose(timesteps(on_table), torch.tensor([0.0, 10, 999], dtype=torch.float64))


def test_vp_and_ve_frames_round_trip():
    x = torch.randn(3, 1, 16, dtype=torch.float64)
    sigma = torch.tensor([0.1, 1.0, 10.0], dtype=torch.float64)
    assert torch.allclose(vp_to_ve(ve_to_vp(x, sigma), sigma), x, atol=1e-12)


def ideal_eps_network_for_a_discrete_vp_model(table):
    """The exact eps(x_t, t) of a textbook VP model, written in VP terms, from the oracle."""
    abar_table = alphas_cumprod(table)
    timesteps = DiscreteTimesteps(abar_table)

    def network(x_t, t):
        sigma = timesteps.sigma(t.to(torch.float64)).reshape(-1, 1, 1)
        abar = 1 / (1 + sigma**2)
        x0 = ORACLE.denoise(x_t / abar.sqrt(), sigma.flatten())
        return (x_t - abar.sqrt() * x0) / (1 - abar).sqrt()

    return network, timesteps


def test_discrete_vp_eps_model_wrapped_is_the_exact_denoiser_on_and_off_the_table():
    network, timesteps = ideal_eps_network_for_a_discrete_vp_model(linear_betas())
    denoiser = Denoiser(network, "eps", timesteps)
    x = noisy_batch()
    assert torch.allclose(denoiser(x, SIGMAS), ORACLE.denoise(x, SIGMAS), atol=1e-9)


def test_cosine_v_model_wrapped_is_the_exact_denoiser():
    """v = alpha eps - sigma_vp x0 with alpha = cos(pi t/2), written as in Salimans & Ho."""

    def network(z, t):
        t = t.to(torch.float64).reshape(-1, 1, 1)
        alpha, sigma_vp = torch.cos(math.pi / 2 * t), torch.sin(math.pi / 2 * t)
        x0 = ORACLE.denoise(z / alpha, (sigma_vp / alpha).flatten())
        eps = (z - alpha * x0) / sigma_vp
        return alpha * eps - sigma_vp * x0

    denoiser = Denoiser(network, "v", CosineTime())
    x = noisy_batch()
    # The network is told t in float32 (as real networks are), so sigma(t) is good to ~1e-7.
    assert torch.allclose(denoiser(x, SIGMAS), ORACLE.denoise(x, SIGMAS), atol=1e-5)


@pytest.mark.parametrize("parameterization", ["eps", "x0", "v", "edm"])
def test_network_target_inverts_the_preconditioning(parameterization):
    """Whatever F the target says, wrapping it gives back x0 exactly."""
    x = noisy_batch()
    x0 = ORACLE.denoise(x, SIGMAS)
    shell = Denoiser(lambda x_in, c: x_in, parameterization, LogSigma(), sigma_data=0.5)
    target = shell.network_target(x, x0, SIGMAS)
    denoiser = Denoiser(lambda x_in, c: target, parameterization, LogSigma(), sigma_data=0.5)
    assert torch.allclose(denoiser(x, SIGMAS), x0, atol=1e-9)


def test_edm_preconditioning_matches_karras_table_1():
    sigma = torch.tensor([0.5, 2.0], dtype=torch.float64)
    c_skip, c_out, c_in = preconditioning("edm", sigma, sigma_data=0.5)
    assert torch.allclose(c_skip, 0.25 / (sigma**2 + 0.25))
    assert torch.allclose(c_out, sigma * 0.5 / (sigma**2 + 0.25).sqrt())
    assert torch.allclose(c_in, 1 / (sigma**2 + 0.25).sqrt())
    assert torch.allclose(LogSigma()(sigma), sigma.log() / 4)


def test_denoiser_accepts_a_scalar_sigma_and_keeps_the_state_dtype():
    denoiser = Denoiser(lambda x_in, c: torch.zeros_like(x_in), "eps", LogSigma())
    x = torch.ones(2, 1, 8)
    assert denoiser(x, 1.0).dtype == torch.float32
    assert torch.allclose(denoiser(x, 1.0), x)


def test_unknown_parameterization_is_refused():
    with pytest.raises(ValueError, match="unknown parameterization"):
        Denoiser(lambda x, c: x, "score", LogSigma())
