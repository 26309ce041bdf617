"""Editing methods against the exact conditional of the Gaussian oracle.

    python benchmarks/editing.py [--count 2000] [--spectra piano pink] [--quick]

For every strategy x sampler x steps, ``count`` signals are drawn from the oracle, part of each
is hidden, and the strategy fills it in. The filled-in samples are compared with the exact
conditional law of the missing samples given the known ones:

- fidelity: residuals from the exact conditional mean, whitened with the exact conditional
  covariance, fitted by a Gaussian over the ``count`` signals; its KL from N(0, I) per dimension
  (``GaussianOracle.conditional_fidelity``). Lower is better; the "exact" row is the estimator's
  floor (exact conditional samples through the same estimator).
- seam: RMS of the first difference across each known/missing boundary, divided by the same for
  exact conditional samples (1.00 = right; above = a click, below = over-smoothed).
- calls: model evaluations (a backward pass through the model counts as two).

Two layouts: ``inpaint`` (32 of 256 samples missing in the middle) and ``extend`` (seed 003's
window: the first 3/4 known, the last 1/4 new). The oracle is periodic, so the extension window
is the first 256 samples of a 512-sample signal whose other half is unknown too and not scored:
the new quarter has known audio on its left only, as in real extension.

Besides the four library strategies, two explorations: RePaint's resampling confined to a band of
noise levels (``resample_band``) and with jump length 1, and ``guided``, reconstruction guidance
that weighs the known-region error by the denoiser's own posterior variance r^2 = sigma^2 /
(1 + sigma^2) (Pi-GDM's isotropic approximation; one vector-Jacobian product per call).
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import dataclass, field

import torch

from cadenza.edit import inpaint, repaint_model_calls
from cadenza.oracle import GaussianOracle
from cadenza.sampling import model_calls, sample, start_noise
from cadenza.schedules import schedule

SIGMA_MAX, SIGMA_MIN = 80.0, 0.002


@dataclass
class Layout:
    name: str
    length: int
    known: torch.Tensor  # (length,) bool
    scored: torch.Tensor  # (length,) bool, the missing samples that are measured
    seams: list[int] = field(default_factory=list)  # index i: the boundary between i-1 and i


def layouts() -> list[Layout]:
    known = torch.ones(256, dtype=torch.bool)
    known[112:144] = False
    inpaint_layout = Layout("inpaint", 256, known, ~known, [112, 144])
    known = torch.zeros(512, dtype=torch.bool)
    known[:192] = True
    scored = torch.zeros(512, dtype=torch.bool)
    scored[192:256] = True
    return [inpaint_layout, Layout("extend", 512, known, scored, [192])]


@dataclass
class Config:
    strategy: str
    sampler: str
    steps: int
    options: dict = field(default_factory=dict)
    label: str = ""

    def describe(self) -> str:
        return self.label or ", ".join(f"{k}={v}" for k, v in self.options.items())


def configs(quick: bool) -> list[Config]:
    band = {"jump_length": 1, "resample": 16, "resample_band": (0.01, 1.0)}
    rows = [
        Config("replace", "ddpm", 200), Config("replace", "ddpm", 50),
        Config("replace", "ddim", 50),
        Config("replace", "deis", 20), Config("replace", "heun", 20),
        Config("interp", "ddpm", 200), Config("interp", "ddpm", 50),
        Config("interp", "ddpm", 50, {"lambda_curve": "seed-index"}, "seed's index formula"),
        Config("interp", "deis", 20),
        Config("project", "ddpm", 200), Config("project", "ddpm", 50),
        Config("project", "deis", 20), Config("project", "heun", 20),
        Config("repaint", "ddpm", 200, {}, "RePaint: jump 10, resample 10"),
        Config("repaint", "ddpm", 50, {}, "jump 10, resample 10"),
        Config("repaint", "ddpm", 50, {"jump_length": 5, "resample": 5}),
        Config("repaint", "ddpm", 20, {"jump_length": 1, "resample": 16}),
        Config("repaint", "ddpm", 20, band, "jump 1, resample 16, sigma in [0.01, 1]"),
        Config("repaint", "ddpm", 20, {**band, "resample": 8},
               "jump 1, resample 8, sigma in [0.01, 1]"),
        Config("repaint", "ddpm", 20, {**band, "resample_band": (1.0, 80.0)},
               "jump 1, resample 16, sigma in [1, 80]"),
        Config("repaint", "ddpm", 20, {**band, "resample_band": (0.002, 0.01)},
               "jump 1, resample 16, sigma in [0.002, 0.01]"),
        Config("repaint", "ddpm", 20, {**band, "resample": 24},
               "jump 1, resample 24, sigma in [0.01, 1]"),
        Config("repaint", "ddpm", 50, band, "jump 1, resample 16, sigma in [0.01, 1]"),
        Config("repaint", "dpmpp_2m_sde", 50, {**band, "jump_length": 5, "resample": 8},
               "jump 5, resample 8, sigma in [0.01, 1]"),
        Config("repaint", "dpmpp_2m_sde", 50, {**band, "jump_length": 4},
               "repaint-fast: jump 4, resample 16, sigma in [0.01, 1]"),
        Config("repaint", "deis", 50, {**band, "jump_length": 5, "resample": 8},
               "jump 5, resample 8, sigma in [0.01, 1]"),
        Config("repaint", "ddim", 20, band, "jump 1, resample 16, sigma in [0.01, 1]"),
        Config("guided", "ddpm", 50), Config("guided", "ddpm", 200), Config("guided", "heun", 20),
    ]
    if quick:
        rows = [r for r in rows if r.steps <= 50 and r.label != "jump 10, resample 10"]
    return rows


def calls(config: Config, sigmas: torch.Tensor) -> int:
    if config.strategy == "guided":
        return 3 * model_calls(config.sampler, config.steps)
    if config.strategy != "repaint":
        return model_calls(config.sampler, config.steps)
    options = {"jump_length": 10, "resample": 10, **config.options}
    band = options.pop("resample_band", None)
    allowed = None if band is None else (lambda i: band[0] <= float(sigmas[i]) <= band[1])
    return repaint_model_calls(config.steps, options["jump_length"], options["resample"], allowed)


def guided_denoiser(oracle: GaussianOracle, reference: torch.Tensor, known: torch.Tensor):
    """D(x) + sigma^2 * grad log N(y; D_known(x), r^2 I), r^2 = sigma^2 / (1 + sigma^2)."""

    def denoise(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        level = float(sigma[0])
        with torch.enable_grad():
            leaf = x.detach().requires_grad_(True)
            estimate = oracle.denoise(leaf, sigma)
            error = torch.where(known, reference - estimate, 0).detach()
            (gradient,) = torch.autograd.grad((error * estimate).sum(), leaf)
        return estimate.detach() + (1 + level**2) * gradient

    return denoise


def run(oracle: GaussianOracle, layout: Layout, config: Config, reference, exact, seed: int):
    sigmas = schedule("karras", config.steps, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX)
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    if config.strategy == "guided":
        x = start_noise(reference.shape, SIGMA_MAX, sigma_data=1.0, generator=generator,
                        dtype=torch.float64)
        out = sample(guided_denoiser(oracle, reference, layout.known), x, sigmas, config.sampler,
                     generator=generator)
        out = torch.where(layout.known, reference, out)
    else:
        out = inpaint(oracle, reference, layout.known, sigmas, sampler=config.sampler,
                      strategy=config.strategy, generator=generator, sigma_data=1.0,
                      **config.options)
    seconds = time.perf_counter() - started
    missing = out[:, ~layout.known]
    within = layout.scored[~layout.known]
    fidelity = oracle.conditional_fidelity(missing, layout.known, reference, within=within)
    return fidelity, seam_ratio(out, exact, layout), calls(config, sigmas), seconds


def seam_ratio(out: torch.Tensor, exact: torch.Tensor, layout: Layout) -> float:
    def jump(signal):
        return torch.stack([signal[:, i] - signal[:, i - 1] for i in layout.seams]).pow(2).mean()

    return float((jump(out) / jump(exact)).sqrt())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--spectra", nargs="+", default=["piano", "pink"])
    parser.add_argument("--quick", action="store_true", help="skip the 200-step rows")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.time()
    print(f"# editing on the Gaussian oracle: {args.count} signals per row, karras sigmas "
          f"{SIGMA_MAX}..{SIGMA_MIN}; {platform.machine()}, torch {torch.__version__}")
    for spectrum in args.spectra:
        for layout in layouts():
            oracle = GaussianOracle.from_spectrum(spectrum, layout.length)
            generator = torch.Generator().manual_seed(0)
            reference = oracle.sample(args.count, generator=generator, dtype=torch.float64)
            exact_missing = oracle.conditional_samples(layout.known, reference, generator)
            exact = reference.clone()
            exact[:, ~layout.known] = exact_missing
            floor = oracle.conditional_fidelity(exact_missing, layout.known, reference,
                                                within=layout.scored[~layout.known])
            print(f"\n## {spectrum} spectrum, {layout.name} layout "
                  f"({int(layout.scored.sum())} scored missing samples)\n")
            print("| strategy | sampler | steps | options | calls | fidelity (KL/dim) | seam | s |")
            print("|---|---|---|---|---|---|---|---|")
            print(f"| exact conditional | - | - | - | - | {floor:.4f} | 1.00 | - |")
            for config in configs(args.quick):
                fidelity, seam, count, seconds = run(oracle, layout, config, reference, exact, 1)
                print(f"| {config.strategy} | {config.sampler} | {config.steps} | "
                      f"{config.describe()} | {count} | {fidelity:.4f} | {seam:.2f} | "
                      f"{seconds:.1f} |", flush=True)
    print(f"\n({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
