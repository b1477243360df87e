"""Command line: the only package that prints or exits (exit codes in `common.py`, docs/cli.md).

Commands are grouped by what they work on, one module each; a module is imported when one
of its commands runs (`common.LAZY_COMMANDS`), and `all_commands()` loads them all.
"""

from __future__ import annotations

import click

from .common import cli, main

__all__ = ["all_commands", "cli", "main"]


def all_commands() -> dict[str, click.Command]:
    """Every command, by name (imports every command module)."""
    with click.Context(cli) as ctx:
        commands = {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
    return {name: command for name, command in commands.items() if command is not None}
