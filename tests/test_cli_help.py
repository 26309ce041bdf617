"""Help at 80 columns: every command's options whole, flags without a type, and methods named
by what they are, never by the project's seed-paper numbers."""

import re

import pytest
import typer
from typer.testing import CliRunner

from cadenza.cli import app

COMMAND = typer.main.get_command(app)


def commands(group=COMMAND, path: tuple[str, ...] = ()):
    yield path
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer ships its own click)
            yield from commands(command, (*path, name))
        else:
            yield (*path, name)


@pytest.mark.parametrize("path", list(commands()), ids=lambda p: " ".join(p) or "cadenza")
def test_help_fits_80_columns_and_names_methods(path):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert max(map(len, text.splitlines())) <= 80
    assert "…" not in text and "<bool>" not in text
    assert not re.search(r"seed 0\d\d|seed author|seed's", text, re.IGNORECASE), text
    command = COMMAND
    for name in path:
        command = command.commands[name]
    for param in command.params:  # every option's names whole, e.g. --regenerate-context
        for name in (*param.opts, *param.secondary_opts):
            if name.startswith("-"):
                assert re.search(rf"{re.escape(name)}(?![\w-])", text), name
