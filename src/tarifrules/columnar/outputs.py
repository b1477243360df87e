"""One output over a table: exact values, as `Output.value` gives them, without a Python object per row.

Numbers stay scaled int64 (`values / 10**scale`) until asked for: `value(row)` builds the
`Decimal` of one row, `to_arrow()` a `decimal128` array whose 128-bit integers are these
very integers (no rounding, no float on the way).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import nodes as n
from ..values import money_value, percent
from .columns import to_decimal

Rows = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class OutputColumn:
    """`values[row]` is meaningful where `known[row]`; `kind` is the declared kind of the output.

    `scale` is set for numbers; `words` decodes enumeration codes. `objects` replaces
    `values` when the rows were evaluated one by one (Python values, None when unknown).
    """

    name: str
    kind: n.Kind
    known: Rows
    values: npt.NDArray[Any] | None = None
    scale: int = 0
    words: tuple[str, ...] = ()
    objects: tuple[Any, ...] | None = None

    def __len__(self) -> int:
        return len(self.known)

    def value(self, row: int) -> Any:
        """The value `Evaluation.outputs[name].value` has for this row (None when not known)."""
        if not self.known[row]:
            return None
        if self.objects is not None:
            return self.objects[row]
        assert self.values is not None
        raw = self.values[row]
        if self.kind is n.Kind.BOOLEEN:
            return bool(raw)
        if self.kind is n.Kind.ENUM:
            return self.words[int(raw)]
        if self.kind is n.Kind.DATE:
            return datetime.date.fromordinal(int(raw))
        return _number(self.kind, to_decimal(int(raw), self.scale))

    def to_pylist(self) -> list[Any]:
        return [self.value(row) for row in range(len(self))]

    def scaled(self) -> tuple[npt.NDArray[np.int64], int] | None:
        """Numbers as (int64 array, scale) in the output's unit (a taux in percent); None if not numbers."""
        if self.kind not in (n.Kind.MONTANT, n.Kind.NOMBRE, n.Kind.DECIMAL, n.Kind.TAUX):
            return None
        if self.objects is None:
            assert self.values is not None
            values = np.broadcast_to(self.values, self.known.shape).astype(np.int64, copy=False)
            scale = self.scale
            if self.kind is n.Kind.TAUX:  # held as a fraction: in percent, two places fewer
                if scale >= 2:
                    return values, scale - 2
                return values * np.int64(10 ** (2 - scale)), 0
            return values, scale
        numbers = [v if isinstance(v, Decimal) else Decimal(v or 0) for v in self.objects]
        scale = max([0, *(-e for e in (v.as_tuple().exponent for v in numbers) if isinstance(e, int))])
        if scale > 18 or any(abs(v) >= 2**62 / 10**scale for v in numbers):
            return None
        return np.array([int(v.scaleb(scale)) for v in numbers], dtype=np.int64), scale

    def to_arrow(self) -> Any:
        """Arrow array: decimal128 for amounts, rates (in percent) and decimals; unknown rows are null."""
        import pyarrow as pa

        mask = ~self.known
        if self.kind is n.Kind.BOOLEEN:
            return pa.array(self._plain(bool), mask=mask, type=pa.bool_())
        if self.kind is n.Kind.ENUM:
            return pa.array(self._plain(str), mask=mask, type=pa.string())
        if self.kind is n.Kind.DATE:
            return pa.array(self._plain(lambda d: d), mask=mask, type=pa.date32())
        scaled = self.scaled()
        if scaled is None:
            return pa.array([None if v is None else format(v, "f") for v in self.to_pylist()], type=pa.string())
        return numbers_to_arrow(self.kind, *scaled, self.known)

    def _plain(self, convert: Any) -> list[Any]:
        return [convert(v) if v is not None else None for v in self.to_pylist()]


def numbers_to_arrow(kind: n.Kind, values: npt.NDArray[np.int64], scale: int, known: Rows) -> Any:
    """The Arrow array of numbers `values / 10**scale` (as `OutputColumn.scaled` gives them): decimal128
    with at least two places for amounts, int64 for whole `nombre`s; null where not `known`."""
    import pyarrow as pa

    if kind is n.Kind.NOMBRE and scale == 0:
        return fixed_width_to_arrow(pa.int64(), values, known)
    places = max(scale, 2) if kind is n.Kind.MONTANT else scale
    if places != scale:
        values = values * np.int64(10 ** (places - scale))
    # decimal128 values are little-endian 128-bit integers: the int64, then its sign extension
    wide = np.empty((len(values), 2), dtype=np.int64)
    wide[:, 0] = values
    np.right_shift(values, 63, out=wide[:, 1])
    return fixed_width_to_arrow(pa.decimal128(38, places), wide, known)


def fixed_width_to_arrow(arrow_type: Any, values: npt.NDArray[Any], known: Rows | None = None) -> Any:
    """The Arrow array of `arrow_type` over NumPy `values` (one row per first-axis item, no copy), null
    where not `known`. Built from buffers: `pa.array` would import `numpy.ma` (~10 ms) to look for a
    masked array."""
    import pyarrow as pa

    data = pa.py_buffer(np.ascontiguousarray(values))
    nulls = 0 if known is None else len(values) - int(np.count_nonzero(known))
    validity = pa.py_buffer(np.packbits(known, bitorder="little")) if nulls and known is not None else None
    return pa.Array.from_buffers(arrow_type, len(values), [validity, data], nulls)


def _number(kind: n.Kind, value: Decimal) -> Decimal | int:
    if kind is n.Kind.MONTANT:
        return money_value(value)
    if kind is n.Kind.TAUX:
        return percent(value)
    if kind is n.Kind.NOMBRE and value == value.to_integral_value():
        return int(value)
    return value
