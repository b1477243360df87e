"""The missing data of each row, as `Evaluation.missing` finds them, over whole columns.

`explain.missing_data` follows, from an unknown output, the nodes that the interpreter
*evaluated* and that came out unknown, down to unknown data. Here the same walk is done
with masks in two passes over the AST:

1. `evaluated`: for each node, the rows where the interpreter computes it (a lazy `et`
   skips its right side, an unknown `si` computes both branches, a grid only the row
   that holds the value…), from the columns kept by `ColumnEvaluator`;
2. the visit: from each output's unknown rows, down through nodes evaluated and unknown.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from .. import nodes as n
from ..symbols import Symbols, definition_references, ordered_pieces
from .columns import Col
from .compiler import ColumnEvaluator, _truth

Rows = npt.NDArray[np.bool_]


def name_order(symbols: Symbols, roots: Iterable[str]) -> list[str]:
    """Defined names reachable from `roots`, every user of a name before the name."""
    done: set[str] = set()
    post: list[str] = []

    def visit(name: str) -> None:
        if name in done or name not in symbols.pieces:
            return
        done.add(name)
        for piece in symbols.pieces[name]:
            for ref in definition_references(piece.definition):
                visit(ref.name)
        post.append(name)

    for root in roots:
        visit(root)
    return post[::-1]


class _Evaluated:
    """Pass 1: rows where each node is evaluated and unknown (`unknown_at`, keyed by node id)."""

    def __init__(self, evaluator: ColumnEvaluator, outputs: tuple[str, ...]):
        self.ev = evaluator
        self.size = evaluator.size
        self.unknown_at: dict[int, Rows] = {}
        self.names: dict[str, Rows] = {name: np.ones(self.size, dtype=bool) for name in outputs}
        for name in name_order(evaluator.symbols, outputs):
            rows = self.names.get(name)
            if rows is not None and rows.any():
                self.name(name, rows)

    def _col(self, node: object) -> Col:
        return self.ev.cols[id(node)]

    def _mark(self, node: object, rows: Rows) -> None:
        unknown = self._col(node).unknown
        if unknown is not None:
            hit = rows & unknown
            previous = self.unknown_at.get(id(node))
            self.unknown_at[id(node)] = hit if previous is None else previous | hit

    def name(self, name: str, rows: Rows) -> None:
        pieces = ordered_pieces(self.ev.symbols.pieces[name])
        for piece in pieces:
            definition = piece.definition
            if definition.only_if is None:
                self.definition(definition, rows)
                return
            then, rows = self._branches(definition.only_if, rows)
            self.definition(definition, then)

    def definition(self, definition: n.Definition, rows: Rows) -> None:
        for unless in definition.unless:
            then, rows = self._branches(unless.condition, rows)
            self.expr(unless.value, then)
        self.body(definition.body, rows)

    def _branches(self, condition: n.Expr, rows: Rows) -> tuple[Rows, Rows]:
        """Evaluates a `si` condition on `rows`: the rows of its `then` and of its `else` side."""
        self.expr(condition, rows)
        col = self._col(condition)
        true, false = _truth(col, self.size)
        if col.unknown is not None:
            true, false = true | col.unknown, false | col.unknown
        return rows & true, rows & false

    def body(self, body: n.Body, rows: Rows) -> None:
        match body:
            case n.Grid(selector=selector):
                self.expr(selector, rows)
                match = self.ev.grids[id(body)]
                for i, row in enumerate(match.rows):
                    self.expr(row.value, rows & (match.index == i))
                selector_unknown = self._col(selector).unknown
                if match.default is not None and selector_unknown is not None:
                    self.expr(match.default.value, rows & selector_unknown)
                self._mark(body, rows)
            case n.Cases(cases=cases):
                remaining = rows
                for case in cases:
                    if case.condition is None:
                        self.expr(case.value, remaining)
                        break
                    then, remaining = self._branches(case.condition, remaining)
                    self.expr(case.value, then)
                self._mark(body, rows)
            case _:
                self.expr(body, rows)

    def expr(self, node: n.Expr, rows: Rows) -> None:
        if not rows.any():
            return
        self._mark(node, rows)
        match node:
            case n.Ref(name=name):
                if name in self.ev.symbols.pieces:
                    previous = self.names.get(name)
                    self.names[name] = rows if previous is None else previous | rows
            case n.And(left=left, right=right) | n.Or(left=left, right=right):
                self.expr(left, rows)
                col = self._col(left)
                true, false = _truth(col, self.size)
                stop = true if isinstance(node, n.Or) else false
                right_rows = rows & ~stop
                if col.error is not None:
                    right_rows &= ~col.error
                self.expr(right, right_rows)
            case n.Default(expr=main, fallback=fallback):
                self.expr(main, rows)
                unknown = self._col(main).unknown
                if unknown is not None:
                    self.expr(fallback, rows & unknown)
            case _:
                for child in n.children(node):  # evaluated in order: an error stops the others
                    self.expr(child, rows)
                    error = self._col(child).error
                    if error is not None:
                        rows = rows & ~error


def missing_masks(evaluator: ColumnEvaluator, outputs: tuple[str, ...], unknown_outputs: dict[str, Rows]
                  ) -> dict[str, Rows]:
    """For each datum, the rows where it is among the missing data (`Evaluation.missing`)."""
    symbols = evaluator.symbols
    evaluated = _Evaluated(evaluator, outputs)
    unknown_at = evaluated.unknown_at
    found: dict[str, Rows] = {}
    visits: dict[str, Rows] = dict(unknown_outputs)

    def visit(node: n.Expr | n.Grid | n.Cases, rows: Rows) -> None:
        at = unknown_at.get(id(node))
        if at is None:
            return
        rows = rows & at
        if not rows.any():
            return
        if isinstance(node, n.Ref):
            target = found if node.name in symbols.data else visits
            previous = target.get(node.name)
            target[node.name] = rows if previous is None else previous | rows
            return
        for child in n.children(node):
            visit(child, rows)

    for name in name_order(symbols, outputs):
        rows = visits.get(name)
        if rows is None or not rows.any():
            continue
        for piece in symbols.pieces[name]:
            for part in n.definition_parts(piece.definition):
                visit(part, rows)
    return found
