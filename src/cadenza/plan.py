"""A sampling plan: what one run of a model does, resolved once and recorded verbatim.

A plan holds the sampler, its steps, the schedule, the editing strategy (None for tasks without
known audio: generate, transfer, interpolate) and the strategy's options. A model resolves one
from its own defaults and the caller's choices (``Pipeline.plan``); the task runs it as it is
and every output's JSON record is ``plan.record()``. Every sampling default lives in this module.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

SAMPLER = "deis"
STEPS = 10
SCHEDULE = "tuned"
"""A model's sampler, steps and schedule when its folder names none."""

EDIT_STRATEGY = "replace"
"""How known audio enters sampling when neither the caller nor the model's folder names a
strategy (a trained model's ``edit_strategy``; each shipped model's is the one measured best on
real music, src/cadenza/models/README.md)."""

EDIT_SAMPLER = "ddpm"
"""The sampler when part of the signal is known: on the oracle (benchmarks/editing.py),
``replace`` with ancestral DDPM steps is 2.8x closer to the exact conditional than with any
deterministic sampler, whose trajectory the fresh noise of each replacement throws off."""

FAST_REPAINT_SAMPLER = "dpmpp_2m_sde"
FAST_REPAINT_STEPS = 50
"""``repaint-fast`` runs its own sampler and steps unless the caller names them."""

JUMP_LENGTH = 10
RESAMPLE = 10
"""RePaint (Lugmayr et al. 2022): jump back ``jump_length`` steps, ``resample`` passes."""

LAMBDA_CURVE = "seed"
"""Interpolation guidance's lambda curve: the one published with it."""

LAMBDA_CURVES = ("seed", "linear", "seed-index")
"""The lambda curves interpolation guidance knows by name (``cadenza.edit.interp_lambda``)."""

STRATEGIES: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "replace": {},
    "repaint": {"jump_length": JUMP_LENGTH, "resample": RESAMPLE},
    # RePaint's fidelity at about a sixth of its model calls (benchmarks/RESULTS.md, editing):
    # short jumps, more passes, and only where sigma lies between 0.01 and 1 sigma_data, the
    # noise levels where resampling pays.
    "repaint-fast": {"jump_length": 4, "resample": 16, "resample_band": (0.01, 1.0)},
    "interp": {"lambda_curve": LAMBDA_CURVE},
    "project": {},
})
"""Each editing strategy with its default options; ``resample_band`` is in units of the
model's sigma_data."""


@dataclass(frozen=True)
class Plan:
    """One sampling run. ``options`` go to the strategy and the sampler."""

    sampler: str = SAMPLER
    steps: int = STEPS
    schedule: str = SCHEDULE
    strategy: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            steps = operator.index(self.steps)
        except TypeError:
            steps = 0
        if steps < 1 or isinstance(self.steps, bool):
            raise ValueError(f"steps must be at least 1 (a whole number), got {self.steps!r}")
        object.__setattr__(self, "steps", steps)
        if self.strategy is not None and self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; choose one of "
                             f"{', '.join(STRATEGIES)}")
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def record(self) -> dict[str, Any]:
        """The plan as a JSON-ready dict (tuples become lists)."""
        options = {key: list(value) if isinstance(value, tuple) else value
                   for key, value in self.options.items()}
        return {"sampler": self.sampler, "steps": self.steps, "schedule": self.schedule,
                "strategy": self.strategy, "options": options}


def resolve(defaults: Plan, strategy: str | None = None, sampler: str | None = None,
            steps: int | None = None, **options: Any) -> Plan:
    """The plan a task runs: the caller's choices where given, else the strategy's defaults,
    else the model's ``defaults``. ``steps`` of 0 or fewer is an error, never a default."""
    if strategy is None:
        return Plan(sampler or defaults.sampler, defaults.steps if steps is None else steps,
                    defaults.schedule, None, options)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    _check_options(options)
    if strategy == "repaint-fast":
        sampler = sampler or FAST_REPAINT_SAMPLER
        steps = FAST_REPAINT_STEPS if steps is None else steps
    return Plan(sampler or EDIT_SAMPLER, defaults.steps if steps is None else steps,
                defaults.schedule, strategy, {**STRATEGIES[strategy], **options})


def _check_options(options: Mapping[str, Any]) -> None:
    """The strategy options a person types, checked before any work starts."""
    for name in ("jump_length", "resample"):
        value = options.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    curve = options.get("lambda_curve")
    if isinstance(curve, str) and curve not in LAMBDA_CURVES:
        raise ValueError(f"unknown lambda curve {curve!r}; choose one of "
                         f"{', '.join(LAMBDA_CURVES)}")
