import math

import pytest
import torch

from cadenza.denoisers import alphas_cumprod, linear_betas, vp_sigmas
from cadenza.oracle import GaussianOracle
from cadenza.sampling import METHODS, is_stochastic, sample, start_noise
from cadenza.schedules import schedule

PIANO = GaussianOracle.from_spectrum("piano", 128)


def ode_errors(method: str, steps_list, **options) -> list[float]:
    """Relative RMS error against the exact ODE solution from sigma 80 to 0.05 (no final jump)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(4, 1, 128, generator=generator, dtype=torch.float64) * 80.0
    exact = PIANO.ode(x, 80.0, 0.05)
    errors = []
    for steps in steps_list:
        sigmas = schedule("karras", steps, sigma_min=0.05, sigma_max=80.0)[:-1]
        result = sample(PIANO, x, sigmas, method, **options)
        errors.append(float((result - exact).norm() / exact.norm()))
    return errors


def fitted_order(steps_list, errors) -> float:
    """Slope of -log(error) against log(steps): the observed order of convergence."""
    log_steps = torch.tensor([math.log(s) for s in steps_list], dtype=torch.float64)
    log_errors = torch.tensor([math.log(e) for e in errors], dtype=torch.float64)
    centred = log_steps - log_steps.mean()
    return float(-(centred * (log_errors - log_errors.mean())).sum() / centred.pow(2).sum())


@pytest.mark.parametrize(
    ("method", "options", "low", "high"),
    [
        ("euler", {}, 0.9, 1.1),
        ("ddim", {}, 0.9, 1.1),
        ("heun", {}, 1.9, 2.3),
        ("dpmpp_2m", {}, 1.9, 2.3),
        ("dpmpp_2m_sde", {"eta": 0.0}, 1.9, 2.3),
        ("dpmpp_3m_sde", {"eta": 0.0}, 2.8, 3.3),
        ("deis", {"order": 2, "corrector": False}, 1.9, 2.3),
        ("deis", {"order": 3, "corrector": False}, 2.7, 3.3),
        ("deis", {"order": 2, "corrector": True}, 2.7, 3.3),  # the corrector adds one order
        ("deis", {"order": 3, "corrector": True}, 3.7, 4.6),  # 4.4: not yet asymptotic
        ("unipc", {"order": 2}, 2.8, 3.3),  # UniP-2 with the UniC corrector: order 3
        ("unipc", {"order": 3}, 3.7, 4.3),
    ],
)
def test_deterministic_samplers_converge_to_the_exact_ode_solution_at_their_order(
    method, options, low, high
):
    steps_list = [24, 48, 96, 192]
    errors = ode_errors(method, steps_list, **options)
    # Model calls are proportional to steps for every method, so the slope is the same per call.
    assert low <= fitted_order(steps_list, errors) <= high, errors


def test_ddim_with_eta_zero_is_euler_in_sigma_space():
    x = torch.randn(2, 1, 128, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 10
    sigmas = schedule("karras", 15, sigma_min=0.01, sigma_max=10.0)
    ddim = sample(PIANO, x, sigmas, "ddim", eta=0.0)
    euler = sample(PIANO, x, sigmas, "euler")
    assert torch.allclose(ddim, euler, rtol=1e-12, atol=1e-12)


def test_ddpm_on_the_full_table_is_the_textbook_posterior_step():
    """Ho et al. Algorithm 2 with sigma_t^2 = beta-tilde, in VP coordinates, against ``ddpm``."""
    betas = linear_betas()
    abar = alphas_cumprod(betas)
    sigmas = torch.cat([vp_sigmas(abar).flip(0), torch.zeros(1, dtype=torch.float64)])
    generator = torch.Generator().manual_seed(2)
    noises = torch.randn(1000, 2, 1, 32, generator=generator, dtype=torch.float64)
    oracle = GaussianOracle.from_spectrum("pink", 32)
    start = torch.randn(2, 1, 32, generator=generator, dtype=torch.float64)

    draws = iter(noises)
    ours = sample(
        oracle, start * (1 + sigmas[0] ** 2).sqrt(), sigmas, "ddpm", noise=lambda *_: next(draws)
    )

    x_t = start  # VP state x_T ~ N(0, I)
    for step, t in enumerate(range(999, -1, -1)):
        sigma = math.sqrt((1 - abar[t]) / abar[t])
        eps = (x_t / abar[t].sqrt() - oracle.denoise(x_t / abar[t].sqrt(), sigma)) / sigma
        x0 = (x_t - (1 - abar[t]).sqrt() * eps) / abar[t].sqrt()
        abar_prev = abar[t - 1] if t > 0 else torch.tensor(1.0, dtype=torch.float64)
        mean = (abar_prev.sqrt() * betas[t] / (1 - abar[t])) * x0 + (
            (1 - betas[t]).sqrt() * (1 - abar_prev) / (1 - abar[t])
        ) * x_t
        variance = betas[t] * (1 - abar_prev) / (1 - abar[t])
        x_t = mean + variance.sqrt() * noises[step] if t > 0 else mean
    assert torch.allclose(ours, x_t, rtol=1e-9, atol=1e-9)


STOCHASTIC_CASES = [
    ("ddpm", {}),
    ("euler_ancestral", {}),
    ("ddim", {"eta": 0.5}),
    ("dpmpp_2m_sde", {}),
    ("dpmpp_3m_sde", {}),
    ("heun", {"s_churn": 20.0, "s_tmin": 0.05, "s_tmax": 10.0}),
]


@pytest.mark.parametrize(("method", "options"), STOCHASTIC_CASES)
def test_stochastic_samplers_reproduce_the_prior_power_spectrum(method, options):
    """Monte Carlo power spectrum against the prior, within a stated tolerance.

    The expected output spectrum of the whole pipeline is known exactly (``output_variance``),
    so the check splits in two: (1) the sampled spectrum equals that prediction within Monte
    Carlo error: 4000 samples pooled in 8 bands of 8 bins give a relative standard error of at
    most 1/sqrt(4000 * 8) = 0.56% per band, and 3% is more than 5 standard errors; (2) the
    prediction is within 5% (relative W2) of the prior at 100 steps (first-order ancestral
    samplers converge slowest: ddpm is at 4.5%): the bias left by
    discretisation and by stopping at sigma_min = 0.01, which the benchmark tabulates.
    """
    oracle = GaussianOracle.from_spectrum("piano", 128)
    sigmas = schedule("karras", 100, sigma_min=0.01, sigma_max=80.0)
    generator = torch.Generator().manual_seed(3)
    x = start_noise((4000, 1, 128), 80.0, sigma_data=1.0, generator=generator, dtype=torch.float64)
    result = sample(oracle, x, sigmas, method, generator=generator, **options)
    measured = torch.fft.rfft(result, norm="ortho").abs().pow(2).mean((0, 1))

    def run(denoise, state, noise):
        return sample(denoise, state, sigmas, method, noise=noise, **options)

    predicted = oracle.output_variance(run, math.sqrt(80.0**2 + 1), noise_draws=len(sigmas))
    bands = slice(1, 65)  # 64 complex bins in 8 bands of 8
    ratio = measured[bands].reshape(8, 8).sum(1) / predicted[bands].reshape(8, 8).sum(1)
    assert torch.allclose(ratio, torch.ones_like(ratio), atol=0.03), ratio
    assert oracle.relative_w2(predicted) < 0.05


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("steps", [1, 2, 3])
def test_every_sampler_is_finite_at_one_two_and_three_steps(method, steps):
    sigmas = schedule("karras", steps, sigma_min=0.002, sigma_max=80.0)
    generator = torch.Generator().manual_seed(4)
    x = start_noise((2, 1, 128), 80.0, generator=generator)
    result = sample(PIANO, x, sigmas, method, generator=generator)
    assert result.shape == x.shape and result.dtype == x.dtype
    assert torch.isfinite(result).all()


@pytest.mark.parametrize("method", METHODS)
def test_samplers_take_spectrogram_shaped_tensors_and_keep_their_dtype(method):
    # (batch, channels, freq, time): the oracle treats every row as its own signal.
    sigmas = schedule("logsnr", 6, sigma_min=0.02, sigma_max=20.0)
    x = start_noise((1, 2, 4, 128), 20.0, generator=torch.Generator().manual_seed(5))
    result = sample(PIANO, x, sigmas, method, generator=torch.Generator().manual_seed(6))
    assert result.shape == x.shape and result.dtype == torch.float32


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_gives_the_same_output(method):
    sigmas = schedule("karras", 8, sigma_min=0.01, sigma_max=20.0)

    def draw():
        generator = torch.Generator().manual_seed(7)
        x = start_noise((2, 1, 128), 20.0, generator=generator)
        return sample(PIANO, x, sigmas, method, generator=generator)

    assert torch.equal(draw(), draw())
    assert is_stochastic(method) or torch.isfinite(draw()).all()


def test_callback_sees_every_step_and_step_hook_changes_the_state():
    sigmas = schedule("karras", 6, sigma_min=0.01, sigma_max=20.0)
    x = start_noise((1, 1, 128), 20.0, generator=torch.Generator().manual_seed(8))
    seen = []
    sample(PIANO, x, sigmas, "dpmpp_2m", callback=lambda step: seen.append(step.index))
    assert seen == list(range(6))

    hooked = []

    def silence_second_half(state, index, schedule_sigmas):
        hooked.append(index)
        state = state.clone()
        state[..., 64:] = 0  # what an editing strategy does with a known region
        return state

    result = sample(PIANO, x, sigmas, "euler", step_hook=silence_second_half)
    assert hooked == list(range(6))
    plain = sample(PIANO, x, sigmas, "euler")
    assert not torch.allclose(result, plain)


def test_model_calls_per_method():
    calls = []

    def counting(x, sigma):
        calls.append(1)
        return PIANO(x, sigma)

    x = start_noise((1, 1, 128), 20.0)
    sigmas = schedule("karras", 10, sigma_min=0.01, sigma_max=20.0)
    for method, expected in [("euler", 10), ("heun", 19), ("unipc", 10), ("dpmpp_3m_sde", 10)]:
        calls.clear()
        sample(counting, x, sigmas, method)
        assert len(calls) == expected, method


def test_bad_input_is_refused_with_a_reason():
    x = torch.zeros(1, 1, 128)
    with pytest.raises(ValueError, match="unknown sampler"):
        sample(PIANO, x, torch.tensor([1.0, 0.0]), "bogus")
    with pytest.raises(ValueError, match="strictly decreasing"):
        sample(PIANO, x, torch.tensor([1.0, 2.0, 0.0]), "euler")
    with pytest.raises(ValueError, match="order"):
        sample(PIANO, x, torch.tensor([1.0, 0.0]), "deis", order=4)
