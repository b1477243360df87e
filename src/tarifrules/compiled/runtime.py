"""Helpers the generated code calls: the slow, rare steps, kept out of the generated text.

Every helper mirrors one step of the interpreter (`evaluate.py`) exactly: the same
`Decimal` operations in the same context, so that values, their exponents and the
errors are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from .. import nodes as n
from ..evaluate import EXACT, NOT_APPLICABLE
from ..values import UNKNOWN, WIDE, money_value, no_negative_zero, percent

ROUNDING = {n.Direction.NEAREST: ROUND_HALF_UP, n.Direction.DOWN: ROUND_FLOOR, n.Direction.UP: ROUND_CEILING}


def to_decimal(value: Any, scale: int) -> Any:
    """A scaled integer (value / 10**scale) as the exact `Decimal` the interpreter holds; markers pass."""
    if type(value) is not int:
        return value
    return Decimal(value).scaleb(-scale, WIDE)


def decimal_rounder(step: Decimal, direction: n.Direction) -> Callable[[Any], Decimal]:
    """`arrondi …` on a `Decimal` (or an exact integer), as `Compiler._round` does it."""
    rounding = ROUNDING[direction]
    step = step.normalize(WIDE)
    power_of_ten = step.as_tuple().digits == (1,)

    def round_value(value: Any) -> Decimal:
        if type(value) is int:
            value = Decimal(value)
        if power_of_ten:
            return value.quantize(step, rounding=rounding, context=WIDE)  # type: ignore[no-any-return]
        units = EXACT.divide(value, step).to_integral_value(rounding=rounding, context=EXACT)
        return EXACT.multiply(units, step)

    return round_value


def divide_rounding(direction: n.Direction) -> Callable[[int, int], int]:
    """Integer division of scaled integers with the rounding of `direction` (divisor > 0)."""
    match direction:
        case n.Direction.DOWN:
            return lambda x, d: x // d
        case n.Direction.UP:
            return lambda x, d: -((-x) // d)
    return lambda x, d: (2 * x + d) // (2 * d) if x >= 0 else -((-2 * x + d) // (2 * d))


def output_converter(kind: n.Kind) -> Callable[[Any], Any]:
    """Runtime value → the value an `Output` holds (as `ruleset._output_factory`); markers → UNKNOWN."""

    def convert(value: Any) -> Any:
        if value is UNKNOWN or value is NOT_APPLICABLE:
            return UNKNOWN
        if kind is n.Kind.MONTANT:
            return money_value(Decimal(value) if type(value) is int else value)
        if kind is n.Kind.TAUX:
            return percent(Decimal(value) if type(value) is int else value)
        if kind is n.Kind.NOMBRE and isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if kind is n.Kind.DECIMAL:
            return Decimal(value) if type(value) is int else no_negative_zero(value)
        return value

    return convert


def scaled_output(kind: n.Kind, scale: int) -> Callable[[Any], Any]:
    """Like `output_converter` for a scaled integer (montant or taux outputs only)."""
    convert = output_converter(kind)
    return lambda value: convert(to_decimal(value, scale))
