import math

import pytest
import torch

from cadenza.denoisers import alphas_cumprod, linear_betas, vp_sigmas
from cadenza.schedules import SCHEDULES, schedule

TABLE = alphas_cumprod(linear_betas())


def build(kind: str, steps: int) -> torch.Tensor:
    if kind == "vp_table":
        return schedule(kind, steps, alphas_cumprod=TABLE)
    return schedule(kind, steps, sigma_min=0.01, sigma_max=80.0)


@pytest.mark.parametrize("kind", SCHEDULES)
@pytest.mark.parametrize("steps", [1, 2, 3, 10, 50])
def test_schedules_are_strictly_decreasing_float64_and_end_in_zero(kind, steps):
    sigmas = build(kind, steps)
    assert sigmas.dtype == torch.float64
    assert sigmas.shape == (steps + 1,)
    assert sigmas[-1] == 0
    assert bool((sigmas[1:] < sigmas[:-1]).all())


@pytest.mark.parametrize("kind", ["karras", "logsnr", "cosine"])
def test_continuous_schedules_span_the_requested_range(kind):
    sigmas = schedule(kind, 12, sigma_min=0.02, sigma_max=50.0)
    assert math.isclose(float(sigmas[0]), 50.0, rel_tol=1e-12)
    assert math.isclose(float(sigmas[-2]), 0.02, rel_tol=1e-12)


def test_logsnr_is_uniform_in_log_sigma():
    log_sigmas = schedule("logsnr", 8, sigma_min=0.01, sigma_max=100.0)[:-1].log()
    gaps = log_sigmas[:-1] - log_sigmas[1:]
    assert torch.allclose(gaps, gaps[0].expand_as(gaps), rtol=1e-12)


def test_karras_rho_one_is_linear_in_sigma():
    sigmas = schedule("karras", 5, sigma_min=1.0, sigma_max=5.0, rho=1.0)
    assert torch.allclose(sigmas, torch.tensor([5.0, 4, 3, 2, 1, 0], dtype=torch.float64))


def test_vp_table_spacings_pick_table_entries():
    table = vp_sigmas(TABLE)
    trailing = schedule("vp_table", 10, alphas_cumprod=TABLE, spacing="trailing")
    linspace = schedule("vp_table", 10, alphas_cumprod=TABLE, spacing="linspace")
    leading = schedule("vp_table", 10, alphas_cumprod=TABLE, spacing="leading")
    assert trailing[0] == table[999] and trailing[-2] == table[99]
    assert linspace[0] == table[999] and linspace[-2] == table[0]
    assert leading[0] == table[900] and leading[-2] == table[0]
    full = schedule("vp_table", 1000, alphas_cumprod=TABLE)
    assert torch.equal(full[:-1], table.flip(0))


def test_bad_arguments_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="unknown schedule"):
        schedule("bogus", 5, sigma_min=0.1, sigma_max=1.0)
    with pytest.raises(ValueError, match="sigma_min < sigma_max"):
        schedule("karras", 5, sigma_min=2.0, sigma_max=1.0)
    with pytest.raises(ValueError, match="at least 1 step"):
        schedule("karras", 0, sigma_min=0.1, sigma_max=1.0)
    with pytest.raises(ValueError, match="table length"):
        schedule("vp_table", 1001, alphas_cumprod=TABLE)


def test_tuned_schedule_is_the_table_at_tabulated_counts_and_scales_with_sigma_data():
    from cadenza.schedules import TUNED_LOG_SIGMAS, TUNED_SHAPES

    for steps, log_sigmas in TUNED_LOG_SIGMAS.items():
        sigmas = schedule("tuned", steps)
        assert torch.allclose(sigmas[:-1].log(), torch.tensor(log_sigmas, dtype=torch.float64))
    for steps, (first, second_last, last) in TUNED_SHAPES.items():
        log_sigmas = schedule("tuned", steps)[:-1].log()
        assert [float(log_sigmas[i]) for i in (0, -2, -1)] == pytest.approx(
            [first, second_last, last]
        )
    for steps in (1, 2, 7, 13, 17, 60, 150):
        sigmas = schedule("tuned", steps)
        assert torch.allclose(schedule("tuned", steps, sigma_data=0.5), 0.5 * sigmas)


def test_tuned_schedule_between_tables_interpolates_its_smooth_shape():
    from cadenza.schedules import TUNED_SHAPES

    sigmas = schedule("tuned", 22)
    low, high = TUNED_SHAPES[20], TUNED_SHAPES[25]
    assert math.log(sigmas[0]) == pytest.approx(0.6 * low[0] + 0.4 * high[0])
    assert math.log(sigmas[-3]) == pytest.approx(0.6 * low[1] + 0.4 * high[1])
    assert math.log(sigmas[-2]) == pytest.approx(0.6 * low[2] + 0.4 * high[2])
    steps = sigmas[:-2].log().diff()
    assert torch.allclose(steps, steps.mean().expand_as(steps))  # uniform in log-sigma
