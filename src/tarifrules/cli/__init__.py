"""Command line: the only package that prints or exits (exit codes in `common.py`, docs/cli.md).

Commands are grouped by what they work on; importing this package registers them all.
"""

from . import evaluation, population, reports, sources  # noqa: F401  (registers the commands)
from .common import cli, main

__all__ = ["cli", "main"]
