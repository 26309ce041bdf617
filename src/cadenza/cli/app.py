"""The ``cadenza`` command group; the commands register on it from their modules."""

from __future__ import annotations

import typer

from cadenza.version import __version__

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


data_app = typer.Typer(help="Datasets: check a folder, build caches, render the piano corpus.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")
