"""How deep a computation and how long a grid may be: bounds every back end is known to handle.

The back ends walk a definition recursively (the interpreter's closures, the generated
Python, the columns, the explanations, the pages); a file nested deeper than they can go
would pass `check` and fail later. These checks run first, by explicit iteration (never
recursion), and when one fails the other checks do not run: the file is refused here, with
the limit named, rather than at `eval`.

The depth of a name counts every level a computation goes through to give its value: an
operation or a function (`+`, `le maximum de`…), a `sauf si` line, a `si … sinon si` case,
a definition in another article (`si`, `par dérogation`), and the depth of each name it
reads. A real délibération stays below 15.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import nodes as n
from ..diagnostics import Diagnostic, error
from ..symbols import Piece, Symbols

MAX_DEPTH = 100
MAX_ROWS = 2_000


def check_limits(program: n.Program, symbols: Symbols) -> list[Diagnostic]:
    """T070 (a name computed through more than `MAX_DEPTH` levels), T071 (a grid of more than
    `MAX_ROWS` tranches)."""
    problems = list(_long_grids(program))
    depths = name_depths(symbols)
    for name, depth in depths.items():
        # Said where the limit is crossed: at the names that read only names within it.
        if depth > MAX_DEPTH and all(depths[read] <= MAX_DEPTH for read in _names_read(symbols.pieces[name], symbols)
                                     if read in depths and read != name):
            span = symbols.pieces[name][0].definition.name_span
            problems.append(error(
                "T070", f"« {name} » se calcule à travers {depth} niveaux d'opérations, de « sauf si », de cas et "
                f"de noms (limite : {MAX_DEPTH})", span,
                "une grille (« grille selon … ») remplace une longue suite de « sauf si » ou de « sinon si » ; "
                "une longue somme s'écrit en quelques sous-totaux nommés"))
    return problems


def _long_grids(program: n.Program) -> Iterator[Diagnostic]:
    for article in program.articles:
        for definition in article.definitions:
            for part in n.definition_parts(definition):
                for node in _nodes(part):
                    if isinstance(node, n.Grid) and len(node.rows) > MAX_ROWS:
                        yield error("T071", f"la grille de « {definition.name} » a {len(node.rows)} tranches "
                                    f"(limite : {MAX_ROWS})", node.span,
                                    "une délibération en compte rarement plus de quelques dizaines ; un tarif "
                                    "proportionnel s'écrit comme un calcul (« quotient_familial × taux »)")


def _nodes(root: n.Expr | n.Grid | n.Cases) -> Iterator[n.Expr | n.Grid | n.Cases]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(n.children(node))


def name_depths(symbols: Symbols) -> dict[str, int]:
    """Each defined name's depth (see the module docstring), names read first. A name in a cycle
    counts the names of the cycle once (the cycle itself is T030)."""
    depths: dict[str, int] = {}
    visiting: set[str] = set()
    for start in symbols.pieces:
        stack: list[tuple[str, bool]] = [(start, False)]
        while stack:
            name, ready = stack.pop()
            if name in depths:
                continue
            if ready:
                visiting.discard(name)
                depths[name] = _pieces_depth(symbols.pieces[name], depths)
                continue
            if name in visiting:
                continue  # a cycle: the name is computed when its first visit ends
            visiting.add(name)
            stack.append((name, True))
            stack.extend((ref, False) for ref in _names_read(symbols.pieces[name], symbols)
                         if ref not in depths and ref not in visiting)
    return depths


def _names_read(pieces: tuple[Piece, ...], symbols: Symbols) -> list[str]:
    return [node.name for piece in pieces for part in n.definition_parts(piece.definition) for node in _nodes(part)
            if isinstance(node, n.Ref) and node.name in symbols.pieces]


def _pieces_depth(pieces: tuple[Piece, ...], depths: dict[str, int]) -> int:
    """The pieces of a name are tried one after the other, and the `sauf si` lines of each: one level each."""
    return max(rank + len(piece.definition.unless)
               + max(_depth(part, depths) for part in n.definition_parts(piece.definition))
               for rank, piece in enumerate(pieces))


def _depth(root: n.Expr | n.Grid | n.Cases, depths: dict[str, int]) -> int:
    """Levels of operations below `root`, a name read counting its own depth (0 for a datum)."""
    deepest = 0
    stack: list[tuple[n.Expr | n.Grid | n.Cases, int]] = [(root, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, n.Ref):
            deepest = max(deepest, level + depths.get(node.name, 0))
            continue
        deepest = max(deepest, level)
        if isinstance(node, n.Cases):
            stack.extend((part, level + rank) for rank, case in enumerate(node.cases)
                         for part in (case.condition, case.value) if part is not None)
        else:
            stack.extend((child, level + 1) for child in n.children(node))
    return deepest
