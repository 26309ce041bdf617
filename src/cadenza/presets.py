"""Presets: YAML files naming a representation, network, objective, data and training setup.

``load_preset("diffwave-piano", ["training.steps=2000", "network.residual_channels=32"])``
returns the preset, overrides applied, as a typed ``Preset``; values are parsed as YAML, so
numbers, booleans and lists work. A preset may be a bundled name (``preset_names()``) or a path
to a file. Its data, training and sampling sections are checked once, here (unknown options and
wrong types are one-line errors), and their defaults live in ``cadenza.settings``; the
representation, network and objective sections are the keyword arguments of their builders,
which check them.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from cadenza.settings import DataSettings, SamplingSettings, TrainConfig

SECTIONS = ("representation", "network", "objective", "data", "training", "sampling")
ABOUT = ("name", "description", "tiny")  # the keys of a preset beside its sections


@dataclass
class Preset:
    """A parsed preset. ``tiny`` names its CPU-sized twin when that is not ``tiny-NAME``."""

    name: str
    representation: dict[str, Any]
    network: dict[str, Any]
    objective: dict[str, Any]
    data: DataSettings
    training: TrainConfig
    sampling: SamplingSettings
    description: str = ""
    tiny: str | None = None

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "preset") -> Preset:
        """A preset from its YAML or JSON form (e.g. a run's ``preset.json``); a mistake is a
        ValueError of one line that starts with ``source``."""
        if not isinstance(values, Mapping) or not all(
                isinstance(values.get(section), Mapping) for section in SECTIONS):
            raise ValueError(f"{source}: a preset needs the sections {', '.join(SECTIONS)}")
        unknown = sorted(set(values) - set(SECTIONS) - set(ABOUT))
        if unknown:
            raise ValueError(f"{source}: unknown key(s) {unknown}; a preset has "
                             f"{', '.join(ABOUT + SECTIONS)}")
        try:
            return cls(
                name=str(values.get("name", "preset")),
                representation=copy.deepcopy(dict(values["representation"])),
                network=copy.deepcopy(dict(values["network"])),
                objective=copy.deepcopy(dict(values["objective"])),
                data=DataSettings.from_dict(values["data"]),
                training=TrainConfig.from_dict(values["training"]),
                sampling=SamplingSettings.from_dict(values["sampling"]),
                description=str(values.get("description", "")),
                tiny=None if values.get("tiny") is None else str(values["tiny"]),
            )
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        """The preset as JSON-ready dicts with every default written out: what a run records
        (``preset.json``, checkpoints, the model folder) and ``from_dict`` reads back."""
        return json.loads(json.dumps(asdict(self)))  # tuples become lists, as JSON has them

    def __getitem__(self, section: str) -> Mapping[str, Any]:
        """A section as a read-only mapping, defaults filled in, for code written when presets
        were plain dicts (``preset["training"]["steps"]``); new code uses the attributes."""
        if section not in SECTIONS:
            raise KeyError(section)
        return MappingProxyType(self.to_dict()[section])


def preset_names() -> tuple[str, ...]:
    folder = resources.files("cadenza") / "presets"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml")))


def _read(name_or_path: str) -> tuple[Any, str]:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        text, source = path.read_text(), str(path)
    else:
        bundled = resources.files("cadenza") / "presets" / f"{name_or_path}.yaml"
        if not bundled.is_file():
            raise ValueError(
                f"unknown preset {name_or_path!r}; choose one of {', '.join(preset_names())} "
                "or give a .yaml file"
            )
        text, source = bundled.read_text(), f"preset {name_or_path}"
    try:
        return yaml.safe_load(text), source
    except yaml.YAMLError as error:
        raise ValueError(f"{source}: not valid YAML ({error})") from None


def apply_override(preset: dict, override: str) -> None:
    """Apply one ``section.key=value`` (or deeper) override in place to a preset's dict form."""
    if "=" not in override:
        raise ValueError(f"override {override!r} is not of the form section.key=value")
    dotted, text = override.split("=", 1)
    keys = dotted.strip().split(".")
    if len(keys) < 2 or keys[0] not in SECTIONS:
        raise ValueError(f"override {override!r} must start with one of {', '.join(SECTIONS)}")
    target = preset
    for key in keys[:-1]:
        target = target.setdefault(key, {})
        if not isinstance(target, dict):
            raise ValueError(f"override {override!r}: {key} is not a section")
    value = yaml.safe_load(text)
    if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as text; people mean a number
        with contextlib.suppress(ValueError):
            value = float(value)
    target[keys[-1]] = value


def load_preset(name_or_path: str, overrides: list[str] | tuple[str, ...] = ()) -> Preset:
    """The bundled preset ``name_or_path`` (or a .yaml file), ``overrides`` applied, parsed."""
    values, source = _read(name_or_path)
    if not isinstance(values, dict):
        raise ValueError(f"{source}: a preset needs the sections {', '.join(SECTIONS)}")
    for override in overrides:
        apply_override(values, override)
    values.setdefault("name", Path(name_or_path).stem)
    return Preset.from_dict(values, source)
