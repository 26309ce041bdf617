"""The ``cadenza`` command line: a thin layer over the Python API."""

from __future__ import annotations

import sys

import typer

from cadenza.cli import app_command, build, editing, measure  # noqa: F401  (each registers its commands)
from cadenza.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: user mistakes print one line and exit 2, never a traceback."""
    try:
        app()
    except (ValueError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
