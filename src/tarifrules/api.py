"""Convenience entry points that do not need a checked RuleSet."""

from __future__ import annotations

from pathlib import Path

from .checks import check_program
from .diagnostics import Diagnostic, TarifError
from .parser import parse
from .source import read_source


def check(path_or_text: str | Path, *, file: str | None = None, profile: str | None = None) -> list[Diagnostic]:
    """Every diagnostic of a file (syntax errors included), never raising for them.

    `profile` (`cantine-1-euro`) adds the conditions of a named profile (`ValueError` if unknown).
    """
    try:
        text, name = read_source(path_or_text, file)
        return check_program(parse(text, name), profile)
    except TarifError as exc:
        return list(exc.diagnostics)


def format_source(text: str, file: str = "<texte>") -> str:
    """The canonical layout of a rule file (raises `TarifError` on a syntax error)."""
    from .formatter import format_source as _format

    return _format(text, file)
