"""What a compiled expression is: its SQL value plus what the Python evaluator would make of it.

A `Typed` carries, next to the SQL expression of the value (NULL for unknown), three
things the interpreter knows at run time and SQL must compute alongside:

* `fail` — a text expression, NULL unless evaluating the node raises in Python
  (`E002`, `E006`…): the row then gets no output and a `statut` naming the error;
* `missing` — a BIGINT bit set of the données whose absence left the node unknown
  (0 when it is known), the same set `Evaluation.missing` reads from a trace;
* static facts: the value kind, its decimal scale, whether it may be NULL, and whether
  it holds a quotient rounded at `DIV_SCALE` places (`approx`).

`None` for `fail` or `missing` means "statically impossible", so that SQL for the
common case stays as small as the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from sqlglot import exp

PRECISION = 38
"""The widest exact decimal DuckDB, Spark and Trino share: DECIMAL(38, s)."""

NARROW_PRECISION = 18
"""DECIMAL(18, s) is a 64-bit integer in DuckDB, several times faster than DECIMAL(38, s):
used while the scale is at most NARROW_SCALE (12 digits before the point, more than any
amount of a household); a value that does not fit stops the query, it is never cut."""

NARROW_SCALE = 6

DIV_SCALE = 20
"""Places kept by a division whose quotient does not end (Python keeps 60 significant digits)."""

MAX_SCALE = 30
"""Largest scale a product may have; beyond it an exact product would not fit 38 digits."""

INPUT_SCALE = 6
"""Places read from a `décimal` or `taux` column (a value with more places is refused, Q006)."""


class SqlKind(StrEnum):
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    TEXT = "text"


@dataclass(frozen=True)
class Typed:
    value: exp.Expr
    kind: SqlKind
    scale: int = 0
    nullable: bool = True
    approx: bool = False
    fail: exp.Expr | None = None
    missing: exp.Expr | None = None
    level: int = 0  # the subquery level whose columns it reads (0: the données)
    unguarded: exp.Expr | None = None  # `missing` is `when_null(value, unguarded)`
    structural: bool = False  # a choice between pieces, `sauf si` lines or cases (see `SqlCompiler.choose`)

    def with_value(self, value: exp.Expr) -> Typed:
        return replace(self, value=value)


def decimal_type(scale: int, *, wide: bool = False) -> exp.DataType:
    precision = PRECISION if wide or scale > NARROW_SCALE else NARROW_PRECISION
    return exp.DataType.build(f"DECIMAL({precision}, {scale})")


def sql_type(kind: SqlKind, scale: int = 0) -> exp.DataType:
    match kind:
        case SqlKind.DECIMAL:
            return decimal_type(scale)
        case SqlKind.BOOLEAN:
            return exp.DataType.build("BOOLEAN")
        case SqlKind.DATE:
            return exp.DataType.build("DATE")
    return exp.DataType.build("VARCHAR")


def cast(value: exp.Expr, to: exp.DataType) -> exp.Cast:
    return exp.Cast(this=value.copy(), to=to.copy())


def scale_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def decimal_literal(value: Decimal, scale: int | None = None) -> exp.Cast:
    """`CAST(1.05 AS DECIMAL(38, 2))`: never a float literal."""
    text = format(value, "f")
    places = scale_of(value) if scale is None else scale
    digits = len(text.lstrip("-").split(".")[0]) + places
    return cast(exp.Literal.number(text), decimal_type(places, wide=digits > NARROW_PRECISION))


def as_decimal(typed: Typed, scale: int) -> exp.Expr:
    """The value at `scale` places (only ever widened: narrowing would round)."""
    assert typed.kind is SqlKind.DECIMAL and scale >= typed.scale
    value = typed.value
    if isinstance(value, exp.Cast) and isinstance(value.this, exp.Literal):
        return decimal_literal(Decimal(value.this.name), scale)  # a literal is written at the wanted scale
    return cast(value, decimal_type(scale))


def text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def null(kind: SqlKind, scale: int = 0) -> exp.Cast:
    return cast(exp.Null(), sql_type(kind, scale))


_ATOMS = (exp.Column, exp.Literal, exp.Func, exp.Case, exp.Paren, exp.Null, exp.Boolean)


def paren(value: exp.Expr) -> exp.Expr:
    """The value, in parentheses unless it is an atom (sqlglot prints the tree as built)."""
    return value.copy() if isinstance(value, _ATOMS) else exp.Paren(this=value.copy())


def case(*whens: tuple[exp.Expr, exp.Expr], default: exp.Expr | None = None) -> exp.Case:
    node = exp.Case(ifs=[exp.If(this=c.copy(), true=v.copy()) for c, v in whens])
    if default is not None:
        node.set("default", default.copy())
    return node


def is_null(value: exp.Expr) -> exp.Is:
    return exp.Is(this=value.copy(), expression=exp.Null())


def not_null(value: exp.Expr) -> exp.Not:
    return exp.Not(this=is_null(value))


def coalesce(*values: exp.Expr) -> exp.Expr:
    if len(values) == 1:
        return values[0].copy()
    return exp.Coalesce(this=values[0].copy(), expressions=[v.copy() for v in values[1:]])


def first_fail(*fails: exp.Expr | None) -> exp.Expr | None:
    """The error Python raises first: the first non-NULL of those in evaluation order."""
    present = [f for f in fails if f is not None]
    return coalesce(*present) if present else None


ZERO = exp.Literal.number(0)


def bits_or(*parts: exp.Expr | None) -> exp.Expr | None:
    present = [p for p in parts if p is not None]
    if not present:
        return None
    result = present[0].copy()
    for part in present[1:]:
        result = exp.BitwiseOr(this=paren(result), expression=paren(part))
    return result


def when_null(value: exp.Expr, missing: exp.Expr | None) -> exp.Expr | None:
    """`missing` if the value is unknown, else 0 (a known node names no missing datum)."""
    if missing is None:
        return None
    return case((is_null(value), missing), default=ZERO)
