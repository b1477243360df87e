"""A table's columns → typed data columns, with the same reading as `SituationReader`.

Integer and boolean Arrow columns are read in bulk (with the declared domain checked by
NumPy); any other column is dictionary-encoded and each *distinct* value is read once by
`SituationReader`, so that every spelling the JSON contract accepts (`"650,50"`,
`"oui"`, `"inconnu"`, ISO dates…) means exactly what it means for `RuleSet.evaluate`,
with the same message when it is refused. A refused value makes its row an error, as
`evaluate` raises for it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import nodes as n
from ..diagnostics import TarifError
from ..situation import SituationReader
from ..symbols import Symbols
from .columns import Col, NotVectorisable, checked, clean

Rows = npt.NDArray[np.bool_]


@dataclass
class Inputs:
    """Data columns of a table, and its bad rows (row → French message)."""

    size: int
    columns: dict[str, Col]
    bad: dict[int, str] = field(default_factory=dict)
    bad_rows: Rows | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # Arrow arrays, for per-row fallbacks

    def situation(self, row: int) -> dict[str, Any]:
        """The row as `RuleSet.evaluate` takes it (raw cell values)."""
        return {name: column[row].as_py() for name, column in self.raw.items()}


def arrow_columns(table: Any) -> tuple[dict[str, Any], int]:
    """Named Arrow arrays of a pyarrow Table/RecordBatch, or of a mapping of sequences."""
    import pyarrow as pa

    if isinstance(table, pa.Table | pa.RecordBatch):
        columns = {name: table.column(name) for name in table.column_names}
        return {k: _array(v) for k, v in columns.items()}, table.num_rows
    if not isinstance(table, Mapping):
        raise TypeError("evaluate_table attend une table pyarrow ou un dictionnaire nom de colonne → valeurs")
    arrays: dict[str, Any] = {}
    for name, values in table.items():
        if _masked(values):
            arrays[str(name)] = pa.array(values.data, mask=np.ma.getmaskarray(values))
        elif isinstance(values, pa.Array | pa.ChunkedArray):
            arrays[str(name)] = _array(values)
        elif isinstance(values, np.ndarray):
            arrays[str(name)] = pa.array(values, from_pandas=values.dtype.kind == "f")
        else:
            arrays[str(name)] = _python_array(list(values))
    sizes = {len(a) for a in arrays.values()}
    if len(sizes) > 1:
        raise ValueError("les colonnes du tableau n'ont pas toutes le même nombre de lignes")
    return arrays, sizes.pop() if sizes else 0


def _masked(values: Any) -> bool:
    """A NumPy masked array? (numpy.ma is loaded only by programs that use it: 6 ms less at start)"""
    ma = sys.modules.get("numpy.ma")
    return ma is not None and isinstance(values, ma.MaskedArray)


def _python_array(values: list[Any]) -> Any:
    """A Python list as Arrow infers it; mixed values (650, "650,50", None) as their text."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _array(values: Any) -> Any:
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


class InputReader:
    """Reads tables for one rule set (built once per rule set)."""

    def __init__(self, symbols: Symbols):
        self.declarations = symbols.data
        self.reader = SituationReader(symbols.data, set(symbols.pieces))
        words: list[str] = []
        for declaration in symbols.data.values():
            words += [c for c in declaration.type.choices if c not in words]
        self.vocabulary = {word: code for code, word in enumerate(words)}

    def read_raw(self, table: Any) -> Inputs:
        """The table's cells as they are, for `RuleSet.evaluate` row by row (no data column)."""
        arrays, size = arrow_columns(table)
        undeclared = [name for name in arrays if name not in self.declarations]
        if undeclared:
            try:
                self.reader.read(dict.fromkeys(undeclared, 0))
            except TarifError as exc:
                raise TarifError(exc.diagnostics) from None
        return Inputs(size, {}, raw=arrays)

    def read(self, table: Any) -> Inputs:
        """Data columns; raises `NotVectorisable` for values with no exact NumPy form (too large for
        64 bits, more than 18 decimal places)."""
        inputs = self.read_raw(table)
        arrays, size = inputs.raw, inputs.size
        bad = np.zeros(size, dtype=bool)
        for name, declaration in self.declarations.items():
            if name not in arrays:
                inputs.columns[name] = self._absent(declaration.type.kind, size)
                continue
            col, refused = self._column(name, declaration.type, arrays[name], size)
            for row, message in refused.items():
                inputs.bad.setdefault(row, message)
                bad[row] = True
            inputs.columns[name] = col
        inputs.bad_rows = clean(bad)
        return inputs

    def _absent(self, kind: n.Kind, size: int) -> Col:
        return Col(_kind(kind), np.asarray(False if kind is n.Kind.BOOLEEN else 0),
                   np.ones(size, dtype=bool))

    def _column(self, name: str, spec: n.TypeSpec, array: Any, size: int) -> tuple[Col, dict[int, str]]:
        import pyarrow as pa

        kind = _kind(spec.kind)
        if pa.types.is_null(array.type):
            return self._absent(spec.kind, size), {}
        whole = pa.types.is_integer(array.type) and not pa.types.is_uint64(array.type)
        if kind == "num" and (whole or pa.types.is_floating(array.type)):
            values, nulls = _numpy(array)
            if whole:
                return self._integers(name, spec, values.astype(np.int64, copy=False), nulls)
            if np.all(np.isfinite(values)) and np.all(np.abs(values) < 2**52) and np.all(np.floor(values) == values):
                return self._integers(name, spec, values.astype(np.int64), nulls)
        if kind == "bool" and pa.types.is_boolean(array.type):
            values, nulls = _numpy(array)
            return Col("bool", values, clean(nulls)), {}
        import pyarrow.compute as pc  # (imported here only: a heavy import that Parquet numbers do not need)

        encoded = pc.dictionary_encode(array)
        return self._distinct(name, kind, encoded.indices, encoded.dictionary, size)

    def _integers(self, name: str, spec: n.TypeSpec, values: npt.NDArray[Any], nulls: Rows | None
                  ) -> tuple[Col, dict[int, str]]:
        """Whole numbers in bulk: the declared domain is checked here, the message is the reader's."""
        low = spec.minimum.value if spec.minimum else Decimal(0)
        high = spec.maximum.value if spec.maximum else None
        outside = values < math.ceil(low)
        if high is not None:
            outside |= values > math.floor(high)
        if nulls is not None:
            outside &= ~nulls
        refused: dict[int, str] = {}
        messages: dict[int, str] = {}
        for row in np.flatnonzero(outside):
            value = int(values[row])
            if value not in messages:
                messages[value] = self._message(name, value)
            refused[int(row)] = messages[value]
        lo, hi = (int(values.min()), int(values.max())) if len(values) else (0, 0)
        col = Col("num", values.astype(np.int64, copy=False), clean(_with(nulls, outside)), None, None, 0, lo, hi)
        if spec.kind is n.Kind.TAUX:  # a taux is held as a fraction: 45 (%) is 0.45
            col = Col("num", col.values, col.unknown, None, None, 2, lo, hi)
        checked(lo, hi)
        return col, refused

    def _message(self, name: str, raw: Any) -> str:
        try:
            self.reader.read({name: raw})
        except TarifError as exc:
            return exc.diagnostics[0].message
        raise AssertionError(raw)  # pragma: no cover - only refused values come here

    def _distinct(self, name: str, kind: str, indices: Any, dictionary: Any, size: int
                  ) -> tuple[Col, dict[int, str]]:
        """Each distinct value read once by the `SituationReader`, then spread to its rows."""
        read: list[Any] = []
        messages: list[str | None] = []
        for raw in dictionary.to_pylist():
            try:
                value = self.reader.read({name: raw}).get(name)
                messages.append(None)
            except TarifError as exc:
                value = None
                messages.append(exc.diagnostics[0].message)
            read.append(value)
        codes = indices.fill_null(len(read)).to_numpy(zero_copy_only=False).astype(np.intp)
        table, scale, lo, hi = self._encode(kind, read)
        unknown_per_value = np.array([v is None for v in read] + [True])
        values = np.append(table, table[:1] if len(table) else np.zeros(1, dtype=table.dtype))[codes]
        refused: dict[int, str] = {}
        refused_codes = [i for i, m in enumerate(messages) if m is not None]
        if refused_codes:
            for row in np.flatnonzero(np.isin(codes, refused_codes)):
                message = messages[codes[row]]
                assert message is not None
                refused[int(row)] = message
        return Col(kind, values, clean(unknown_per_value[codes]), None, None, scale, lo, hi), refused

    def _encode(self, kind: str, read: list[Any]) -> tuple[npt.NDArray[Any], int, int, int]:
        """Runtime values → NumPy values (scaled integers, codes, ordinal days); None → placeholder."""
        if kind == "bool":
            return np.array([bool(v) for v in read], dtype=bool), 0, 0, 0
        if kind == "enum":
            codes = [self.vocabulary.get(v, -1) if v is not None else -1 for v in read]
            return np.array(codes, dtype=np.int64), 0, 0, 0
        if kind == "date":
            return np.array([v.toordinal() if v is not None else 0 for v in read], dtype=np.int64), 0, 0, 0
        numbers = [v for v in read if v is not None]
        scale = max([0, *(-e for e in (v.normalize().as_tuple().exponent for v in numbers) if isinstance(e, int))])
        scaled = [int(v.scaleb(scale)) if v is not None else 0 for v in read]
        lo, hi = checked(min(scaled, default=0), max(scaled, default=0))
        if scale > 18:
            raise NotVectorisable("trop de décimales")
        return np.array(scaled, dtype=np.int64), scale, lo, hi


def _bits(buffer: Any, offset: int, size: int) -> Rows:
    return np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), bitorder="little")[offset: offset + size].astype(bool)


def _numpy(array: Any) -> tuple[npt.NDArray[Any], Rows | None]:
    """Values and null rows of a fixed-width Arrow array, read from its buffers (null rows hold 0 / False)."""
    import pyarrow as pa

    size, offset = len(array), array.offset
    validity, data = array.buffers()[:2]
    if pa.types.is_boolean(array.type):
        values = _bits(data, offset, size)
    else:
        values = np.frombuffer(data, dtype=array.type.to_pandas_dtype())[offset: offset + size]
    if not array.null_count or validity is None:
        return values, None
    nulls = ~_bits(validity, offset, size)
    return np.where(nulls, np.zeros(1, dtype=values.dtype), values), nulls


def _with(a: Rows | None, b: Rows) -> Rows:
    return b if a is None else a | b


def _kind(kind: n.Kind) -> str:
    return {n.Kind.BOOLEEN: "bool", n.Kind.ENUM: "enum", n.Kind.DATE: "date"}.get(kind, "num")
