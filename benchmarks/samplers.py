"""Sampler benchmark on the Gaussian oracle: exact errors of every pipeline, cadenza and diffusers.

    python benchmarks/samplers.py [--out benchmarks/results/samplers.md] [--quick]

For three spectra (white, 1/f, piano-like) and budgets of 5, 10, 20 and 50 model calls:
(a) endpoint error against the exact ODE solution from the same start noise (deterministic
samplers) and (b) the exact relative 2-Wasserstein distance between the output law and the prior,
for every cadenza method x schedule and for diffusers' schedulers over a grid of their options
(best option per scheduler reported). Needs the ``bench`` extra (diffusers).
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from diffusers_driver import run_scheduler

from cadenza import __version__
from cadenza.denoisers import alphas_cumprod, linear_betas
from cadenza.oracle import (
    DEFAULT_SETUP,
    REFERENCE_SETUP,
    SPECTRA,
    GaussianOracle,
    SamplerSetup,
    score_sampler,
)
from cadenza.sampling import METHODS, sample

BUDGETS = (5, 10, 20, 50)
LENGTH = 256


def cadenza_pipelines() -> list[SamplerSetup]:
    """The default pipeline, then every method x schedule at the reference sigma range."""
    table = alphas_cumprod(linear_betas())
    schedules = [
        ("karras", {"rho": 7.0}),
        ("logsnr", {}),
        ("cosine", {}),
        ("vp_table", {"alphas_cumprod": table, "spacing": "trailing"}),
    ]
    variants = []
    for method in METHODS:
        variants.append((method, {}))
        if method == "dpmpp_3m_sde":
            variants.append((method, {"eta": 0.0}))
    pipelines = [DEFAULT_SETUP]
    for (method, options), (kind, schedule_options) in itertools.product(variants, schedules):
        pipelines.append(
            SamplerSetup(
                method,
                kind,
                sigma_min=REFERENCE_SETUP.sigma_min,
                sigma_max=REFERENCE_SETUP.sigma_max,
                schedule_options=schedule_options,
                method_options=options,
            )
        )
    return pipelines


def _short_label(pipeline: SamplerSetup) -> str:
    label = pipeline.label()
    return (
        label.split("(alphas_cumprod=")[0] + "(linear betas, trailing)"
        if "alphas_cumprod" in label
        else label
    )


def diffusers_grid() -> list[tuple[str, dict]]:
    """(scheduler class, config) pairs: each scheduler over the options it takes."""
    import diffusers

    betas = ["linear", "scaled_linear", "squaredcos_cap_v2"]
    spacings = ["leading", "linspace", "trailing"]
    grid: list[tuple[str, dict]] = []

    def add(name: str, **choices):
        keys = list(choices)
        for values in itertools.product(*(choices[k] for k in keys)):
            grid.append((name, dict(zip(keys, values, strict=True))))

    add("DDIMScheduler", beta_schedule=betas, timestep_spacing=spacings, clip_sample=[False])
    add("DDPMScheduler", beta_schedule=betas, timestep_spacing=spacings, clip_sample=[False])
    add(
        "PNDMScheduler",
        beta_schedule=betas,
        timestep_spacing=spacings,
        skip_prk_steps=[True, False],
    )
    for name in (
        "EulerDiscreteScheduler",
        "LMSDiscreteScheduler",
        "KDPM2DiscreteScheduler",
        "HeunDiscreteScheduler",
    ):
        add(name, beta_schedule=betas, timestep_spacing=spacings, use_karras_sigmas=[False, True])
    for name in ("EulerAncestralDiscreteScheduler",):
        add(name, beta_schedule=betas, timestep_spacing=spacings)
    add(
        "KDPM2AncestralDiscreteScheduler",
        beta_schedule=betas,
        timestep_spacing=spacings,
        use_karras_sigmas=[False, True],
    )
    add(
        "DPMSolverMultistepScheduler",
        beta_schedule=betas,
        timestep_spacing=spacings,
        use_karras_sigmas=[False, True],
        solver_order=[2, 3],
        algorithm_type=["dpmsolver++", "sde-dpmsolver++"],
    )
    add(
        "DPMSolverSinglestepScheduler",
        beta_schedule=betas,
        use_karras_sigmas=[False, True],
        solver_order=[2, 3],
    )
    add(
        "DEISMultistepScheduler",
        beta_schedule=betas,
        timestep_spacing=spacings,
        use_karras_sigmas=[False, True],
        solver_order=[2, 3],
    )
    add(
        "UniPCMultistepScheduler",
        beta_schedule=betas,
        timestep_spacing=spacings,
        use_karras_sigmas=[False, True],
        solver_order=[2, 3],
    )
    add("EDMEulerScheduler", sigma_data=[1.0], sigma_schedule=["karras", "exponential"])
    add(
        "EDMDPMSolverMultistepScheduler",
        sigma_data=[1.0],
        sigma_schedule=["karras", "exponential"],
        solver_order=[2, 3],
        algorithm_type=["dpmsolver++", "sde-dpmsolver++"],
    )
    return [(name, config) for name, config in grid if hasattr(diffusers, name)]


def run_diffusers(oracle: GaussianOracle, budgets) -> list[dict]:
    import diffusers

    rows = []
    for name, config in diffusers_grid():
        scheduler = getattr(diffusers, name)(**config)
        for budget in budgets:
            # The most inference steps whose model calls fit the budget: start from the step
            # count the calls-per-step ratio suggests and walk down.
            steps, result = budget, None
            try:
                while steps >= 1:
                    result = run_scheduler(oracle, scheduler, steps)
                    if result["model_calls"] <= budget:
                        break
                    guess = steps * budget // result["model_calls"]
                    steps = guess if guess < steps else steps - 1
            except Exception:  # some option combinations are refused by diffusers
                continue
            if result is None or result["model_calls"] > budget:
                continue
            rows.append(
                {"scheduler": name, "config": config, "budget": budget, "steps": steps, **result}
            )
    return rows


def neighbourhood(oracle: GaussianOracle, theirs: list[dict], budget: int) -> list[str]:
    """How much of each winner is luck: the best cells re-measured one call either side.

    Both the tuned default and the best diffusers option set are selected at exactly
    ``budget`` calls; one call more or fewer shows how sharp that optimum is. The default is
    also re-measured with its log-sigmas jittered by 2% (median and 90th percentile of 20).
    """
    import diffusers

    best = min((r for r in theirs if r["budget"] == budget), key=lambda r: r["distribution_error"])
    scheduler = getattr(diffusers, best["scheduler"])(**best["config"])
    ours, others = [], []
    for calls in (budget - 1, budget + 1):
        ours.append(score_sampler(oracle, DEFAULT_SETUP, calls)["distribution_error"])
        steps = best["steps"] + calls - budget
        others.append(run_scheduler(oracle, scheduler, steps)["distribution_error"])
    generator = torch.Generator().manual_seed(0)
    sigmas = DEFAULT_SETUP.sigmas(budget)
    jittered = []
    for _ in range(20):
        log_sigmas = sigmas[:-1].log() + 0.02 * torch.randn(budget, generator=generator,
                                                            dtype=torch.float64)
        shaken = torch.cat([log_sigmas.sort(descending=True).values.exp(), sigmas[-1:]])
        start = (float(shaken[0]) ** 2 + oracle.sigma_data**2) ** 0.5
        variance = oracle.output_variance(
            lambda denoise, x, noise, s=shaken: sample(
                denoise, x, s, DEFAULT_SETUP.method, **DEFAULT_SETUP.method_options
            ),
            start,
            noise_draws=0,
        )
        jittered.append(oracle.relative_w2(variance))
    jittered = torch.tensor(jittered)
    return [
        " / ".join(fmt(v) for v in ours),
        f"{fmt(float(jittered.median()))} / {fmt(float(jittered.quantile(0.9)))}",
        " / ".join(fmt(v) for v in others),
    ]


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value) -> str:
    return "—" if value is None else f"{value:.2e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "samplers.md"
    )
    parser.add_argument("--quick", action="store_true", help="one spectrum, no diffusers grid")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)  # tensors here are tiny; threads only add overhead
    started = time.time()
    spectra = ("piano",) if args.quick else SPECTRA
    sections = [
        f"Measured {datetime.date.today()} on {platform.machine()} "
        f"(1 thread), cadenza {__version__}, torch {torch.__version__}; "
        f"command `python benchmarks/samplers.py`. Oracle length {LENGTH}, sigma_data 1. "
        f"cadenza's default is `{DEFAULT_SETUP.label()}`; the other cadenza schedules use "
        f"sigma in [{REFERENCE_SETUP.sigma_min}, {REFERENCE_SETUP.sigma_max}]; start "
        "noise std sqrt(sigma_max^2 + 1) throughout.",
    ]
    record = {"spectra": {}}
    summary = []
    sharpness = []
    for spectrum in spectra:
        oracle = GaussianOracle.from_spectrum(spectrum, LENGTH)
        ours = []
        for pipeline in cadenza_pipelines():
            for budget in BUDGETS:
                ours.append(
                    {
                        **score_sampler(oracle, pipeline, budget),
                        "budget": budget,
                        "label": _short_label(pipeline),
                    }
                )
        theirs = [] if args.quick else run_diffusers(oracle, BUDGETS)
        record["spectra"][spectrum] = {"cadenza": ours, "diffusers": theirs}

        labels = list(dict.fromkeys(row["label"] for row in ours))
        by_key = {(row["label"], row["budget"]): row for row in ours}
        table_rows = []
        for label in labels:
            cells = [f"`{label}`"]
            cells += [fmt(by_key[(label, b)]["distribution_error"]) for b in BUDGETS]
            cells += [fmt(by_key[(label, b)]["endpoint_error"]) for b in BUDGETS]
            table_rows.append(cells)
        header = (
            ["cadenza pipeline"] + [f"W2 @{b}" for b in BUDGETS] + [f"ODE @{b}" for b in BUDGETS]
        )
        sections.append(f"### {spectrum}: cadenza\n\n" + markdown_table(header, table_rows))

        if theirs:
            best_rows = []
            for name in dict.fromkeys(row["scheduler"] for row in theirs):
                cells = [name]
                for budget in BUDGETS:
                    candidates = [
                        r for r in theirs if r["scheduler"] == name and r["budget"] == budget
                    ]
                    best = min(candidates, key=lambda r: r["distribution_error"], default=None)
                    cells.append(
                        "—"
                        if best is None
                        else f"{best['distribution_error']:.2e} ({best['model_calls']} calls; "
                        + ", ".join(
                            f"{k}={v}"
                            for k, v in best["config"].items()
                            if k not in ("clip_sample", "sigma_data")
                        )
                        + ")"
                    )
                best_rows.append(cells)
            sections.append(
                f"### {spectrum}: diffusers, best option set per scheduler (W2)\n\n"
                + markdown_table(["scheduler"] + [f"W2 @{b}" for b in BUDGETS], best_rows)
            )
            for budget in BUDGETS:
                best_ours = min(
                    (r for r in ours if r["budget"] == budget),
                    key=lambda r: r["distribution_error"],
                )
                default = by_key[(_short_label(DEFAULT_SETUP), budget)]
                best_theirs = min(
                    (r for r in theirs if r["budget"] == budget),
                    key=lambda r: r["distribution_error"],
                )
                sharpness.append([spectrum, str(budget), *neighbourhood(oracle, theirs, budget)])
                summary.append(
                    [
                        spectrum,
                        str(budget),
                        f"{default['distribution_error']:.2e}",
                        f"{best_ours['distribution_error']:.2e} `{best_ours['label']}`",
                        f"{best_theirs['distribution_error']:.2e} {best_theirs['scheduler']} "
                        + ", ".join(
                            f"{k}={v}"
                            for k, v in best_theirs["config"].items()
                            if k not in ("clip_sample", "sigma_data")
                        ),
                        f"{best_theirs['distribution_error'] / default['distribution_error']:.1f}×",
                    ]
                )
    if summary:
        sections.insert(
            1,
            "### Summary: distribution error (relative W2), cadenza default vs diffusers\n\n"
            + markdown_table(
                [
                    "spectrum",
                    "calls",
                    "cadenza default",
                    "cadenza best",
                    "diffusers best",
                    "diffusers / cadenza default",
                ],
                summary,
            ),
        )
    if sharpness:
        sections.insert(
            2,
            "### How sharp are the winners? (W2 one call either side, and under jitter)\n\n"
            + markdown_table(
                [
                    "spectrum",
                    "calls",
                    "cadenza default at calls -1 / +1",
                    "cadenza default, log-sigmas jittered 2%: median / p90",
                    "best diffusers option set at calls -1 / +1",
                ],
                sharpness,
            ),
        )
    sections.append(f"Wall time {time.time() - started:.0f} s.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n\n".join(sections) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=1, default=str))
    print("\n\n".join(sections))


if __name__ == "__main__":
    main()
