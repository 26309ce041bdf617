"""Search cadenza's own pipelines at 10 model calls: method x schedule x sigma range.

    python benchmarks/schedule_search.py      (about 10 s; prints the best pipelines per spectrum)
"""

from __future__ import annotations

import itertools

import torch

from cadenza.oracle import SPECTRA, GaussianOracle
from cadenza.sampler_study import Pipeline, evaluate

METHODS = ["euler", "heun", "dpmpp_2m", "dpmpp_3m_sde", "deis", "unipc", "ddpm", "dpmpp_2m_sde"]
SCHEDULES = [("karras", {"rho": rho}) for rho in (3, 5, 7, 9)] + [("logsnr", {}), ("cosine", {})]


def main(budget: int = 10) -> None:
    torch.set_num_threads(1)
    for spectrum in SPECTRA:
        oracle = GaussianOracle.from_spectrum(spectrum, 256)
        rows = []
        grid = itertools.product(
            METHODS, SCHEDULES, (0.002, 0.005, 0.01, 0.02, 0.05), (10.0, 20.0, 80.0, 200.0)
        )
        for method, (kind, options), sigma_min, sigma_max in grid:
            method_options = {"eta": 0.0} if method == "dpmpp_3m_sde" else {}
            pipeline = Pipeline(method, kind, sigma_min, sigma_max, options, method_options)
            error = evaluate(oracle, pipeline, budget)["distribution_error"]
            rows.append((error, pipeline.label()))
        rows.sort()
        print(spectrum)
        for error, label in rows[:5]:
            print(f"  {error:.2e}  {label}")


if __name__ == "__main__":
    main()
