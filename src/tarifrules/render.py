"""Diagnostics → text a person reads: `fichier:ligne:col: erreur[T012]: …`, the line, carets, the hint."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .characters import is_hidden
from .diagnostics import Diagnostic


def render_diagnostic(diagnostic: Diagnostic, sources: Mapping[str, str] | None = None) -> str:
    span = diagnostic.span
    where = f"{span.file}:{span.line}:{span.column}: " if span.line else (f"{span.file}: " if span.file else "")
    lines = [f"{where}{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"]
    text = (sources or {}).get(span.file)
    if text is not None and span.line:
        source_lines = text.split("\n")
        if 0 < span.line <= len(source_lines):
            line = source_lines[span.line - 1].rstrip("\r")
            if len(line) > 200:
                line = line[:200] + "…"
            # A bidi control or an invisible character is shown as �, one character for one: printed as
            # it is, it would reorder the very line that points at it, or hide where the caret points.
            line = "".join("\ufffd" if is_hidden(char) else char for char in line)
            gutter = f"{span.line:>5} | "
            lines.append(f"{gutter}{line}")
            end = span.end_column if span.end_line == span.line and span.end_column > span.column else len(line) + 1
            end = min(max(end, span.column + 1), max(len(line) + 1, span.column + 1))
            lines.append(" " * (len(gutter) - 2) + "| " + " " * (span.column - 1) + "^" * (end - span.column))
    if diagnostic.hint:
        lines.append(f"aide: {diagnostic.hint}")
    return "\n".join(lines)


def render_diagnostics(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None) -> str:
    return "\n\n".join(render_diagnostic(d, sources) for d in diagnostics)
