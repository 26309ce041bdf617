"""Typed settings with their defaults stated once: the data, training and sampling sections of
a preset, and ``parse_section``, which turns such a section read from YAML or JSON into one
with one-line errors for unknown options and values of the wrong type. Each section also states
the range of each number (``LIMITS``) and the choices of each name (``CHOICES``); a value
outside them is a one-line error when the section is made, however it is made.
"""

from __future__ import annotations

import contextlib
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Bound:
    """The range a number must lie in; ``None`` leaves that end open. ``above``: the lowest
    value itself is not allowed (a learning rate of 0 trains nothing)."""

    low: float | None = None
    high: float | None = None
    above: bool = False
    below: bool = False

    def describe(self) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{'above' if self.above else 'at least'} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'below' if self.below else 'at most'} {self.high:g}")
        return " and ".join(parts)

    def holds(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return False
        return self.high is None or (value < self.high if self.below else value <= self.high)


POSITIVE = Bound(0, above=True)
AT_LEAST_ONE = Bound(1)
NOT_NEGATIVE = Bound(0)
FRACTION = Bound(0, 1)


def check_values(settings: Any, section: str) -> None:
    """A ValueError naming ``section.key`` for a number outside its class's ``LIMITS``, a
    NaN or infinity, or a name not among its ``CHOICES`` (called by each section's
    ``__post_init__``, so a section made in code is checked as one read from YAML)."""
    limits: Mapping[str, Bound] = getattr(settings, "LIMITS", {})
    choices: Mapping[str, tuple[str, ...]] = getattr(settings, "CHOICES", {})
    for field in fields(settings):
        value, where = getattr(settings, field.name), f"{section}.{field.name}"
        numbers = value if isinstance(value, tuple) else (value,)
        for number in numbers:
            if isinstance(number, float) and not math.isfinite(number):
                raise ValueError(f"{where} must be a finite number, got {number!r}")
            bound = limits.get(field.name)
            if (bound is not None and isinstance(number, int | float)
                    and not isinstance(number, bool) and not bound.holds(number)):
                raise ValueError(f"{where} must be {bound.describe()}, got {value!r}")
        if field.name in choices and value not in choices[field.name]:
            raise ValueError(f"{where} must be one of {', '.join(choices[field.name])}, "
                             f"got {value!r}")


@dataclass
class DataSettings:
    """How training examples are cut from recordings (a prepared cache brings its own)."""

    crop_seconds: float  # no default: a preset says how long its examples are
    channels: int = 1
    validation_fraction: float = 0.1  # of the recordings, held out of training
    min_seconds: float = 1.0  # shorter recordings are skipped

    LIMITS: ClassVar[dict[str, Bound]] = {
        "crop_seconds": POSITIVE, "channels": AT_LEAST_ONE,
        "validation_fraction": Bound(0, 1, below=True), "min_seconds": NOT_NEGATIVE,
    }

    def __post_init__(self) -> None:
        check_values(self, "data")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> DataSettings:
        return parse_section(cls, values, "data")


@dataclass
class TrainConfig:
    """How a run trains (see ``cadenza.trainer``)."""

    steps: int = 10_000
    batch_size: int = 16  # per process and micro-batch
    grad_accumulation: int = 1
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)  # Msanii trains with beta1 = 0.5
    warmup_steps: int = 200
    final_lr_fraction: float = 0.1  # cosine decay ends at this fraction of the peak
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    mixed_precision: str = "no"  # no | bf16 | fp16
    seed: int = 0
    checkpoint_every: int = 500
    keep_checkpoints: int = 3  # the newest N are kept; 0 keeps every one
    log_every: int = 10
    sample_every: int = 0  # 0: never
    max_bad_steps: int = 5
    max_cpu_minutes: float = 0.0  # stop (checkpoint and export) after this much CPU; 0: never
    num_workers: int = 0
    init_from: str = ""  # a vocoder or model folder whose weights a fresh run starts from

    LIMITS: ClassVar[dict[str, Bound]] = {
        "steps": AT_LEAST_ONE, "batch_size": AT_LEAST_ONE, "grad_accumulation": AT_LEAST_ONE,
        "learning_rate": POSITIVE, "weight_decay": NOT_NEGATIVE,
        "adam_betas": Bound(0, 1, below=True), "warmup_steps": NOT_NEGATIVE,
        "final_lr_fraction": FRACTION, "grad_clip": POSITIVE, "ema_decay": FRACTION,
        "seed": NOT_NEGATIVE, "checkpoint_every": NOT_NEGATIVE,
        "keep_checkpoints": NOT_NEGATIVE, "log_every": AT_LEAST_ONE,
        "sample_every": NOT_NEGATIVE, "max_bad_steps": AT_LEAST_ONE,
        "max_cpu_minutes": NOT_NEGATIVE, "num_workers": NOT_NEGATIVE,
    }
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"mixed_precision": ("no", "bf16", "fp16")}

    def __post_init__(self) -> None:
        check_values(self, "training")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        return parse_section(cls, values, "training")


@dataclass
class SamplingSettings:
    """How the trained model samples by default, and the run's periodic audio samples.

    ``sampler``, ``steps`` and ``schedule`` left out (None) are the model's defaults, which
    the sampling code states (``cadenza.plan``), so they are not repeated here.
    """

    sampler: str | None = None
    steps: int | None = None
    schedule: str | None = None
    sample_seconds: float = 2.0  # length of the audio written every training.sample_every
    vocoder: str | None = None  # a trained vocoder folder that decodes the model's mel

    LIMITS: ClassVar[dict[str, Bound]] = {"steps": AT_LEAST_ONE, "sample_seconds": POSITIVE}

    def __post_init__(self) -> None:
        check_values(self, "sampling")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SamplingSettings:
        return parse_section(cls, values, "sampling")


def parse_section(cls: type[T], values: Mapping[str, Any], section: str) -> T:
    """``values`` as the dataclass ``cls``; a ValueError naming ``section.key`` for an unknown
    option, a missing required one, or a value of the wrong type."""
    if not isinstance(values, Mapping):
        raise ValueError(f"{section} must be a mapping of options, got {values!r}")
    declared = fields(cls)
    known = {field.name for field in declared}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {section} option(s) {unknown}; known: {sorted(known)}")
    missing = [field.name for field in declared if field.name not in values
               and field.default is MISSING and field.default_factory is MISSING]
    if missing:
        raise ValueError(f"{section} needs {', '.join(missing)}")
    hints = typing.get_type_hints(cls)
    return cls(**{key: _typed(value, hints[key], f"{section}.{key}")
                  for key, value in values.items()})


def _typed(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against the type ``hint`` (int, float, str, bool, a fixed tuple, or
    one of these or None), ints and numeric text taken as floats where a float is wanted."""
    arguments = typing.get_args(hint)
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType)
    if optional:
        if value is None:
            return None
        (hint,) = [argument for argument in arguments if argument is not type(None)]
        arguments = typing.get_args(hint)
    if typing.get_origin(hint) is tuple:
        if isinstance(value, list | tuple) and len(value) == len(arguments):
            return tuple(_typed(item, kind, f"{where}[{i}]")
                         for i, (item, kind) in enumerate(zip(value, arguments, strict=True)))
    elif hint is float:
        if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as text; people mean a number
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, hint):
        return value
    wanted = _describe(hint) + (" or null" if optional else "")
    raise ValueError(f"{where} must be {wanted}, got {value!r}")


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) is tuple:
        return f"a list of {len(typing.get_args(hint))} values"
    names = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))
