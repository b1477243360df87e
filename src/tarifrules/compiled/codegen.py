"""Python source for one output of a checked program: the interpreter's semantics, unrolled.

Each expression becomes straight-line statements that leave its value in a local; the
generator knows, for every value, how it is held at run time (its `Rep`):

* `Scaled(scale, lo, hi)`: an exact integer `x` standing for `x / 10**scale`, with
  `lo <= x <= hi` proved at compile time. Used only when the program allows it (outputs
  of kind montant or taux, whose value is normalised, so the exponent a `Decimal` would
  carry does not show) and while the bounds keep every result far below the 60 digits of
  the interpreter's context: then integer arithmetic is exactly the interpreter's.
* `DEC`: a `Decimal` (or an exact `int`) computed with the interpreter's own operations.
* `OBJ`: a boolean, a date, an enumeration value. `NONE`: only a marker.

Every value may also be a marker (`UNKNOWN`, or `NOT_APPLICABLE` inside a definition)
when `V.marker` says so. Branches (`si`, `sauf si`, grid rows) are generated once each:
an unknown condition runs both inside `try` blocks, as `evaluate.choose` does.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, Overflow
from typing import Any

from .. import nodes as n
from ..diagnostics import TarifError
from ..evaluate import NOT_APPLICABLE, always_applies, not_applicable
from ..symbols import Symbols, ordered_pieces
from ..values import UNKNOWN, WIDE
from .runtime import to_decimal


@dataclass(frozen=True)
class Scaled:
    """An exact integer x standing for x / 10**scale; lo <= x <= hi; x in `values` when they are known."""

    scale: int
    lo: int
    hi: int
    values: frozenset[int] | None = None

    def times(self, factor: int) -> Scaled:
        """The same numbers, `factor` times finer."""
        values = None if self.values is None else frozenset(v * factor for v in self.values)
        return Scaled(self.scale, self.lo * factor, self.hi * factor, values)


def few(values: Iterable[int] | None) -> frozenset[int] | None:
    """A set of possible values, kept only while small (tables of ready results are built from it)."""
    if values is None:
        return None
    found = frozenset(values)
    return found if len(found) <= FEW else None


DEC = "dec"
OBJ = "obj"
NONE = "none"
Rep = Scaled | str

FEW = 256
LIMIT = 10**50
"""Scaled integers stay below this: far from the 60 significant digits of `EXACT`."""

NOCONST: Any = object()


class TooLarge(Exception):
    """The generated code would be too long: the caller falls back to the interpreter."""


@dataclass(frozen=True)
class V:
    """A value at run time: `code` (a local, a literal or a constant: cheap to repeat)."""

    code: str
    rep: Rep
    marker: bool
    const: Any = NOCONST  # the value the interpreter would hold, when known at compile time


NA_V = V("_NA", NONE, True, NOT_APPLICABLE)
UNKNOWN_V = V("_UNKNOWN", NONE, True, UNKNOWN)


def bounded(lo: int, hi: int) -> bool:
    return lo > -LIMIT and hi < LIMIT


def scaled_of(value: Decimal) -> Scaled | None:
    """The scaled form of a finite decimal, if small enough."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        return None
    scale = max(0, -exponent)
    x = int(value.scaleb(scale, WIDE))
    return Scaled(scale, x, x, frozenset({x})) if bounded(x, x) else None


class Unit:
    """The namespace and constants shared by the functions generated for one program.

    Every name the generated code uses starts with `_`: a datum is a keyword parameter and
    would hide a global of the same name (data starting with `_` are read from `**_extra`).
    """

    MAX_LINES = 4000

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "_UNKNOWN": UNKNOWN, "_NA": NOT_APPLICABLE, "_UNSET": NOCONST, "_TarifError": TarifError,
            "_Overflow": Overflow, "_int": int, "_str": str, "_type": type, "_max": max, "_min": min,
            "_to_decimal": to_decimal, "_WIDE": WIDE,
        }
        self._consts: dict[Any, str] = {}
        self._count = 0

    def fresh(self, prefix: str) -> str:
        self._count += 1
        return f"_{prefix}{self._count}"

    def const(self, value: Any) -> str:
        """A name in the namespace for `value` (numbers, dates, strings by value, others by identity)."""
        key: Any = (type(value).__name__, str(value)) if isinstance(value, (Decimal, str, datetime.date)) \
            else ("id", id(value))
        name = self._consts.get(key)
        if name is None:
            name = self.fresh("c")
            self._consts[key] = name
            self.namespace[name] = value
        return name


class Emitter:
    """Generates the body of one function; `data` gives the local holding each datum."""

    def __init__(self, unit: Unit, symbols: Symbols, data: dict[str, V], scaled: bool, refs: dict[str, int]):
        self.unit = unit
        self.symbols = symbols
        self.data = data
        self.scaled = scaled
        self.refs = refs  # how many times each name is referenced in the program
        self.lines: list[str] = []
        self.depth = 1
        self.memo: dict[str, str] = {}

    # ------------------------------------------------------------------ emission
    def emit(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)
        if len(self.lines) > Unit.MAX_LINES:
            raise TooLarge

    def tmp(self) -> str:
        return self.unit.fresh("t")

    def capture(self, thunk: Callable[[], V], depth: int) -> tuple[list[str], V]:
        saved = self.lines, self.depth
        self.lines, self.depth = [], depth
        try:
            value = thunk()
            return self.lines, value
        finally:
            captured = self.lines
            self.lines, self.depth = saved
            if len(self.lines) + len(captured) > Unit.MAX_LINES:
                raise TooLarge

    def splice(self, lines: list[str]) -> None:
        self.lines.extend(lines)

    def const_v(self, value: Any) -> V:
        """A known value, held the way this function holds such values."""
        if isinstance(value, bool):
            return V(repr(value), OBJ, False, value)
        if isinstance(value, Decimal):
            if self.scaled:
                rep = scaled_of(value)
                if rep is not None:
                    return V(repr(rep.lo), rep, False, value)
            return V(self.unit.const(value), DEC, False, value)
        if value is UNKNOWN:
            return UNKNOWN_V
        if value is NOT_APPLICABLE:
            return NA_V
        return V(self.unit.const(value), OBJ, False, value)

    # ------------------------------------------------------------------ representations
    def join(self, branches: list[V]) -> Rep:
        reps = [v.rep for v in branches if v.rep != NONE]
        if not reps:
            return NONE
        if all(r == OBJ for r in reps):
            return OBJ
        if all(isinstance(r, Scaled) for r in reps):
            scale = max(r.scale for r in reps if isinstance(r, Scaled))
            scaled = [r.times(10 ** (scale - r.scale)) for r in reps if isinstance(r, Scaled)]
            lo, hi = min(r.lo for r in scaled), max(r.hi for r in scaled)
            values = None if any(r.values is None for r in scaled) else \
                few(v for r in scaled for v in r.values or ())
            if bounded(lo, hi):
                return Scaled(scale, lo, hi, values)
        return DEC

    def convert(self, v: V, target: Rep) -> V:
        """`v` held as `target` (emits the conversion when needed)."""
        if v.rep == target or v.rep in (NONE, OBJ) or target in (OBJ, NONE):
            return v
        if isinstance(target, Scaled):
            assert isinstance(v.rep, Scaled)
            factor = 10 ** (target.scale - v.rep.scale)
            own = v.rep.times(factor)
            own = Scaled(target.scale, own.lo, own.hi, own.values)
            if v.const is not NOCONST:
                return V(repr(own.lo), own, False, v.const)
            if factor == 1:
                return V(v.code, own, v.marker)
            t = self.tmp()
            guard = f" if _type({v.code}) is _int else {v.code}" if v.marker else ""
            self.emit(f"{t} = {v.code} * {factor}{guard}")
            return V(t, own, v.marker)
        # target DEC
        if v.const is not NOCONST:
            return V(self.unit.const(v.const), DEC, False, v.const)
        assert isinstance(v.rep, Scaled)
        if v.rep.scale == 0:
            return V(v.code, DEC, v.marker)  # an exact int is a valid DEC value
        t = self.tmp()
        self.emit(f"{t} = _to_decimal({v.code}, {v.rep.scale})")
        return V(t, DEC, v.marker)

    def assign(self, lines: list[str], v: V, target: Rep, var: str, depth: int) -> None:
        """Append to `lines` the conversion of `v` to `target` and its assignment to `var`."""
        saved = self.lines, self.depth
        self.lines, self.depth = lines, depth
        try:
            converted = self.convert(v, target)
            self.emit(f"{var} = {converted.code}")
        finally:
            self.lines, self.depth = saved

    def unknown_test(self, *values: V) -> str:
        return " or ".join(f"{v.code} is _UNKNOWN" for v in values if v.marker)

    def computed(self, values: tuple[V, ...], code: str, rep: Rep) -> V:
        """`code` over `values`, unknown as soon as one of them is."""
        t = self.tmp()
        test = self.unknown_test(*values)
        self.emit(f"{t} = _UNKNOWN if {test} else {code}" if test else f"{t} = {code}")
        return V(t, rep, bool(test))

    # ------------------------------------------------------------------ names
    def name(self, name: str) -> V:
        if name in self.data:
            return self.data[name]
        if self.refs.get(name, 0) <= 1:
            return self.name_value(name)
        var = self.memo.get(name)
        if var is None:
            var = self.memo[name] = self.unit.fresh("n")
        lines, value = self.capture(lambda: self.name_value(name), self.depth + 1)
        if value.const is not NOCONST and not lines:
            return value
        self.emit(f"if {var} is _UNSET:")
        self.splice(lines)
        self.emit(f"    {var} = {value.code}")
        return V(var, value.rep, value.marker)

    def name_value(self, name: str) -> V:
        pieces = ordered_pieces(self.symbols.pieces[name])

        def chain(i: int) -> V:
            if i == len(pieces):
                return NA_V
            definition = pieces[i].definition
            if definition.only_if is None:
                return self.definition_value(definition)
            only_if = definition.only_if
            return self.choose(lambda: self.expr(only_if), lambda: self.definition_value(definition),
                               lambda: chain(i + 1))

        value = chain(0)
        if not always_applies(pieces) and value.marker:
            definition = pieces[0].definition
            fail = self.unit.const(lambda: not_applicable(definition))
            self.emit(f"if {value.code} is _NA:")
            self.emit(f"    raise {fail}()")
        return value

    def definition_value(self, definition: n.Definition) -> V:
        def chain(i: int) -> V:
            if i == len(definition.unless):
                return self.body(definition.body)
            unless = definition.unless[i]
            return self.choose(lambda: self.expr(unless.condition), lambda: self.expr(unless.value),
                               lambda: chain(i + 1))

        return chain(0)

    def body(self, body: n.Body) -> V:
        match body:
            case n.Grid():
                return self.grid(body)
            case n.Cases(cases=cases):
                def chain(i: int) -> V:
                    if i == len(cases):
                        return NA_V
                    case = cases[i]
                    if case.condition is None:
                        return self.expr(case.value)
                    condition = case.condition
                    return self.choose(lambda: self.expr(condition), lambda: self.expr(case.value),
                                       lambda: chain(i + 1))

                return chain(0)
            case _:
                return self.expr(body)

    # ------------------------------------------------------------------ choice
    def choose(self, condition: Callable[[], V], then: Callable[[], V], other: Callable[[], V]) -> V:
        """`evaluate.choose`: each branch generated once."""
        c = condition()
        if c.const is True:
            return then()
        if c.const is False:
            return other()
        if not c.marker:  # a known boolean
            then_lines, a = self.capture(then, self.depth + 1)
            other_lines, b = self.capture(other, self.depth + 1)
            rep = self.join([a, b])
            t = self.tmp()
            self.assign(then_lines, a, rep, t, self.depth + 1)
            self.assign(other_lines, b, rep, t, self.depth + 1)
            self.emit(f"if {c.code}:")
            self.splice(then_lines)
            self.emit("else:")
            self.splice(other_lines)
            return V(t, rep, a.marker or b.marker)
        then_lines, a = self.capture(then, self.depth + 2)
        other_lines, b = self.capture(other, self.depth + 2)
        rep = self.join([a, b])
        t, ta, tb = self.tmp(), self.tmp(), self.tmp()
        branches = ((then_lines, a, ta, "False", "True"), (other_lines, b, tb, "True", "False"))
        for lines, value, var, skip, keep in branches:
            if not lines:  # a value already at hand (a constant, a variable): nothing to guard
                self.assign(self.lines, value, rep, var, self.depth)
                continue
            self.assign(lines, value, rep, var, self.depth + 2)
            self.emit(f"if {c.code} is not {skip}:")
            self.emit("    try:")
            self.splice(lines)
            self.emit("    except _TarifError:")
            self.emit(f"        if {c.code} is {keep}:")
            self.emit("            raise")
            self.emit(f"        {var} = _UNKNOWN")
        self.emit(f"if {c.code} is True:")
        self.emit(f"    {t} = {ta}")
        self.emit(f"elif {c.code} is False:")
        self.emit(f"    {t} = {tb}")
        self.emit(f"elif {ta} is _UNKNOWN or {tb} is _UNKNOWN or {ta} is _NA or {tb} is _NA:")
        self.emit(f"    {t} = _UNKNOWN")
        self.emit("else:")
        self.emit(f"    {t} = {ta} if {ta} == {tb} else _UNKNOWN")
        return V(t, rep, True)

    # ------------------------------------------------------------------ expressions (expressions.py)
    def expr(self, node: n.Expr) -> V:
        raise NotImplementedError

    def grid(self, grid: n.Grid) -> V:
        raise NotImplementedError
