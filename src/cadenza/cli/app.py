"""The ``cadenza`` command group; the commands register on it from their modules."""

from __future__ import annotations

import typer

from cadenza.version import __version__

# Plain click help: it wraps to the terminal, where rich's boxed tables cut option names
# short at 80 columns ("--regenerate-cont…") and label flags "<bool>".
HELP = {"rich_markup_mode": None}

app = typer.Typer(
    help="Diffusion models of music audio.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    **HELP,
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


data_app = typer.Typer(help="Datasets: scan folders, build caches, render corpora.",
                       no_args_is_help=True, **HELP)
app.add_typer(data_app, name="data")
