"""Generated households as an Arrow table, drawn by NumPy in bulk (100 000 rows in milliseconds).

The same kinds of values as `sql_support.households`, column by column instead of row by row:

* numbers around every number the file writes (grid bounds and literals, ± one step),
  uniform ones, large ones, and for data with decimals, exact half cents (ties for every
  rounding to the cent);
* 12 % unknown (null) per datum;
* 0.5 % refused values per datum: below the minimum, above the maximum, a fraction where
  a whole number or cents are expected, a word outside `parmi (…)`.

Numbers are `decimal128(24, 6)` (NUMERIC(24, 6) in PostgreSQL), built from NumPy integers
of millionths, never through a float; the table has an `__id` column (0, 1, 2…) that the
queries keep.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tarifrules import nodes as n
from tarifrules.ruleset import RuleSet

from .sql_support import literals

UNITS = 10**6  # a number is held as an integer count of millionths: decimal128(24, 6)
NUMBER_TYPE = pa.decimal128(24, 6)
UNKNOWN, REFUSED = 0.12, 0.005
FIRST_DAY = datetime.date(2025, 1, 1)

Ints = npt.NDArray[np.int64]


def household_table(ruleset: RuleSet, count: int, seed: int = 7) -> pa.Table:
    """`count` households for the données of `ruleset`, with an `__id` column first."""
    rng = np.random.default_rng(seed)
    written = literals(ruleset)
    columns: dict[str, pa.Array] = {"__id": pa.array(np.arange(count, dtype=np.int64))}
    for declaration in ruleset.program.data:
        draw = rng.random(count)
        unknown = draw < UNKNOWN
        refused = (draw >= UNKNOWN) & (draw < UNKNOWN + REFUSED)
        columns[declaration.name] = _column(declaration.type, rng, count, written, unknown, refused)
    return pa.table(columns)


def _column(spec: n.TypeSpec, rng: np.random.Generator, count: int, written: list[Decimal],
            unknown: npt.NDArray[np.bool_], refused: npt.NDArray[np.bool_]) -> pa.Array:
    if spec.kind is n.Kind.BOOLEEN:  # a typed column cannot hold a refused boolean: unknown instead
        return pa.array(rng.random(count) < 0.5, mask=unknown | refused)
    if spec.kind is n.Kind.DATE:
        days = rng.integers(0, 800, count) + (FIRST_DAY - datetime.date(1970, 1, 1)).days
        return pa.array(days.astype(np.int32), type=pa.date32(), mask=unknown | refused)
    if spec.kind is n.Kind.ENUM:
        words = np.array([*spec.choices, "hors_liste"], dtype=object)
        picked = np.where(refused, len(spec.choices), rng.integers(0, len(spec.choices), count))
        return pa.array(words[picked], type=pa.string(), mask=unknown)
    units = np.where(refused, _refused(spec, rng, count), _numbers(spec, rng, count, written))
    return decimal_array(units, unknown)


def places(spec: n.TypeSpec) -> int:
    """Decimal places of the valid values drawn for a datum (3 for a continuous one: half cents)."""
    if spec.kind is n.Kind.NOMBRE:
        return 0
    return {n.Granularity.ENTIER: 0, n.Granularity.CENTIME: 2}.get(spec.granularity or n.Granularity.CONTINU, 3)


def _bounds(spec: n.TypeSpec) -> tuple[int, int | None]:
    low = spec.minimum.value if spec.minimum else Decimal(0)
    high = spec.maximum.value if spec.maximum else None
    return int(low * UNITS), None if high is None else int(high * UNITS)


def _numbers(spec: n.TypeSpec, rng: np.random.Generator, count: int, written: list[Decimal]) -> Ints:
    """Valid numbers, in millionths: near written numbers, uniform, large, half cents."""
    digits = places(spec)
    step = UNITS // 10**digits
    low, high = _bounds(spec)
    draw = rng.random(count)
    uniform = rng.integers(0, 4_000 * 10**digits + 1, count) * step
    large = rng.integers(0, 200_000 * 10**digits + 1, count) * step
    units = np.where(draw < 0.9, uniform, large)
    if spec.kind is n.Kind.NOMBRE:
        units = np.where(draw < 0.9, low + rng.integers(0, 10, count) * UNITS, units)
    if written:
        near = np.array([int(v * UNITS) for v in written], dtype=np.int64)[rng.integers(0, len(written), count)]
        near += rng.integers(-1, 2, count) * step
        units = np.where(draw < 0.35, near, units)
    if digits >= 3:  # exact half cents: 12,345 → ties for `arrondi au centime`
        half_cents = (rng.integers(0, 400_000, count) * 2 + 1) * (UNITS // 1000) * 5
        units = np.where((draw >= 0.35) & (draw < 0.45), half_cents, units)
    units = np.maximum(units, low)
    if high is not None:
        units = np.minimum(units, high)
    return units - units % step  # whole steps (a written number may have more places than the datum)


def _refused(spec: n.TypeSpec, rng: np.random.Generator, count: int) -> Ints:
    """Values the situation reader refuses: below the minimum, above the maximum, too many places."""
    low, high = _bounds(spec)
    digits = places(spec)
    draw = rng.random(count)
    below = np.full(count, low - UNITS, dtype=np.int64)
    if digits >= 3:  # a décimal or taux column of the SQL table cannot hold more than 6 places
        return below if high is None else np.where(draw < 0.5, below, high + UNITS)
    fraction = np.full(count, low + (UNITS // 8 if digits == 2 else UNITS // 2), dtype=np.int64)
    refused = np.where(draw < 0.5, below, fraction)
    if high is not None:
        refused = np.where(draw < 0.25, high + UNITS, refused)
    return refused


def decimal_array(units: Ints, unknown: npt.NDArray[np.bool_]) -> pa.Array:
    """A decimal128(24, 6) array whose 128-bit integers are `units` (exact: no float on the way)."""
    wide = np.empty((len(units), 2), dtype=np.int64)
    wide[:, 0] = units
    wide[:, 1] = units >> 63  # little-endian 128-bit integers: the int64, then its sign extension
    validity = pa.array(~unknown, type=pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(NUMBER_TYPE, len(units), [validity, pa.py_buffer(wide)],
                                 int(np.count_nonzero(unknown)))
