"""Which renderer plays the notes of a data set, and what software made it.

``resolve_renderer("auto")`` picks FluidSynth (``cadenza.data.fluidsynth``) when the program and
a soundfont are installed, else cadenza's own synthesiser (``cadenza.data.synth``).
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from cadenza.data.audio import AudioError
from cadenza.data.fluidsynth import find_soundfont, fluidsynth_version, renderer_available
from cadenza.data.synth import SYNTH_VERSION

RENDERERS = ("auto", "fluidsynth", "synth")


def resolve_renderer(renderer: str = "auto", soundfont: str | Path | None = None) -> str:
    """``"fluidsynth"`` or ``"synth"``: auto picks FluidSynth when it and a soundfont exist."""
    if renderer not in RENDERERS:
        raise ValueError(f"unknown renderer {renderer!r}; choose from {', '.join(RENDERERS)}")
    if soundfont is not None and renderer != "synth":
        find_soundfont(soundfont)  # a soundfont asked for by name must exist
    if renderer == "auto":
        return "fluidsynth" if renderer_available(soundfont) else "synth"
    if renderer == "fluidsynth" and not renderer_available(soundfont):
        raise AudioError(
            "renderer 'fluidsynth' needs the fluidsynth program and a General MIDI soundfont "
            "(Debian: apt-get install fluidsynth fluid-soundfont-gm); or use renderer='synth'"
        )
    return renderer


def software_versions(renderer: str) -> dict[str, str | int | None]:
    """Versions of Python, the packages and the renderer, for a data set's metadata."""
    versions: dict[str, str | int | None] = {"python": platform.python_version()}
    for package in ("cadenza", "music21", "numpy", "soundfile"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    if renderer == "fluidsynth":
        versions["fluidsynth"] = fluidsynth_version()
    else:
        versions["synth"] = SYNTH_VERSION
    return versions
