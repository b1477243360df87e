"""The checked AST run over whole columns: one NumPy operation per node, for every row at once.

It follows `evaluate.Compiler` node by node. Where the interpreter is lazy (`et`/`ou`, `si`,
`à défaut`, grid rows), both sides are computed here for every row and the masks keep,
for each row, only what the interpreter would have computed: an error in a branch the
interpreter never takes stays out of the result. Every node's column is kept (`cols`) so
that `missing.py` can follow the same paths as the interpreter's trace.

Whatever has no exact vectorised form (a division whose quotient may not be a finite
decimal, comparing values of different kinds, numbers beyond int64…) raises
`NotVectorisable`; the caller then evaluates the rows with the interpreter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import nodes as n
from ..evaluate import always_applies, literal_value
from ..symbols import Symbols, ordered_pieces
from .columns import (
    NOT_APPLICABLE_COL,
    Col,
    Mask,
    NotVectorisable,
    aligned,
    both,
    checked,
    clean,
    constant,
    either,
    number,
    rescale,
    without,
)

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
FEW_ROWS = 16
"""Grids with at most this many rows find each household's row by comparisons, in int8."""


@dataclass(frozen=True, slots=True)
class GridMatch:
    """Which row of a grid each household falls in (-1: none, -2: selector not known)."""

    index: npt.NDArray[np.integer]  # int8 for grids of at most FEW_ROWS rows
    rows: tuple[n.GridRow, ...]  # in the interpreter's order, empty intervals left out
    default: n.GridRow | None


def _truth(col: Col, size: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Rows where a boolean column is known true, known false."""
    known = col.known(size)
    values = np.broadcast_to(col.values, (size,))
    return known & values, known & ~values


class ColumnEvaluator:
    """Evaluates the names of a rule set over `size` rows of data columns."""

    def __init__(self, symbols: Symbols, data: dict[str, Col], size: int, vocabulary: dict[str, int]):
        self.symbols = symbols
        self.data = data
        self.size = size
        self.vocabulary = vocabulary
        self.cols: dict[int, Col] = {}
        self.grids: dict[int, GridMatch] = {}
        self.names: dict[str, Col] = {}

    # --------------------------------------------------------------- names and bodies
    def name(self, name: str) -> Col:
        if name in self.names:
            return self.names[name]
        pieces = ordered_pieces(self.symbols.pieces[name])
        result = NOT_APPLICABLE_COL
        for piece in reversed(pieces):
            value = self._definition_value(piece.definition)
            if piece.definition.only_if is None:
                result = value
            else:
                result = self.choose(self.expr(piece.definition.only_if), value, result)
        if not always_applies(pieces):  # E006 where no piece applies
            if result.kind == "na":
                raise NotVectorisable("aucune définition ne s'applique")
            result = result.with_states(without(result.unknown, result.na), either(result.error, result.na))
        self.names[name] = result
        return result

    def _definition_value(self, definition: n.Definition) -> Col:
        result = self.body(definition.body)
        for unless in reversed(definition.unless):
            result = self.choose(self.expr(unless.condition), self.expr(unless.value), result)
        return result

    def body(self, body: n.Body) -> Col:
        match body:
            case n.Grid():
                result = self._grid(body)
            case n.Cases(cases=cases):
                result = NOT_APPLICABLE_COL
                for case in reversed(cases):
                    value = self.expr(case.value)
                    result = value if case.condition is None else self.choose(self.expr(case.condition), value,
                                                                               result)
            case _:
                return self.expr(body)
        self.cols[id(body)] = result
        return result

    def choose(self, condition: Col, then: Col, other: Col) -> Col:
        """`evaluate.choose`: an unknown condition gives the common value of both sides, if any."""
        if condition.kind != "bool":
            raise NotVectorisable("condition non booléenne")
        size = self.size
        true, false = _truth(condition, size)
        unsure = condition.unknown
        everywhere = np.ones(size, dtype=bool)
        na_then = everywhere if then.kind == "na" else then.na
        na_other = everywhere if other.kind == "na" else other.na
        same: Mask = None
        if then.kind == "na" or other.kind == "na":
            kept = other if then.kind == "na" else then
            kind, values, scale, lo, hi = kept.kind, kept.values, kept.scale, kept.lo, kept.hi
        else:
            then, other = self._same_kind(then, other)
            kind, scale = then.kind, then.scale
            values = np.where(true, then.values, other.values)
            lo, hi = min(then.lo, other.lo), max(then.hi, other.hi)
            if unsure is not None:
                same = then.known(size) & other.known(size) & (then.values == other.values)
        error = either(condition.error, either(both(true, then.error), both(false, other.error)))
        na = either(both(true, na_then), both(false, na_other))
        unknown = either(both(true, then.unknown), both(false, other.unknown))
        if unsure is not None:
            unknown = either(unknown, unsure if same is None else unsure & ~same)
        return Col(kind, np.asarray(values), clean(unknown), clean(error), clean(na), scale, lo, hi)

    def _same_kind(self, a: Col, b: Col) -> tuple[Col, Col]:
        if a.kind != b.kind:
            raise NotVectorisable("valeurs de natures différentes")
        return aligned(a, b) if a.kind == "num" else (a, b)

    def _grid(self, grid: n.Grid) -> Col:
        selector = self.expr(grid.selector)
        size = self.size
        default: tuple[n.GridRow, Col] | None = None
        rows: list[tuple[Any, bool, Any, bool, n.GridRow, Col]] = []
        for row in grid.rows:
            value = self.expr(row.value)
            self.cols[id(row)] = value
            if row.form is n.BoundForm.DEFAULT:
                default = (row, value)
                continue
            low = literal_value(row.lower.value) if row.lower else None
            high = literal_value(row.upper.value) if row.upper else None
            rows.append((low, bool(row.lower and row.lower.included), high, bool(row.upper and row.upper.included),
                         row, value))
        rows.sort(key=lambda r: (r[0] is not None, r[0] if r[0] is not None else 0, not r[1]))
        if selector.kind != "num":
            raise NotVectorisable("grille selon une valeur non numérique")
        bounds = [number(b) for r in rows for b in (r[0], r[2]) if b is not None]
        scale = max([selector.scale, *(b.scale for b in bounds)])
        selector_values = rescale(selector, scale).values
        intervals: list[tuple[int, int, n.GridRow, Col]] = []
        for low, low_in, high, high_in, row, value in rows:
            start = INT_MIN if low is None else int(low.scaleb(scale)) + (0 if low_in else 1)
            end = INT_MAX if high is None else int(high.scaleb(scale)) - (0 if high_in else 1)
            if start <= end:
                intervals.append((max(start, INT_MIN), min(end, INT_MAX), row, value))
        known = selector.known(size)
        index = self._match(np.broadcast_to(selector_values, (size,)), intervals)
        if either(either(selector.unknown, selector.error), selector.na) is not None:
            index = np.where(known, index, np.array(-2, dtype=index.dtype))
        self.grids[id(grid)] = GridMatch(index, tuple(r for _, _, r, _ in intervals),
                                         default[0] if default else None)
        values = [value for _, _, _, value in intervals]
        result = self._pick(index, values)
        no_row = known & (index == -1)
        error = either(result.error, either(selector.error, clean(no_row)))
        unknown, na = result.unknown, result.na
        if selector.unknown is not None:
            if default is None:
                unknown = either(unknown, selector.unknown)
            else:
                fallback = default[1]
                if result.kind != fallback.kind and values:
                    raise NotVectorisable("valeurs de natures différentes")
                if not values:
                    result = replace(result, kind=fallback.kind)
                if fallback.kind == "num":
                    scale_all = max(result.scale, fallback.scale)
                    result, fallback = rescale(result, scale_all), rescale(fallback, scale_all)
                    result = replace(result, lo=min(result.lo, fallback.lo), hi=max(result.hi, fallback.hi))
                result = replace(result, values=np.where(selector.unknown, fallback.values, result.values))
                unknown = either(unknown, both(selector.unknown, fallback.unknown))
                error = either(error, both(selector.unknown, fallback.error))
        return Col(result.kind, result.values, clean(unknown), clean(error), clean(na), result.scale, result.lo,
                   result.hi)

    @staticmethod
    def _match(values: npt.NDArray[Any], intervals: list[tuple[int, int, n.GridRow, Col]]) -> npt.NDArray[np.integer]:
        """Index of the first interval (in the interpreter's order) holding each value, -1 if none.

        Disjoint sorted intervals (every grid written in order) need no search: the index is the
        number of starts at or below the value, minus one, counted with one comparison per row of
        the grid when it has few (10× faster than a binary search, in int8), by a binary search
        otherwise; then, where the rows leave gaps, values in a gap get -1."""
        small = len(intervals) <= FEW_ROWS
        dtype = np.int8 if small else np.intp
        if not intervals:
            return np.full(values.shape, -1, dtype=dtype)
        starts = [s for s, _, _, _ in intervals]
        ends = [e for _, e, _, _ in intervals]
        if all(ends[i] < starts[i + 1] for i in range(len(intervals) - 1)):
            index: npt.NDArray[np.integer]
            if small:
                open_below = starts[0] == INT_MIN  # every value is at or above the first start
                index = np.full(values.shape, 0 if open_below else -1, dtype=np.int8)
                for start in starts[1:] if open_below else starts:
                    index += (values >= start).view(np.int8)
            else:
                index = np.searchsorted(np.array(starts, dtype=np.int64), values, side="right") - 1
            if all(ends[i] + 1 == starts[i + 1] for i in range(len(intervals) - 1)):  # no gap between rows
                return index if ends[-1] == INT_MAX else np.where(values > ends[-1], -1, index).astype(dtype)
            inside = (index >= 0) & (values <= np.array(ends, dtype=np.int64)[np.maximum(index, 0)])
            return np.where(inside, index, -1).astype(dtype)
        found = np.full(values.shape, -1, dtype=dtype)
        for i in reversed(range(len(intervals))):  # overlapping rows: the first one that holds wins
            found[(values >= starts[i]) & (values <= ends[i])] = i
        return found

    def _pick(self, index: npt.NDArray[np.integer], values: list[Col]) -> Col:
        """For each row, the value of its grid row (rows without one get a placeholder)."""
        if not values:
            return Col("num", np.asarray(0, dtype=np.int64))
        kinds = {v.kind for v in values}
        if len(kinds) != 1:
            raise NotVectorisable("valeurs de natures différentes")
        kind = values[0].kind
        scale = max(v.scale for v in values) if kind == "num" else 0
        values = [rescale(v, scale) for v in values] if kind == "num" else values
        lo, hi = min(v.lo for v in values), max(v.hi for v in values)
        constant_rows = all(v.values.ndim == 0 and v.unknown is None and v.error is None for v in values)
        if constant_rows:
            table = np.array([v.values for v in values] + [values[0].values])
            return Col(kind, table[index], scale=scale, lo=lo, hi=hi)
        result = np.broadcast_to(values[0].values, index.shape)
        unknown: Mask = None
        error: Mask = None
        for i, value in enumerate(values):
            chosen = index == i
            if i:
                result = np.where(chosen, value.values, result)
            unknown = either(unknown, both(chosen, value.unknown))
            error = either(error, both(chosen, value.error))
        return Col(kind, np.asarray(result), clean(unknown), clean(error), None, scale, lo, hi)

    # --------------------------------------------------------------- expressions
    def expr(self, node: n.Expr) -> Col:
        col = self._expr(node)
        if col.na is not None:  # pragma: no cover - names turn « non applicable » into E006
            raise NotVectorisable("valeur non applicable dans une expression")
        self.cols[id(node)] = col
        return col

    def _expr(self, node: n.Expr) -> Col:
        match node:
            case n.Number():
                value = literal_value(node)
                assert isinstance(value, Decimal)
                return number(value)
            case n.Bool(value=flag):
                return constant("bool", flag)
            case n.DateLiteral(value=day):
                return constant("date", np.int64(day.toordinal()))
            case n.Ref(name=name):
                if name in self.symbols.data:
                    return self.data[name]
                return self.name(name)
            case n.Arith():
                return self._arith(node)
            case n.Compare(op=op, left=left, right=right):
                return self._compare(op, self.expr(left), self.expr(right))
            case n.IsOneOf(subject=subject, choices=choices):
                return self._is_one_of(self.expr(subject), choices)
            case n.IsKnown(subject=subject, known=known):
                col = self.expr(subject)
                unknown = np.zeros(self.size, dtype=bool) if col.unknown is None else col.unknown
                return Col("bool", ~unknown if known else unknown, None, col.error)
            case n.And(left=left, right=right):
                return self._logic(self.expr(left), self.expr(right), decisive=False)
            case n.Or(left=left, right=right):
                return self._logic(self.expr(left), self.expr(right), decisive=True)
            case n.Not(operand=operand):
                col = self.expr(operand)
                if col.kind != "bool":
                    raise NotVectorisable("« non » d'une valeur non booléenne")
                return replace(col, values=np.asarray(~col.values))
            case n.Default(expr=expr, fallback=fallback):
                return self._default(self.expr(expr), self.expr(fallback))
            case n.Extremum(kind=kind, args=args):
                return self._extremum(kind == "maximum", [self.expr(a) for a in args])
            case n.Limit(kind=kind, expr=expr, limit=limit):
                return self._extremum(kind == "minimum", [self.expr(expr), self.expr(limit)])
            case n.Round():
                return self._round(node)
        raise AssertionError(node)  # pragma: no cover

    @staticmethod
    def _strict(*cols: Col) -> tuple[Mask, Mask]:
        """Unknown and error rows of an operation that needs every operand."""
        error: Mask = None
        unknown: Mask = None
        for col in cols:
            error = either(error, col.error)
            unknown = either(unknown, col.unknown)
        return clean(without(unknown, error)), clean(error)

    def _numbers(self, *cols: Col) -> None:
        if any(col.kind != "num" for col in cols):
            raise NotVectorisable("calcul sur une valeur non numérique")

    def _arith(self, node: n.Arith) -> Col:
        a, b = self.expr(node.left), self.expr(node.right)
        self._numbers(a, b)
        unknown, error = self._strict(a, b)
        if node.op in ("+", "−"):
            a, b = aligned(a, b)
            if node.op == "+":
                lo, hi = checked(a.lo + b.lo, a.hi + b.hi)
                return Col("num", a.values + b.values, unknown, error, None, a.scale, lo, hi)
            lo, hi = checked(a.lo - b.hi, a.hi - b.lo)
            return Col("num", a.values - b.values, unknown, error, None, a.scale, lo, hi)
        if node.op == "×":
            corners = [x * y for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
            lo, hi = checked(min(corners), max(corners))
            return Col("num", a.values * b.values, unknown, error, None, a.scale + b.scale, lo, hi)
        return self._divide(a, b, unknown, error)

    def _divide(self, a: Col, b: Col, unknown: Mask, error: Mask) -> Col:
        """Division by a constant 2^p·5^q·10^k: a finite decimal, exactly a multiplication."""
        if b.values.ndim != 0 or b.unknown is not None or b.error is not None:
            raise NotVectorisable("division par une valeur variable")
        divisor = int(b.values)
        if divisor == 0:  # E002 wherever the dividend is known
            zero = a.known(self.size)
            return Col("num", np.asarray(0, dtype=np.int64), unknown, clean(either(error, zero)), None, 0, 0, 0)
        rest, twos, fives = abs(divisor), 0, 0
        while rest % 2 == 0:
            rest, twos = rest // 2, twos + 1
        while rest % 5 == 0:
            rest, fives = rest // 5, fives + 1
        if rest != 1:
            raise NotVectorisable("quotient sans écriture décimale finie")
        places = max(twos, fives)
        factor = (10**places // abs(divisor)) * (1 if divisor > 0 else -1)
        scale = a.scale + places - b.scale
        corners = (a.lo * factor, a.hi * factor)
        lo, hi = checked(min(corners), max(corners))
        result = Col("num", a.values * np.int64(factor), unknown, error, None, scale, lo, hi)
        if scale < 0:
            result = rescale(replace(result, scale=scale), 0)
        return result

    def _compare(self, op: str, a: Col, b: Col) -> Col:
        unknown, error = self._strict(a, b)
        a, b = self._same_kind(a, b)
        if a.kind == "enum" and op not in ("=", "≠"):
            raise NotVectorisable("ordre entre valeurs d'énumération")
        test: Callable[[Any, Any], Any] = {
            "<": np.less, "≤": np.less_equal, ">": np.greater, "≥": np.greater_equal,
            "=": np.equal, "≠": np.not_equal,
        }[op]
        return Col("bool", np.asarray(test(a.values, b.values)), unknown, error)

    def _is_one_of(self, subject: Col, choices: tuple[str, ...]) -> Col:
        if subject.kind == "enum":
            accepted = [self.vocabulary[c] for c in choices if c in self.vocabulary]
            values = np.isin(subject.values, accepted)
        elif subject.kind == "num":
            values = np.zeros(np.shape(subject.values), dtype=bool)
            for choice in choices:
                if choice.isdigit():
                    values = values | (subject.values == rescale(number(Decimal(choice)), subject.scale).values)
        else:
            raise NotVectorisable("« est » sur une valeur ni énumérée ni numérique")
        return Col("bool", np.asarray(values), subject.unknown, subject.error)

    def _logic(self, a: Col, b: Col, *, decisive: bool) -> Col:
        """`et` (decisive False) / `ou` (decisive True): a known decisive left side stops."""
        if a.kind != "bool" or b.kind != "bool":
            raise NotVectorisable("« et »/« ou » sur une valeur non booléenne")
        size = self.size
        a_true, a_false = _truth(a, size)
        b_true, b_false = _truth(b, size)
        a_stop, b_stop = (a_true, b_true) if decisive else (a_false, b_false)
        a_go, b_go = (a_false, b_false) if decisive else (a_true, b_true)
        evaluated_b = ~a_stop if a.error is None else ~a_stop & ~a.error
        error = either(a.error, both(evaluated_b, b.error))
        stop = a_stop | (evaluated_b & b_stop)
        go = a_go & b_go
        unknown = ~stop & ~go if error is None else ~stop & ~go & ~error
        values = stop if decisive else go
        return Col("bool", values, clean(unknown), clean(error))

    def _default(self, main: Col, fallback: Col) -> Col:
        missing = main.unknown
        if missing is None:
            return main
        main, fallback = self._same_kind(main, fallback)
        values = np.where(missing, fallback.values, main.values)
        unknown = both(missing, fallback.unknown)
        error = either(main.error, both(missing, fallback.error))
        return Col(main.kind, values, clean(unknown), clean(error), None, main.scale, min(main.lo, fallback.lo),
                   max(main.hi, fallback.hi))

    def _extremum(self, largest: bool, args: list[Col]) -> Col:
        unknown, error = self._strict(*args)
        kinds = {a.kind for a in args}
        if kinds not in ({"num"}, {"date"}):
            raise NotVectorisable("minimum/maximum de valeurs non numériques")
        scale = max(a.scale for a in args)
        args = [rescale(a, scale) for a in args]
        pick = np.maximum if largest else np.minimum
        values = args[0].values
        for arg in args[1:]:
            values = pick(values, arg.values)
        bound = max if largest else min
        lo, hi = bound(a.lo for a in args), bound(a.hi for a in args)
        return Col(args[0].kind, np.asarray(values), unknown, error, None, scale, lo, hi)

    def _round(self, node: n.Round) -> Col:
        col = self.expr(node.expr)
        self._numbers(col)
        step = number(node.step)
        if int(step.values) <= 0:
            raise NotVectorisable("pas d'arrondi nul")
        if col.scale < step.scale:
            col = rescale(col, step.scale)
        divisor = int(step.values) * 10 ** (col.scale - step.scale)
        checked(2 * min(col.lo, -col.hi) - divisor, 2 * max(col.hi, -col.lo) + divisor)
        values = col.values
        d = np.int64(divisor)
        if node.direction is n.Direction.DOWN:
            units = values // d
        elif node.direction is n.Direction.UP:
            units = -((-values) // d)
        else:  # halves away from zero, as ROUND_HALF_UP
            units = np.sign(values) * ((2 * np.abs(values) + d) // (2 * d))
        low_units, high_units = col.lo // divisor - 1, col.hi // divisor + 1
        lo, hi = checked(low_units * int(step.values), high_units * int(step.values))
        return Col("num", units * step.values, col.unknown, col.error, None, step.scale, lo, hi)
