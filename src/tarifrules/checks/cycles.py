"""A name that depends on itself can never be computed."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, error
from ..symbols import Symbols, definition_references
from .context import Context


def check_cycles(context: Context) -> Iterator[Diagnostic]:
    return cycles(context.symbols)


def cycles(symbols: Symbols) -> Iterator[Diagnostic]:
    """T030 for each loop of names, found by an explicit stack (a 10 000-long chain is no deeper than a short one)."""
    pieces = symbols.pieces
    graph = {
        name: sorted({ref.name for p in group for ref in definition_references(p.definition) if ref.name in pieces})
        for name, group in pieces.items()
    }
    done: set[str] = set()
    reported: set[frozenset[str]] = set()
    for root in pieces:
        if root in done:
            continue
        path, on_path = [root], {root: 0}
        pending = [iter(graph.get(root, []))]
        while pending:
            name = next(pending[-1], None)
            if name is None:
                pending.pop()
                done.add(path[-1])
                del on_path[path.pop()]
            elif name in on_path:
                cycle = [*path[on_path[name]:], name]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    span = pieces[name][0].definition.name_span
                    yield error("T030", f"« {name} » dépend de lui-même : {' → '.join(cycle)}", span,
                                "une règle ne peut pas utiliser sa propre valeur ; cassez la boucle")
            elif name not in done:
                on_path[name] = len(path)
                path.append(name)
                pending.append(iter(graph.get(name, [])))
