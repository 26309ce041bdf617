import math

import pytest
import torch

from cadenza.edit import (
    STRATEGIES,
    inpaint,
    interp_lambda,
    repaint_model_calls,
    repaint_path,
    seed_interp_lambda,
)
from cadenza.oracle import GaussianOracle
from cadenza.schedules import schedule

PIANO = GaussianOracle.from_spectrum("piano", 128)
GAP = torch.ones(128, dtype=torch.bool)
GAP[56:72] = False  # 16 missing samples, far from the oracle's periodic wrap


def references(count: int, seed: int = 0) -> torch.Tensor:
    return PIANO.sample(count, 1, generator=torch.Generator().manual_seed(seed),
                        dtype=torch.float64)


def fidelity(strategy: str, count: int = 1000, steps: int = 50, **options) -> float:
    reference = references(count)
    out = inpaint(PIANO, reference, GAP, schedule("karras", steps, sigma_min=0.002, sigma_max=80),
                  strategy=strategy, generator=torch.Generator().manual_seed(1), sigma_data=1.0,
                  **options)
    return PIANO.conditional_fidelity(out[:, 0, ~GAP], GAP, reference[:, 0])


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("sampler", ["ddpm", "deis", "heun"])
def test_known_region_is_kept_bit_exactly_and_the_same_seed_gives_the_same_result(
    strategy, sampler
):
    reference = references(3)
    sigmas = schedule("karras", 12, sigma_min=0.002, sigma_max=80)

    def run() -> torch.Tensor:
        return inpaint(PIANO, reference, GAP, sigmas, sampler=sampler, strategy=strategy,
                       generator=torch.Generator().manual_seed(7), jump_length=3, resample=2)

    out = run()
    assert out.shape == reference.shape
    assert torch.equal(out[..., GAP], reference[..., GAP])
    assert not torch.allclose(out[..., ~GAP], reference[..., ~GAP])
    assert torch.equal(out, run())


def test_without_verbatim_the_known_region_is_the_samplers_own():
    reference = references(2)
    out = inpaint(PIANO, reference, GAP, schedule("karras", 20, sigma_min=0.002, sigma_max=80),
                  verbatim=False, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(out[..., GAP], reference[..., GAP])
    assert torch.allclose(out[..., GAP], reference[..., GAP], atol=0.05)


def test_exact_samples_sit_at_the_estimators_floor():
    reference = references(1000)
    exact = PIANO.conditional_samples(GAP, reference[:, 0], torch.Generator().manual_seed(3))
    floor = PIANO.conditional_fidelity(exact, GAP, reference[:, 0])
    dims = int((~GAP).sum())
    assert floor < 2 * (dims + 1) / (4 * 1000)
    # Collapsed samples (the conditional mean itself) are far from it.
    mean, _ = PIANO.conditional(GAP, reference[:, 0])
    assert PIANO.conditional_fidelity(mean + 1e-3 * torch.randn_like(mean), GAP,
                                      reference[:, 0]) > 1


def test_repaint_is_much_closer_to_the_exact_conditional_than_replace():
    # 1000 inpainted oracle signals, DDPM with 50 steps: measured 0.78 against 0.078 (floor 0.005).
    replace = fidelity("replace")
    repaint = fidelity("repaint", jump_length=5, resample=5)
    assert repaint < replace / 4


def test_repaint_path_follows_repaints_jump_schedule():
    # Jumps at 1, 3 steps left (RePaint's t = 0, 2), each redone once: 3 -> 1 and 5 -> 3.
    assert repaint_path(6, jump_length=2, resample=2) == [0, 1, 2, 3, 1, 2, 3, 4, 5, 3, 4, 5, 6]
    assert repaint_path(5, jump_length=5, resample=10) == [0, 1, 2, 3, 4, 5]
    assert repaint_path(4, jump_length=1, resample=1) == [0, 1, 2, 3, 4]
    # Jumps only where allowed (here: from index 3, i.e. 3 steps left).
    assert repaint_path(6, 2, 2, allowed=lambda index: index == 3) == [0, 1, 2, 3, 1, 2, 3, 4, 5, 6]
    # Seed-003 / RePaint defaults at 200 steps: each of the 19 jump points adds 9 x 10 steps.
    assert repaint_model_calls(200) == 200 + 19 * 9 * 10


def test_interp_reproduces_the_seeds_reverse_lambda_at_200_steps():
    expected = [((0.3704 * math.e) ** (0.5 * i) - 1) ** 4 for i in range(199)] + [1.0]
    got = [interp_lambda(i / 199) for i in range(200)]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert got[0] == 0 and 0.87 < got[198] < 0.88
    # The seed's formula in the step index collapses at 50 steps; the progress curve does not.
    assert max(seed_interp_lambda(i, 50) for i in range(49)) < 0.0012
    assert interp_lambda(48 / 49) > 0.79


def test_bad_arguments_are_clear_errors():
    reference = references(1)
    sigmas = schedule("karras", 5, sigma_min=0.002, sigma_max=80)
    with pytest.raises(ValueError, match="strategy"):
        inpaint(PIANO, reference, GAP, sigmas, strategy="magic")
    with pytest.raises(ValueError, match="one value per time step"):
        inpaint(PIANO, reference, torch.ones(5, dtype=torch.bool), sigmas)
