"""Errors of the service: a status and diagnostics, answered as `{"errors": [...]}`.

Request problems reuse the project's codes where they apply (D001–D009 for situation
values, E001/E004 for dates, E002… for computations); the codes proper to HTTP are
H001–H010 (documented in docs/erreurs.md). A message never repeats more of a value than
the caller sent for that key; a log line never holds a control character (`printable`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from ..diagnostics import Diagnostic, error

BAD_JSON = "H001"
BAD_REQUEST = "H002"
UNKNOWN_FILE = "H003"
TOO_LARGE = "H004"
BROKEN_FILE = "H005"
UNKNOWN_PATH = "H006"
BAD_METHOD = "H007"
SCHEMA_REFUSED = "H008"
HUGE_NUMBER = "H009"
INTERNAL = "H010"
REFUSED_FILE = "H011"
UNSUPPORTED_MEDIA = "H012"
TIMEOUT = "H013"
HEADERS_TOO_LARGE = "H014"


class ServiceError(Exception):
    """A request the service answers with `status` and these diagnostics."""

    def __init__(self, status: int, diagnostics: Sequence[Diagnostic]):
        super().__init__(diagnostics[0].message if diagnostics else "erreur")
        self.status = status
        self.diagnostics = tuple(diagnostics)


def fail(status: int, code: str, message: str, hint: str | None = None) -> ServiceError:
    return ServiceError(status, [error(code, message, hint=hint)])


def document(diagnostics: Iterable[Diagnostic]) -> dict[str, Any]:
    """The error document (`ErrorModel`): every diagnostic in the `check --json` shape."""
    return {"errors": [d.to_json() for d in diagnostics]}


def did_you_mean(name: str, known: Sequence[str], synonyms: dict[str, str] | None = None) -> str | None:
    if synonyms and name in synonyms:
        return f"vouliez-vous dire « {synonyms[name]} » ?"
    close = difflib.get_close_matches(name, list(known), n=1)
    if close:
        return f"vouliez-vous dire « {close[0]} » ?"
    return ("possibles : " + ", ".join(known)) if known else None


