"""Symbol table of a program: data, outputs, and the definitions of each name.

A name may be defined in several articles ("pieces"); `ordered_pieces` gives the
priority order the evaluator follows: a piece written `par dérogation à l'article N`
comes before the pieces of article N, conditional pieces before the unconditional one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from . import nodes as n


@dataclass(frozen=True, slots=True)
class Piece:
    """One definition of a name, with the article it belongs to."""

    article: n.Article
    definition: n.Definition

    @property
    def conditional(self) -> bool:
        return self.definition.only_if is not None


@dataclass(frozen=True)
class Symbols:
    data: dict[str, n.Declaration]
    outputs: dict[str, n.Declaration]
    pieces: dict[str, tuple[Piece, ...]]
    articles: dict[str, n.Article]

    def is_defined(self, name: str) -> bool:
        return name in self.pieces

    def kind_of_datum(self, name: str) -> n.Kind | None:
        declaration = self.data.get(name)
        return declaration.type.kind if declaration else None


def collect(program: n.Program) -> Symbols:
    """First declaration wins; duplicates are reported by the name checks."""
    data: dict[str, n.Declaration] = {}
    for declaration in program.data:
        data.setdefault(declaration.name, declaration)
    outputs: dict[str, n.Declaration] = {}
    for declaration in program.outputs:
        outputs.setdefault(declaration.name, declaration)
    pieces: dict[str, list[Piece]] = {}
    articles: dict[str, n.Article] = {}
    for article in program.articles:
        articles.setdefault(article.number, article)
        for definition in article.definitions:
            pieces.setdefault(definition.name, []).append(Piece(article, definition))
    return Symbols(data, outputs, {k: tuple(v) for k, v in pieces.items()}, articles)


def priority_pairs(pieces: tuple[Piece, ...]) -> set[tuple[int, int]]:
    """Pairs (i, j) of indexes such that piece i takes priority over piece j (transitively)."""
    beats = {(i, j) for i, a in enumerate(pieces) for j, b in enumerate(pieces)
             if i != j and b.article.number in a.definition.derogates}
    while True:  # transitive closure (a handful of pieces at most)
        extra = {(i, k) for (i, j) in beats for (j2, k) in beats if j == j2 and i != k} - beats
        if not extra:
            return beats
        beats |= extra


def ordered_pieces(pieces: tuple[Piece, ...]) -> tuple[Piece, ...]:
    """Priority order: derogations first (transitively), then conditional, then unconditional.

    Ties keep source order. The checker guarantees that pieces left without a stated
    priority cannot apply together, so their relative order does not change results.
    """
    beats = priority_pairs(pieces)
    remaining = list(range(len(pieces)))
    ordered: list[Piece] = []
    while remaining:
        free = [i for i in remaining if not any((j, i) in beats for j in remaining if j != i)] or remaining
        chosen = next((i for i in free if pieces[i].conditional), free[0])
        ordered.append(pieces[chosen])
        remaining.remove(chosen)
    return tuple(ordered)


def references(expr: n.Expr | n.Grid | n.Cases | None) -> Iterator[n.Ref]:
    """Every `Ref` inside an expression or body, in reading order."""
    return (node for node in n.walk(expr) if isinstance(node, n.Ref))


def definition_references(definition: n.Definition) -> Iterator[n.Ref]:
    return (ref for part in n.definition_parts(definition) for ref in references(part))


def data_references(program: n.Program, symbols: Symbols) -> dict[int, n.Ref]:
    """Every reference to a datum in the articles, keyed by node identity (the key of traces)."""
    return {id(ref): ref for article in program.articles for definition in article.definitions
            for ref in definition_references(definition) if ref.name in symbols.data}


def dependency_parts(symbols: Symbols, roots: Iterable[n.Expr | n.Grid | n.Cases | str]) -> Iterator[
        n.Expr | n.Grid | n.Cases]:
    """The given expressions (or the definitions of the given names), then the definitions of
    every name they use, each once: all the rules a result depends on."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        root = todo.pop()
        if isinstance(root, str):
            if root in seen:
                continue
            seen.add(root)
            parts = [part for piece in symbols.pieces.get(root, ()) for part in n.definition_parts(piece.definition)]
        else:
            parts = [root]
        for part in parts:
            yield part
            todo.extend(ref.name for ref in references(part) if ref.name in symbols.pieces)
