"""Typed settings with their defaults stated once: the data, training and sampling sections of
a preset, and ``parse_section``, which turns such a section read from YAML or JSON into one
with one-line errors for unknown options and values of the wrong type.
"""

from __future__ import annotations

import contextlib
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class DataSettings:
    """How training examples are cut from recordings (a prepared cache brings its own)."""

    crop_seconds: float  # no default: a preset says how long its examples are
    channels: int = 1
    validation_fraction: float = 0.1  # of the recordings, held out of training
    min_seconds: float = 1.0  # shorter recordings are skipped

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
