"""Code for expressions and grids (the `Emitter` of codegen.py knows names and choices).

Known values are folded at compile time with the interpreter's own operations (a fold
that would raise is left to run time, so the error keeps its place and its message).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from decimal import Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Any

from .. import nodes as n
from ..diagnostics import TarifError
from ..evaluate import EXACT, choice_forms, division_by_zero, literal_value, no_row, too_large
from ..values import WIDE
from . import grids
from .codegen import DEC, FEW, NOCONST, OBJ, UNKNOWN_V, Emitter, Scaled, V, bounded, few
from .runtime import decimal_rounder, divide_rounding

_COMPARE = {"<": "<", "≤": "<=", ">": ">", "≥": ">=", "=": "==", "≠": "!="}
_TEST: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, "≤": lambda a, b: a <= b, ">": lambda a, b: a > b,
    "≥": lambda a, b: a >= b, "=": lambda a, b: a == b, "≠": lambda a, b: a != b,
}
_EXACT_OPS = {"+": EXACT.add, "−": EXACT.subtract, "×": EXACT.multiply}
_FOLD_ERRORS = (TarifError, ArithmeticError, TypeError)


def _known(*values: V) -> bool:
    return all(v.const is not NOCONST for v in values)


class Generator(Emitter):
    """Expressions and grids, on top of names and choices."""

    def too_large(self, node: Any) -> str:
        """A constant raising E005 at `node` (the interpreter's error)."""
        return self.unit.const(lambda: too_large(node))

    def expr(self, node: n.Expr) -> V:
        match node:
            case n.Number() | n.Bool() | n.DateLiteral():
                return self.const_v(literal_value(node))
            case n.Ref(name=name):
                return self.name(name)
            case n.Arith():
                return self.arith(node)
            case n.Compare():
                return self.compare(node)
            case n.IsOneOf(subject=subject, choices=choices):
                return self.is_one_of(self.expr(subject), choices)
            case n.IsKnown(subject=subject, known=known):
                v = self.expr(subject)
                if not v.marker:
                    return self.const_v(known)
                return self.computed((), f"{v.code} is {'not ' if known else ''}_UNKNOWN", OBJ)
            case n.And(left=left, right=right):
                return self.logic(left, right, decisive=False)
            case n.Or(left=left, right=right):
                return self.logic(left, right, decisive=True)
            case n.Not(operand=operand):
                v = self.expr(operand)
                if isinstance(v.const, bool) or v.const is UNKNOWN_V.const:
                    return self.const_v(v.const if v.const is UNKNOWN_V.const else not v.const)
                return self.computed((v,), f"not {v.code}", OBJ)
            case n.Default(expr=expr, fallback=fallback):
                return self.default(expr, fallback)
            case n.Extremum(kind=kind, args=args):
                return self.extremum(kind == "maximum", [self.expr(a) for a in args])
            case n.Limit(kind=kind, expr=expr, limit=limit):
                return self.extremum(kind == "minimum", [self.expr(expr), self.expr(limit)])
            case n.Round():
                return self.round(node)
        raise AssertionError(node)  # pragma: no cover

    # ------------------------------------------------------------------ arithmetic
    def arith(self, node: n.Arith) -> V:
        a, b = self.expr(node.left), self.expr(node.right)
        if _known(a, b) and a.const is not UNKNOWN_V.const and b.const is not UNKNOWN_V.const:
            folded = _fold_arith(node.op, a.const, b.const)
            if folded is not None:
                return self.const_v(folded)
        if node.op != "/" and isinstance(a.rep, Scaled) and isinstance(b.rep, Scaled):
            scaled = self.scaled_arith(node.op, a, b)
            if scaled is not None:
                return scaled
        a, b = self.convert(a, DEC), self.convert(b, DEC)
        t = self.tmp()
        test = self.unknown_test(a, b)
        if test:
            self.emit(f"if {test}:")
            self.emit(f"    {t} = _UNKNOWN")
            self.emit("else:")
            self.depth += 1
        if node.op == "/":
            data = self.symbols.data
            zero = self.unit.const(lambda: division_by_zero(node, data))
            self.emit(f"if {b.code} == 0:")
            self.emit(f"    raise {zero}()")
            operation = self.unit.const(EXACT.divide)
        else:
            operation = self.unit.const(_EXACT_OPS[node.op])
        self.emit("try:")
        self.emit(f"    {t} = {operation}({a.code}, {b.code})")
        self.emit("except _Overflow:")
        self.emit(f"    raise {self.too_large(node)}() from None")
        if test:
            self.depth -= 1
        return V(t, DEC, bool(test))

    def scaled_arith(self, op: str, a: V, b: V) -> V | None:
        assert isinstance(a.rep, Scaled) and isinstance(b.rep, Scaled)
        ra, rb = a.rep, b.rep
        products = None if ra.values is None or rb.values is None or len(ra.values) * len(rb.values) > FEW else \
            [(x, y) for x in ra.values for y in rb.values]
        if op == "×":
            corners = [x * y for x in (ra.lo, ra.hi) for y in (rb.lo, rb.hi)]
            values = few(None if products is None else (x * y for x, y in products))
            rep = Scaled(ra.scale + rb.scale, min(corners), max(corners), values)
            if not bounded(rep.lo, rep.hi):
                return None
            return self.computed((a, b), f"{a.code} * {b.code}", rep)
        scale = max(ra.scale, rb.scale)
        fa, fb = 10 ** (scale - ra.scale), 10 ** (scale - rb.scale)
        if op == "+":
            values = few(None if products is None else (x * fa + y * fb for x, y in products))
            rep = Scaled(scale, ra.lo * fa + rb.lo * fb, ra.hi * fa + rb.hi * fb, values)
        else:
            values = few(None if products is None else (x * fa - y * fb for x, y in products))
            rep = Scaled(scale, ra.lo * fa - rb.hi * fb, ra.hi * fa - rb.lo * fb, values)
        if not bounded(rep.lo, rep.hi):
            return None
        sign = "+" if op == "+" else "-"
        left = a.code if fa == 1 else f"{a.code} * {fa}"
        right = b.code if fb == 1 else f"{b.code} * {fb}"
        return self.computed((a, b), f"{left} {sign} {right}", rep)

    def aligned(self, values: list[V]) -> tuple[list[V], Any]:
        """Numbers brought to one representation (scaled when all are), others untouched."""
        numeric = [v for v in values if isinstance(v.rep, Scaled) or v.rep == DEC]
        if not numeric:
            return values, OBJ
        rep = self.join(numeric)
        if not isinstance(rep, Scaled):
            rep = DEC
        return [self.convert(v, rep) for v in values], rep

    # ------------------------------------------------------------------ comparisons and logic
    def compare(self, node: n.Compare) -> V:
        a, b = self.expr(node.left), self.expr(node.right)
        if _known(a, b) and UNKNOWN_V.const not in (a.const, b.const):
            try:
                return self.const_v(_TEST[node.op](a.const, b.const))
            except _FOLD_ERRORS:
                pass
        (a, b), _ = self.aligned([a, b])
        return self.computed((a, b), f"{a.code} {_COMPARE[node.op]} {b.code}", OBJ)

    def is_one_of(self, v: V, choices: tuple[str, ...]) -> V:
        forms: list[Any] = choice_forms(choices)
        if isinstance(v.rep, Scaled):
            scale = v.rep.scale
            forms = [f for f in forms if isinstance(f, str)] + [
                int(f.scaleb(scale, WIDE)) for f in forms if isinstance(f, Decimal)]
        accepted = frozenset(forms)
        if _known(v) and v.const is not UNKNOWN_V.const:
            return self.const_v(v.const in frozenset(choice_forms(choices)))
        return self.computed((v,), f"{v.code} in {self.unit.const(accepted)}", OBJ)

    def logic(self, left: n.Expr, right: n.Expr, decisive: bool) -> V:
        """`et` (decisive False) / `ou` (decisive True), Kleene, stopping on a known decisive side."""
        stop, other = repr(decisive), repr(not decisive)
        a = self.expr(left)
        if a.const is decisive:
            return self.const_v(decisive)
        if a.const is (not decisive):  # the neutral side: the result is the other side (or unknown)
            b = self.expr(right)
            if not b.marker:
                return b
            t = self.tmp()
            self.emit(f"{t} = {b.code} if {b.code} is True or {b.code} is False else _UNKNOWN")
            return V(t, OBJ, True)
        lines, b = self.capture(lambda: self.expr(right), self.depth + 1)
        if b.const is (not decisive) and not lines and not a.marker:
            return a  # `a et oui`, `a ou non`
        t = self.tmp()
        if not a.marker:  # a known boolean: the usual short circuit
            self.emit(f"if {a.code}:" if not decisive else f"if not {a.code}:")
            self.splice(lines)
            self.emit(f"    {t} = {b.code}" if not b.marker else
                      f"    {t} = {b.code} if {b.code} is True or {b.code} is False else _UNKNOWN")
            self.emit("else:")
            self.emit(f"    {t} = {stop}")
            return V(t, OBJ, b.marker)
        self.emit(f"if {a.code} is {stop}:")
        self.emit(f"    {t} = {stop}")
        self.emit("else:")
        self.splice(lines)
        self.emit(f"    if {b.code} is {stop}:")
        self.emit(f"        {t} = {stop}")
        neutral = f"{a.code} is {other} and {b.code} is {other}" if a.marker else f"{b.code} is {other}"
        self.emit(f"    elif {neutral}:")
        self.emit(f"        {t} = {other}")
        self.emit("    else:")
        self.emit(f"        {t} = _UNKNOWN")
        return V(t, OBJ, a.marker or b.marker)

    # ------------------------------------------------------------------ defaults, extrema, rounding
    def default(self, expr: n.Expr, fallback: n.Expr) -> V:
        a = self.expr(expr)
        if not a.marker:
            return a
        if a.const is UNKNOWN_V.const:
            return self.expr(fallback)
        lines, b = self.capture(lambda: self.expr(fallback), self.depth + 1)
        rep = self.join([a, b])
        t = self.tmp()
        self.assign(lines, b, rep, t, self.depth + 1)
        kept: list[str] = []
        self.assign(kept, a, rep, t, self.depth + 1)
        self.emit(f"if {a.code} is _UNKNOWN:")
        self.splice(lines)
        self.emit("else:")
        self.splice(kept)
        return V(t, rep, b.marker or a.marker)

    def extremum(self, maximum: bool, args: list[V]) -> V:
        if _known(*args) and all(v.const is not UNKNOWN_V.const for v in args):
            try:
                return self.const_v((max if maximum else min)([v.const for v in args]))
            except _FOLD_ERRORS:
                pass
        values, rep = self.aligned(args)
        if isinstance(rep, Scaled):
            pick = max if maximum else min
            reps = [v.rep for v in values if isinstance(v.rep, Scaled)]
            lo, hi = pick(r.lo for r in reps), pick(r.hi for r in reps)
            possible = None if any(r.values is None for r in reps) else \
                few(x for r in reps for x in r.values or () if lo <= x <= hi)
            rep = Scaled(rep.scale, lo, hi, possible)
        if len(values) == 2:
            a, b = values[0].code, values[1].code
            code = f"{a} if {a} {'>=' if maximum else '<='} {b} else {b}"
        else:
            code = f"{'_max' if maximum else '_min'}({', '.join(v.code for v in values)})"
        return self.computed(tuple(values), code, rep)

    def round(self, node: n.Round) -> V:
        v = self.expr(node.expr)
        rounder = decimal_rounder(node.step, node.direction)
        if _known(v) and isinstance(v.const, (Decimal, int)) and not isinstance(v.const, bool):
            try:
                return self.const_v(rounder(v.const))
            except _FOLD_ERRORS:
                pass
        if isinstance(v.rep, Scaled):
            scaled = self.scaled_round(node, v)
            if scaled is not None:
                return scaled
        v = self.convert(v, DEC)
        t = self.tmp()
        test = self.unknown_test(v)
        if test:
            self.emit(f"if {test}:")
            self.emit(f"    {t} = _UNKNOWN")
            self.emit("else:")
            self.depth += 1
        self.emit("try:")
        self.emit(f"    {t} = {self.unit.const(rounder)}({v.code})")
        self.emit("except _Overflow:")
        self.emit(f"    raise {self.too_large(node)}() from None")
        if test:
            self.depth -= 1
        return V(t, DEC, bool(test))

    def scaled_round(self, node: n.Round, v: V) -> V | None:
        assert isinstance(v.rep, Scaled)
        sign, digits, exponent = node.step.normalize().as_tuple()
        if sign or not isinstance(exponent, int):
            return None
        coefficient = int("".join(map(str, digits)))
        target = max(0, -exponent)
        step_units = coefficient * 10 ** (exponent + target)  # the step, in units of 10**-target
        common = max(v.rep.scale, target)
        up = 10 ** (common - v.rep.scale)
        divisor = step_units * 10 ** (common - target)
        if divisor == 1:
            return self.convert(v, Scaled(target, v.rep.lo * up, v.rep.hi * up))  # exact: no rounding
        divide = divide_rounding(node.direction)
        lo, hi = divide(v.rep.lo * up, divisor) * step_units, divide(v.rep.hi * up, divisor) * step_units
        values = few(None if v.rep.values is None else (divide(x * up, divisor) * step_units for x in v.rep.values))
        x = v.code if up == 1 else f"{v.code} * {up}"
        match node.direction:
            case n.Direction.DOWN:
                code = f"({x}) // {divisor}"
            case n.Direction.UP:
                code = f"-((-({x})) // {divisor})"
            case _ if v.rep.lo >= 0 and divisor % 2 == 0:
                code = f"({x} + {divisor // 2}) // {divisor}"
            case _:
                code = f"{self.unit.const(divide)}({x}, {divisor})"
        if step_units != 1:
            code = f"({code}) * {step_units}"
        return self.computed((v,), code, Scaled(target, lo, hi, values))

    # ------------------------------------------------------------------ grids
    def grid(self, grid: n.Grid) -> V:
        selector = self.expr(grid.selector)
        plan = grids.plan(grid)
        rows = grid.rows
        if _known(selector):
            if selector.const is UNKNOWN_V.const:
                return self.expr(rows[plan.default].value) if plan.default is not None else UNKNOWN_V
            row = _pick(plan, selector.const)
            if row != grids.GAP:
                return self.expr(rows[row].value)
        points: list[Any] = list(plan.points)
        x = selector
        if isinstance(selector.rep, Scaled):
            scale = max([selector.rep.scale, *(max(0, -int(p.as_tuple().exponent)) for p in plan.points)])
            factor = 10 ** (scale - selector.rep.scale)
            x = self.convert(selector, selector.rep.times(factor))
            points = [int(p.scaleb(scale, WIDE)) for p in plan.points]
        if not selector.marker:
            return self.grid_rows(grid, plan, points, x)
        default = plan.default
        default_lines, default_value = ([], UNKNOWN_V) if default is None else self.capture(
            lambda: self.expr(rows[default].value), self.depth + 1)
        known_lines, known = self.capture(lambda: self.grid_rows(grid, plan, points, x), self.depth + 1)
        rep = self.join([known, default_value])
        t = self.tmp()
        self.assign(default_lines, default_value, rep, t, self.depth + 1)
        self.assign(known_lines, known, rep, t, self.depth + 1)
        self.emit(f"if {selector.code} is _UNKNOWN:")
        self.splice(default_lines)
        self.emit("else:")
        self.splice(known_lines)
        return V(t, rep, known.marker or default_value.marker)

    def grid_rows(self, grid: n.Grid, plan: grids.GridPlan, points: list[Any], x: V) -> V:
        """The value of the row holding the known value `x`."""
        rows = grid.rows
        gap = self.unit.const(lambda: no_row(grid))
        used = sorted({r for r in (*plan.open_rows, *plan.point_rows) if r != grids.GAP})
        t = self.tmp()
        if all(isinstance(rows[r].value, (n.Number, n.Bool, n.DateLiteral)) for r in used):
            values = {r: self.expr(rows[r].value) for r in used}
            rep = self.join(list(values.values()))
            table = [_held(values[r], rep) if r in values else grids.GAP_VALUE for r in range(len(rows))]
            table.append(grids.GAP_VALUE)  # index -1: GAP
            if plan.side is not None:  # one bisect gives the value
                search = self.unit.const(bisect_right if plan.side == "right" else bisect_left)
                by_stretch = self.unit.const(tuple(table[r] for r in plan.open_rows))
                self.emit(f"{t} = {by_stretch}[{search}({self.unit.const(tuple(points))}, {x.code})]")
            else:
                segment = self.tmp()
                self.emit_lookup(plan, points, x, segment)
                self.emit(f"{t} = {self.unit.const(tuple(table))}[{segment}]")
            if grids.GAP in (*plan.open_rows, *plan.point_rows):
                self.emit(f"if {t} is {self.unit.const(grids.GAP_VALUE)}:")
                self.emit(f"    raise {gap}()")
            return V(t, rep, False)
        segment = self.tmp()
        self.emit_lookup(plan, points, x, segment)
        branches = [self.capture(lambda r=r: self.expr(rows[r].value), self.depth + 1) for r in used]  # type: ignore[misc]
        rep = self.join([v for _, v in branches])
        for k, r in enumerate(used):
            lines, value = branches[k]
            self.assign(lines, value, rep, t, self.depth + 1)
            self.emit(f"{'if' if k == 0 else 'elif'} {segment} == {r}:")
            self.splice(lines)
        self.emit("else:" if used else "if True:")
        self.emit(f"    raise {gap}()")
        return V(t, rep, any(v.marker for _, v in branches))

    def emit_lookup(self, plan: grids.GridPlan, points: list[Any], x: V, segment: str) -> None:
        """`segment` = the row index for the value `x` (grids.GAP when no row holds it)."""
        table = self.unit.const(tuple(points))
        if plan.side is not None:
            search = self.unit.const(bisect_right if plan.side == "right" else bisect_left)
            rows = self.unit.const(plan.open_rows)
            self.emit(f"{segment} = {rows}[{search}({table}, {x.code})]")
            return
        i = self.tmp()
        self.emit(f"{i} = {self.unit.const(bisect_left)}({table}, {x.code})")
        self.emit(f"if {i} < {len(points)} and {table}[{i}] == {x.code}:")
        self.emit(f"    {segment} = {self.unit.const(plan.point_rows)}[{i}]")
        self.emit("else:")
        self.emit(f"    {segment} = {self.unit.const(plan.open_rows)}[{i}]")


def _held(v: V, rep: Any) -> Any:
    """The run-time object for the known value `v` held as `rep`."""
    if isinstance(rep, Scaled):
        return int(v.const.scaleb(rep.scale, WIDE))
    return v.const


def _pick(plan: grids.GridPlan, value: Any) -> int:
    if not isinstance(value, (Decimal, int)) or isinstance(value, bool):
        return grids.GAP
    i = bisect_left(plan.points, value)
    if i < len(plan.points) and plan.points[i] == value:
        return plan.point_rows[i]
    return plan.open_rows[i]


def _fold_arith(op: str, a: Any, b: Any) -> Any:
    """The interpreter's result for two known operands, or None when it would raise."""
    try:
        if op == "/":
            return None if b == 0 else EXACT.divide(a, b)
        return _EXACT_OPS[op](a, b)
    except (Overflow, DivisionByZero, InvalidOperation, TypeError):
        return None
