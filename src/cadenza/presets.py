"""Presets: YAML files naming a representation, network, objective, data and training setup.

``load_preset("diffwave-piano", ["training.steps=2000", "network.residual_channels=32"])``
returns the preset as a dict with the overrides applied; values are parsed as YAML, so numbers,
booleans and lists work. A preset may be a bundled name (``PRESETS``) or a path to a file.
"""

from __future__ import annotations

import contextlib
import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

SECTIONS = ("representation", "network", "objective", "data", "training", "sampling")


def preset_names() -> tuple[str, ...]:
    folder = resources.files("cadenza") / "presets"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml")))


def _read(name_or_path: str) -> tuple[dict, str]:
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
        preset = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{source}: not valid YAML ({error})") from None
    if not isinstance(preset, dict) or not all(isinstance(preset.get(s), dict) for s in SECTIONS):
        raise ValueError(f"{source}: a preset needs the sections {', '.join(SECTIONS)}")
    return preset, source


def apply_override(preset: dict, override: str) -> None:
    """Apply one ``section.key=value`` (or deeper) override in place."""
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


def load_preset(name_or_path: str, overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    preset, _ = _read(name_or_path)
    preset = copy.deepcopy(preset)
    for override in overrides:
        apply_override(preset, override)
    preset.setdefault("name", Path(name_or_path).stem)
    return preset
