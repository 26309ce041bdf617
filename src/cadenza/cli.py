"""The ``cadenza`` command line: a thin layer over the Python API."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cadenza import __version__
from cadenza.oracle import SPECTRA
from cadenza.sampling import METHODS, is_stochastic

app = typer.Typer(
    help="Diffusion models of music audio.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cadenza {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Diffusion models of music audio."""


def _parse_calls(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--calls takes comma-separated integers, got {text!r}") from None


@app.command()
def demo(
    out: Path = typer.Option(Path("cadenza-demo"), help="Folder for report.html and results."),
    spectrum: str = typer.Option("all", help=f"One of {', '.join(SPECTRA)}, or all."),
    calls: str = typer.Option("5,10,20,50", help="Budgets of model calls, comma-separated."),
) -> None:
    """Compare every sampler on the exact Gaussian oracle and write an HTML report."""
    from cadenza.demo import run_demo  # matplotlib loads only when needed

    spectra = list(SPECTRA) if spectrum == "all" else [spectrum]
    path = run_demo(out, spectra, _parse_calls(calls))
    typer.echo(f"report: {path}")


@app.command()
def methods() -> None:
    """List the samplers."""
    for name in METHODS:
        typer.echo(f"{name} (stochastic)" if is_stochastic(name) else name)


def main() -> None:
    """Entry point: user mistakes print one line and exit 2, never a traceback."""
    try:
        app()
    except (ValueError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
