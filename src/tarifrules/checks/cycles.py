"""A name that depends on itself can never be computed."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, error
from ..symbols import definition_references
from .context import Context


def check_cycles(context: Context) -> Iterator[Diagnostic]:
    pieces = context.symbols.pieces
    graph = {
        name: sorted({ref.name for p in group for ref in definition_references(p.definition) if ref.name in pieces})
        for name, group in pieces.items()
    }
    done: set[str] = set()
    reported: set[frozenset[str]] = set()

    def visit(name: str, path: list[str]) -> Iterator[Diagnostic]:
        if name in path:
            cycle = [*path[path.index(name):], name]
            key = frozenset(cycle)
            if key not in reported:
                reported.add(key)
                span = pieces[name][0].definition.name_span
                yield error("T030", f"« {name} » dépend de lui-même : {' → '.join(cycle)}", span,
                            "une règle ne peut pas utiliser sa propre valeur ; cassez la boucle")
            return
        if name in done:
            return
        for dependency in graph.get(name, []):
            yield from visit(dependency, [*path, name])
        done.add(name)

    for name in pieces:
        yield from visit(name, [])
