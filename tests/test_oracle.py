import itertools
import math

import pytest
import torch

from cadenza.oracle import (
    DEFAULT_SETUP,
    REFERENCE_SETUP,
    SPECTRA,
    GaussianOracle,
    SamplerSetup,
    score_sampler,
)


@pytest.fixture(params=SPECTRA)
def oracle(request):
    return GaussianOracle.from_spectrum(request.param, 64)


def test_samples_have_the_prior_spectrum_and_unit_variance(oracle):
    generator = torch.Generator().manual_seed(0)
    x0 = oracle.sample(20000, generator=generator, dtype=torch.float64)
    assert abs(float(x0.var()) - 1.0) < 0.03
    power = torch.fft.rfft(x0, norm="ortho").abs().pow(2).mean(0)
    # 20000 draws: the per-bin periodogram has relative std 1/sqrt(20000) = 0.7% (1% at DC).
    assert torch.allclose(power, oracle.power, rtol=0.05)


def test_denoiser_is_the_posterior_mean_of_the_spectral_formula(oracle):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(3, 2, 64, generator=generator, dtype=torch.float64) * 2
    sigma = torch.tensor([0.1, 1.0, 10.0], dtype=torch.float64)
    spectrum = torch.fft.rfft(x, norm="ortho")
    expected = torch.fft.rfft(oracle.denoise(x, sigma), norm="ortho")
    assert torch.allclose(expected, oracle.spectral_denoise(spectrum, sigma), atol=1e-12)
    # Posterior mean check by brute force: the covariance formula C (C + s^2 I)^-1 x.
    cov = oracle.covariance()
    brute = x[1, 0] @ torch.linalg.solve(cov + torch.eye(64, dtype=torch.float64), cov)
    assert torch.allclose(oracle.denoise(x[1:2, :1], 1.0)[0, 0], brute, atol=1e-10)


def test_ode_flow_composes_and_matches_a_fine_euler_integration(oracle):
    x = torch.randn(2, 1, 64, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 5
    direct = oracle.ode(x, 5.0, 0.3)
    assert torch.allclose(oracle.ode(oracle.ode(x, 5.0, 1.0), 1.0, 0.3), direct, atol=1e-12)
    sigmas = torch.linspace(5.0, 0.3, 4001, dtype=torch.float64)
    state = x
    for sigma, sigma_next in itertools.pairwise(sigmas):
        state = state + (sigma_next - sigma) * (state - oracle.denoise(state, float(sigma))) / sigma
    assert torch.allclose(state, direct, rtol=5e-3, atol=5e-3)


def test_conditional_matches_the_precision_matrix_formula(oracle):
    known = torch.ones(64, dtype=torch.bool)
    known[20:36] = False
    reference = oracle.sample(3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    mean, covariance = oracle.conditional(known, reference)
    # Independent route: with precision L = C^-1, x_m | x_k ~ N(-L_mm^-1 L_mk x_k, L_mm^-1).
    precision = torch.linalg.inv(oracle.covariance())
    l_mm = precision[~known][:, ~known]
    l_mk = precision[~known][:, known]
    expected_cov = torch.linalg.inv(l_mm)
    expected_mean = -(reference[:, known] @ l_mk.T) @ expected_cov.T
    assert torch.allclose(covariance, expected_cov, atol=1e-6 * float(expected_cov.abs().max()))
    assert torch.allclose(mean, expected_mean, atol=1e-6 * float(reference.abs().max()))


def test_white_prior_has_an_uninformative_conditional():
    oracle = GaussianOracle.from_spectrum("white", 32)
    known = torch.arange(32) < 24
    mean, covariance = oracle.conditional(known, torch.randn(2, 32, dtype=torch.float64))
    assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-12)
    assert torch.allclose(covariance, torch.eye(8, dtype=torch.float64), atol=1e-12)


def test_relative_w2_is_zero_for_the_prior_and_exact_for_a_scaled_prior(oracle):
    assert oracle.relative_w2(oracle.power) == 0
    # Scaling every sample by 0.9 moves it by exactly 10% of the data RMS in W2.
    assert abs(oracle.relative_w2(oracle.power * 0.81) - 0.1) < 1e-12


def test_bad_power_is_refused():
    with pytest.raises(ValueError, match="positive"):
        GaussianOracle(torch.zeros(33), 64)
    with pytest.raises(ValueError, match="unknown spectrum"):
        GaussianOracle.from_spectrum("brown", 64)


# ------------------------------------------------------------------------ the sampler study


def test_score_sampler_counts_calls_and_converges_on_a_deterministic_setup():
    oracle = GaussianOracle.from_spectrum("piano", 64)
    setup = SamplerSetup("dpmpp_2m", "logsnr", sigma_min=0.02, sigma_max=80.0)
    coarse, fine = (score_sampler(oracle, setup, calls) for calls in (5, 20))
    assert (coarse["model_calls"], coarse["steps"], fine["model_calls"]) == (5, 5, 20)
    assert coarse["pipeline"] == setup.label() == "dpmpp_2m/logsnr[0.02,80]"
    assert fine["endpoint_error"] < coarse["endpoint_error"]
    assert fine["distribution_error"] < coarse["distribution_error"]


def test_score_sampler_fits_heun_in_the_budget_and_has_no_endpoint_for_stochastic_methods():
    oracle = GaussianOracle.from_spectrum("pink", 64)
    heun = score_sampler(oracle, SamplerSetup("heun"), 9)
    assert (heun["steps"], heun["model_calls"]) == (5, 9)  # 2 calls a step, 1 on the last
    ancestral = score_sampler(oracle, SamplerSetup("euler_ancestral"), 10)
    assert ancestral["endpoint_error"] is None and 0 < ancestral["distribution_error"] < 1


def test_setup_labels_and_start_noise():
    assert DEFAULT_SETUP.label() == "deis/tuned(order=3,corrector=True)"  # tuned: no range
    assert REFERENCE_SETUP.label() == "unipc/logsnr[0.02,80]"
    assert SamplerSetup("euler").start_std(1.0, 80.0) == pytest.approx(math.sqrt(6401))
    assert SamplerSetup("euler", start="sigma_max").start_std(1.0, 80.0) == 80.0
    with pytest.raises(ValueError, match="unknown start"):
        SamplerSetup("euler", start="zero").start_std(1.0, 80.0)
