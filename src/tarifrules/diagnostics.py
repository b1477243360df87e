"""The one diagnostic type, and the one exception that carries diagnostics.

Every problem a policy writer or an integrator can meet (syntax, checks, bad
situation values, evaluation outside the validity period) is a `Diagnostic` with a
stable code, a French message, a span and an optional hint. `TarifError` is the only
exception the public API raises for bad input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .span import NO_SPAN, Span


class Severity(StrEnum):
    ERROR = "erreur"
    WARNING = "avertissement"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span = NO_SPAN
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, object]:
        """The `check --json` document for this diagnostic (see `models.DiagnosticModel`)."""
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "hint": self.hint,
        }


def error(code: str, message: str, span: Span = NO_SPAN, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, hint)


def warning(code: str, message: str, span: Span = NO_SPAN, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, hint)


class TarifError(Exception):
    """Raised by the public API when input (a rule file, a situation) is not acceptable.

    `diagnostics` holds every problem found, errors first; `sources` maps file names to
    their text so that a caller can render carets (see `render.render_diagnostics`).
    """

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = tuple(sorted(diagnostics, key=lambda d: (not d.is_error,)))
        self.sources = dict(sources or {})
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(f"[{first.code}] {first.message}" if first else "erreur")
