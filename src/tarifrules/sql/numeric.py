"""Exact rounding and division on DECIMAL values, the same on every engine.

Engines disagree on `ROUND` of ties (half away from zero, half even, or by the binary
double behind it), on integer division (truncated, floored, or done in DOUBLE — DuckDB's
`/` on decimals, Trino's `//` as sqlglot spells it) and on the scale a decimal operation
keeps. So nothing here uses `ROUND` or an implicit scale, nor `/` or `%` on decimals except
to divide an exact multiple, whose quotient every scale holds (Spark): every
rounding is `FLOOR`/`CEIL` of a value scaled by an exact decimal, and a quotient is built
from a truncated integer division of two non-negative DECIMAL(38, 0) numbers, which each
dialect gets in a form known to be exact (`//` on HUGEINT for DuckDB, `DIV` on NUMERIC for
PostgreSQL, exact multiples divided in two halves for Spark, a corrected `FLOOR(a / b)`
for Trino).
"""

from __future__ import annotations

from decimal import Decimal, Inexact, localcontext

from sqlglot import exp

from .typed import PRECISION, case, cast, decimal_literal, decimal_type, paren

HALF = Decimal("0.5")


def _lit(value: Decimal | int) -> exp.Cast:
    return decimal_literal(Decimal(value))


def _mul(a: exp.Expr, b: exp.Expr) -> exp.Mul:
    return exp.Mul(this=paren(a), expression=paren(b))


def _add(a: exp.Expr, b: exp.Expr) -> exp.Add:
    return exp.Add(this=paren(a), expression=paren(b))


def _sub(a: exp.Expr, b: exp.Expr) -> exp.Sub:
    return exp.Sub(this=paren(a), expression=paren(b))


def _integer(value: exp.Expr, wide: bool = True) -> exp.Cast:
    """Integers of divisions are wide (a quotient's digits); those of a rounding of an amount
    to the cent fit 64 bits, which DuckDB computes several times faster."""
    return cast(value, decimal_type(0, wide=wide))


def _narrowed(value: exp.Expr, scale: int | None, wide: bool) -> exp.Expr:
    """The argument of FLOOR/CEIL at its own scale: DuckDB widens a product or a sum of two
    DECIMAL(18) to 128 bits, and FLOOR of those is eight times slower."""
    return value.copy() if scale is None else cast(value, decimal_type(scale, wide=wide))


def floor(value: exp.Expr, wide: bool = True, scale: int | None = None) -> exp.Cast:
    return _integer(exp.Floor(this=_narrowed(value, scale, wide)), wide)


def ceil(value: exp.Expr, wide: bool = True, scale: int | None = None) -> exp.Cast:
    return _integer(exp.Ceil(this=_narrowed(value, scale, wide)), wide)


def half_up(value: exp.Expr, wide: bool = True, scale: int | None = None) -> exp.Expr:
    """Nearest integer, halves away from zero (Python's ROUND_HALF_UP)."""
    places = None if scale is None else max(scale, 1)
    negative = exp.LT(this=value.copy(), expression=exp.Literal.number(0))
    up = floor(_add(value, _lit(HALF)), wide, places)
    down = exp.Neg(this=paren(floor(_add(exp.Neg(this=paren(value)), _lit(HALF)), wide, places)))
    return case((negative, down), default=up)


def is_odd(integer: exp.Expr) -> exp.Expr:
    """`integer` odd, without `%` (DuckDB computes `%` of decimals in DOUBLE)."""
    half = floor(_mul(integer, _lit(HALF)))
    return exp.NEQ(this=paren(integer), expression=_mul(_lit(2), half))


def half_even(value: exp.Expr) -> exp.Expr:
    """Nearest integer, halves to the even neighbour (Python's default context rounding)."""
    low = floor(value)
    rest = _sub(value, low)
    return case(
        (exp.GT(this=rest.copy(), expression=_lit(HALF)), _add(low, _lit(1))),
        (exp.LT(this=rest.copy(), expression=_lit(HALF)), low),
        (is_odd(low), _add(low, _lit(1))),
        default=low,
    )


def reciprocal(step: Decimal) -> Decimal | None:
    """1 / step when it is a finite decimal (0,05 → 20), else None."""
    with localcontext() as context:
        context.prec = 60
        context.traps[Inexact] = True
        try:
            return (Decimal(1) / step).normalize()
        except Inexact:
            return None


def scaled(value: exp.Expr, factor: Decimal) -> exp.Mul:
    return _mul(value, _lit(factor))


def power_of_ten(places: int) -> Decimal:
    return Decimal(1).scaleb(places)


def trunc_div(numerator: exp.Expr, denominator: exp.Expr, dialect: str) -> exp.Expr:
    """Truncated quotient of two non-negative DECIMAL(38, 0), exact in the given dialect."""
    if dialect == "duckdb":
        huge = exp.DataType.build("HUGEINT", dialect="duckdb")
        return _integer(exp.IntDiv(this=cast(numerator, huge), expression=cast(denominator, huge)))
    if dialect == "postgres":
        return _integer(exp.IntDiv(this=numerator.copy(), expression=denominator.copy()))
    if dialect == "spark":
        return _spark_trunc_div(numerator, denominator)
    # Trino divides decimals rounding at some scale: a floor within one of the true
    # quotient, corrected by two exact comparisons.
    guess = floor(exp.Div(this=paren(numerator), expression=paren(denominator), typed=True, safe=False))
    too_big = exp.GT(this=_mul(guess, denominator), expression=paren(numerator))
    too_small = exp.LTE(this=_mul(_add(guess, _lit(1)), denominator), expression=paren(numerator))
    return case((too_big, _sub(guess, _lit(1))), (too_small, _add(guess, _lit(1))), default=guess)


SPARK_HALF = power_of_ten(19)


def _multiple_div(numerator: exp.Expr, denominator: exp.Expr) -> exp.Cast:
    """(N − N % D) / D: an exact multiple divided, so the quotient is exact whatever scale Spark
    gives it — provided it fits: below 10^20 when precision loss is off (DECIMAL(38, 18))."""
    rest = exp.Mod(this=paren(numerator), expression=paren(denominator))
    return _integer(exp.Div(this=paren(_sub(numerator, rest)), expression=paren(denominator), typed=True, safe=False))


def _spark_trunc_div(numerator: exp.Expr, denominator: exp.Expr) -> exp.Expr:
    """trunc(N / D) for N < 10^38 in Spark, with or without `allowPrecisionLoss`.

    Spark's `%` on decimals is exact, its `/` keeps a scale that depends on that setting,
    and without precision loss a DECIMAL(38, 0) quotient has room for 20 integer digits
    only. So the quotient is computed in halves of at most 19 digits: when D ≥ 10^19 it
    has at most 19 digits itself; otherwise N = q_hi · (D · 10^19) + R, and
    trunc(N / D) = q_hi · 10^19 + trunc(R / D), each part below 10^19.
    """
    half = _lit(SPARK_HALF)
    shifted = _integer(_mul(denominator, half))
    high = _multiple_div(numerator, shifted)
    low = _multiple_div(exp.Mod(this=paren(numerator), expression=paren(shifted)), denominator)
    split = _integer(_add(_integer(_mul(high, half)), low))
    small = exp.LT(this=paren(denominator), expression=half)
    return case((small, split), default=_multiple_div(numerator, denominator))


def unscaled(value: exp.Expr, scale: int) -> exp.Expr:
    """The digits of a DECIMAL(38, scale) as a DECIMAL(38, 0): 12.50 → 1250.

    Multiplying by 10^scale would overflow: the engine keeps the product at the same scale,
    so 20 places of an approximate quotient plus 20 shifted ones exceed 38 digits. The
    decimal's text has exactly `scale` places in every dialect; dropping its point is exact.
    """
    if scale == 0:
        return _integer(value)
    digits = exp.Replace(this=cast(cast(value, decimal_type(scale, wide=True)), exp.DataType.build("VARCHAR")),
                         expression=exp.Literal.string("."), replacement=exp.Literal.string(""))
    return _integer(digits)


def numerator(a: exp.Expr, a_scale: int, b_scale: int, scale: int) -> exp.Expr:
    """|a| as the integer N such that N / D = |a / b| × 10^scale (scale ≥ a_scale)."""
    assert scale >= a_scale
    return _integer(scaled(unscaled(exp.Abs(this=a.copy()), a_scale), power_of_ten(scale + b_scale - a_scale)))


def denominator(b: exp.Expr, b_scale: int) -> exp.Expr:
    return unscaled(exp.Abs(this=b.copy()), b_scale)


def quotient(a: exp.Expr, b: exp.Expr, numerator: exp.Expr, denominator: exp.Expr, truncated: exp.Expr,
             scale: int) -> exp.Expr:
    """a / b rounded half-even at `scale` places, from N, D and trunc(N / D)."""
    rest = _sub(numerator, _mul(truncated, denominator))
    twice = _mul(_lit(2), rest)
    rounded = case(
        (exp.GT(this=twice.copy(), expression=paren(denominator)), _add(truncated, _lit(1))),
        (exp.And(this=exp.EQ(this=twice.copy(), expression=paren(denominator)), expression=is_odd(truncated)),
         _add(truncated, _lit(1))),
        default=truncated,
    )
    magnitude = cast(_mul(rounded, _lit(power_of_ten(-scale))), decimal_type(scale))
    negative = exp.NEQ(this=paren(exp.LT(this=a.copy(), expression=exp.Literal.number(0))),
                       expression=paren(exp.LT(this=b.copy(), expression=exp.Literal.number(0))))
    return case((negative, exp.Neg(this=paren(magnitude))), default=magnitude)


def round_to_places(value: exp.Expr, places: int) -> exp.Expr:
    """Half-even at `places` places: how an approximate quotient is shortened to fit 38 digits."""
    units = half_even(scaled(value, power_of_ten(places)))
    return cast(_mul(units, _lit(power_of_ten(-places))), decimal_type(places))


__all__ = ["PRECISION", "ceil", "denominator", "floor", "half_even", "half_up", "numerator", "quotient",
           "reciprocal", "round_to_places", "scaled", "trunc_div"]
