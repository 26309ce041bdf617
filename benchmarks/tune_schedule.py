"""Tune the sigmas of cadenza's default sampler, per budget of model calls, on held-out spectra.

    python benchmarks/tune_schedule.py [--steps 3 4 ... 100] [--evaluations 3000]

Like "Align Your Steps" (Sabour et al. 2024), the schedule is optimised for one sampler
(``deis``, order 3 with the Adams-Moulton corrector) and each step count, here against the exact
output law on the Gaussian oracle. Up to 12 steps every sigma is free; above, the shape is
uniform in log-sigma with a free final sigma (three numbers), which tunes fast and stays smooth.
The spectra it is tuned on are NOT the benchmark's: 1/f^alpha
for alpha in {0.5, 1.5, 2} (1024 samples) and three-note piano-like spectra with other
fundamentals and noise floors (512 samples). benchmarks/samplers.py then measures the result on
the white, 1/f and piano spectra of 256 samples. Prints the log-sigma table that
``cadenza.schedules.TUNED_LOG_SIGMAS`` holds (sigmas in units of sigma_data).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from scipy.optimize import minimize

from cadenza.oracle import SPECTRA, GaussianOracle
from cadenza.sampling import sample

SAMPLER = {"method": "deis", "order": 3, "corrector": True}


def power_law(length: int, alpha: float) -> torch.Tensor:
    k = torch.arange(length // 2 + 1, dtype=torch.float64).clamp(min=1)
    return k ** (-alpha)


def chord(length: int, fundamental_divisor: float, floor: float) -> torch.Tensor:
    """Three stretched harmonic series (a major triad) over a noise floor."""
    bins = length // 2 + 1
    k = torch.arange(bins, dtype=torch.float64)
    power = torch.full((bins,), floor, dtype=torch.float64)
    for ratio in (1.0, 1.25, 1.5):
        fundamental = ratio * length / fundamental_divisor
        for m in range(1, 20):
            centre = m * fundamental * math.sqrt(1 + 4e-4 * m * m)
            if centre >= bins - 1:
                break
            power += torch.exp(-0.5 * (k - centre) ** 2) / m**2
    return power


def tuning_oracles() -> list[GaussianOracle]:
    spectra = [(power_law(1024, alpha), 1024) for alpha in (0.5, 1.5, 2.0)]
    spectra += [(chord(512, d, floor), 512) for d, floor in ((24, 1e-3), (40, 1e-5), (16, 1e-4))]
    return [GaussianOracle(power, length) for power, length in spectra]


class OracleBank:
    """Several oracles run as one: a pipeline is diagonal per bin, so one solve covers all."""

    def __init__(self, oracles: list[GaussianOracle]):
        self.oracles = oracles
        self.power = torch.cat([oracle.power for oracle in oracles])
        self.bounds = np.cumsum([0] + [oracle.power.numel() for oracle in oracles])

    def denoise(self, state: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        sigma = torch.as_tensor(sigma, dtype=torch.float64).reshape(-1, 1, 1)
        return state * (self.power / (self.power + sigma**2))

    def errors(self, sigmas: torch.Tensor) -> np.ndarray:
        """Exact relative W2 of the tuned sampler on every oracle (start std sqrt(smax^2+1))."""
        start = math.sqrt(float(sigmas[0]) ** 2 + 1)
        state = torch.full((1, 1, self.power.numel()), start, dtype=torch.float64)
        options = {k: v for k, v in SAMPLER.items() if k != "method"}
        gain = sample(self.denoise, state, sigmas, SAMPLER["method"], **options).reshape(-1)
        return np.array(
            [
                oracle.relative_w2(gain[self.bounds[i] : self.bounds[i + 1]] ** 2)
                for i, oracle in enumerate(self.oracles)
            ]
        )


FREE_FORM_UP_TO = 15  # above this, Nelder-Mead in that many dimensions did worse than the shape


def free_form(params: np.ndarray) -> np.ndarray:
    """(log sigma_max, log sigma_min, step-size logits) -> decreasing log-sigmas."""
    log_max, log_min, logits = params[0], params[1], params[2:]
    increments = np.exp(logits - logits.max())
    position = np.concatenate([[0.0], np.cumsum(increments) / increments.sum()])
    return log_max - position * (log_max - log_min)


def geometric(params: np.ndarray, steps: int) -> np.ndarray:
    """Uniform log-sigma from sigma_max to sigma_last, then one free final sigma_min."""
    log_max, log_last, log_min = params
    return np.concatenate([np.linspace(log_max, log_last, steps - 1), [log_min]])


def with_zero(log_sigmas: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.concatenate([np.exp(log_sigmas), [0.0]]), dtype=torch.float64)


def tune(bank: OracleBank, steps: int, evaluations: int) -> np.ndarray:
    """Log-sigmas minimising the mean log W2 over the tuning spectra."""
    shape = free_form if steps <= FREE_FORM_UP_TO else (lambda p: geometric(p, steps))

    def objective(params: np.ndarray) -> float:
        log_sigmas = shape(params)
        decreasing = bool((np.diff(log_sigmas) < 0).all())
        if not decreasing or log_sigmas[0] > math.log(2000) or log_sigmas[-1] < math.log(1e-4):
            return 1e3
        return float(np.mean(np.log(bank.errors(with_zero(log_sigmas)))))

    best = None
    for sigma_max, sigma_min in ((80.0, 0.005), (130.0, 0.003)):
        ends = [math.log(sigma_max), math.log(sigma_min)]
        if steps <= FREE_FORM_UP_TO:
            start = np.concatenate([ends, np.zeros(steps - 1)])
        else:
            start = np.array([ends[0], ends[1] + 1.0, ends[1]])
        result = minimize(
            objective,
            start,
            method="Nelder-Mead",
            options={"maxfev": evaluations, "adaptive": True, "xatol": 1e-5, "fatol": 1e-7},
        )
        if best is None or result.fun < best.fun:
            best = result
    return shape(best.x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, nargs="+", default=[*range(3, 16), 20, 25, 30, 40, 50, 75, 100]
    )
    parser.add_argument("--evaluations", type=int, default=3000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bank = OracleBank(tuning_oracles())
    benchmark = OracleBank([GaussianOracle.from_spectrum(kind, 256) for kind in SPECTRA])
    for steps in args.steps:
        started = time.perf_counter()
        log_sigmas = tune(bank, steps, args.evaluations)
        sigmas = with_zero(log_sigmas)
        seconds = time.perf_counter() - started
        print(f"{steps}: ({', '.join(f'{v:.5f}' for v in log_sigmas)}),  # {seconds:.0f} s")
        tuning = " ".join(f"{error:.2e}" for error in bank.errors(sigmas))
        held_out = " ".join(f"{error:.2e}" for error in benchmark.errors(sigmas))
        print(f"   W2 on the tuning spectra: {tuning}; on {', '.join(SPECTRA)}: {held_out}")


if __name__ == "__main__":
    main()
