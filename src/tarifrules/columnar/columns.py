"""Columns: one value per household, as NumPy arrays, with masks for what is not a value.

A `Col` holds, for every row, either a value, or one of three states that the
interpreter expresses otherwise: *unknown* (`UNKNOWN`), *error* (the interpreter raises a
`TarifError`) and *not applicable* (`NOT_APPLICABLE`, no piece of a definition applies).
The three masks are disjoint; `None` stands for "no row" so that the common case (every
value known) costs nothing.

Numbers are exact scaled integers: a `num` column holds `values / 10**scale`, and `lo`/`hi`
bound `values` over every row. Every operation checks with these bounds that int64 cannot
overflow, and raises `NotVectorisable` otherwise: the caller then falls back to the
interpreter, never to a wrong answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

Mask = npt.NDArray[np.bool_] | None
Array = npt.NDArray[Any]

LIMIT = 2**62  # bound on scaled integers: room left for one addition of two of them


class NotVectorisable(Exception):
    """This part of the rules cannot be computed exactly with NumPy: use the interpreter."""


def either(a: Mask, b: Mask) -> Mask:
    if a is None:
        return b
    if b is None:
        return a
    return a | b


def both(a: Mask, b: Mask) -> Mask:
    if a is None or b is None:
        return None
    return a & b


def without(a: Mask, b: Mask) -> Mask:
    """Rows of `a` that are not in `b`."""
    if a is None or b is None:
        return a
    return a & ~b


def clean(mask: Mask) -> Mask:
    """`None` for a mask without any row (cheap tests downstream)."""
    return mask if mask is not None and mask.any() else None


@dataclass(frozen=True, slots=True)
class Col:
    """A column: `kind` is "num", "bool", "enum" (codes in the rule set's vocabulary), "date"
    (ordinal days) or "na" (not applicable on every row, no value)."""

    kind: str
    values: Array
    unknown: Mask = None
    error: Mask = None
    na: Mask = None
    scale: int = 0
    lo: int = 0
    hi: int = 0

    def known(self, size: int) -> npt.NDArray[np.bool_]:
        """Rows holding a value."""
        missing = either(either(self.unknown, self.error), self.na)
        return np.ones(size, dtype=bool) if missing is None else ~missing

    def with_states(self, unknown: Mask, error: Mask, na: Mask = None) -> Col:
        return replace(self, unknown=clean(unknown), error=clean(error), na=clean(na))


def checked(lo: int, hi: int) -> tuple[int, int]:
    if lo < -LIMIT or hi > LIMIT:
        raise NotVectorisable("entiers trop grands pour int64")
    return lo, hi


def number(value: Decimal) -> Col:
    """A constant exact decimal as a scaled integer (scale = its decimal places)."""
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    assert isinstance(exponent, int)
    scale = max(0, -exponent)
    scaled = int(normalized.scaleb(scale))
    checked(scaled, scaled)
    return Col("num", np.asarray(scaled, dtype=np.int64), scale=scale, lo=scaled, hi=scaled)


def constant(kind: str, value: Any) -> Col:
    return Col(kind, np.asarray(value))


NOT_APPLICABLE_COL = Col("na", np.asarray(0))


def rescale(col: Col, scale: int) -> Col:
    """The same numbers with `scale` decimal places (scale ≥ col.scale)."""
    if scale == col.scale:
        return col
    factor = 10 ** (scale - col.scale)
    lo, hi = checked(col.lo * factor, col.hi * factor)
    return replace(col, values=col.values * np.int64(factor), scale=scale, lo=lo, hi=hi)


def aligned(a: Col, b: Col) -> tuple[Col, Col]:
    scale = max(a.scale, b.scale)
    return rescale(a, scale), rescale(b, scale)


def to_decimal(value: int, scale: int) -> Decimal:
    return Decimal(value).scaleb(-scale)


def full(values: Array, size: int) -> Array:
    """A (possibly constant) array broadcast to one value per row."""
    return values if values.ndim == 1 else np.full(size, values, dtype=values.dtype)
