"""The ``cadenza`` command line: a thin layer over the Python API."""

from __future__ import annotations

import sys

import typer

from cadenza.cli import app_command, build, editing, measure  # noqa: F401  (each registers its commands)
from cadenza.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: user mistakes print one line and exit 2, never a traceback (click's usage
    errors included, which would otherwise print the usage block)."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=sys.argv[1:], prog_name="cadenza", standalone_mode=False)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(1)
    except (ValueError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
    except Exception as error:
        # Click's own errors (typer vendors click, so they are told apart by their API).
        if type(error).__name__ == "NoArgsIsHelpError":
            typer.echo(error.format_message())
            sys.exit(0)
        if not (hasattr(error, "format_message") and hasattr(error, "exit_code")):
            raise
        context = getattr(error, "ctx", None)
        path = context.command_path if context is not None else "cadenza"
        typer.echo(f"error: {error.format_message()} (see {path} --help)", err=True)
        sys.exit(error.exit_code)
    if isinstance(code, int) and code:
        sys.exit(code)
