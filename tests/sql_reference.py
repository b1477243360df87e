"""What the SQL query must give for a table of households, and the comparison in bulk.

The reference is `RuleSet.evaluate_table` (the columnar evaluator, property-tested equal
to the interpreter in tests/test_columnar_properties.py): one exact Arrow column per
output, and the `statut` each row must get. A row in error gets `erreur CODE`, the code
of the diagnostic `RuleSet.evaluate` raises for it; the query's `statut` must start with
it. `sample_differences` compares the reference itself with the interpreter on a random sample.

Numbers are compared as `decimal256(76, 30)`: exact, whatever scale each side printed
(MAX_SCALE places at most); a quotient that does not end is the evaluator's value rounded
half-even at DIV_SCALE places, as the query keeps it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tarifrules import nodes as n
from tarifrules.columnar import ERROR, UNDETERMINED
from tarifrules.columnar.outputs import OutputColumn
from tarifrules.diagnostics import TarifError
from tarifrules.ruleset import RuleSet
from tarifrules.sql.query import STATUS, build_query
from tarifrules.sql.typed import DIV_SCALE, MAX_SCALE

from .sql_support import differences

EXACT = pa.decimal256(76, MAX_SCALE)
NUMBERS = {n.Kind.MONTANT, n.Kind.NOMBRE, n.Kind.DECIMAL, n.Kind.TAUX}
SHOWN = 10  # differences listed in a failure message


@dataclass(frozen=True)
class Expected:
    """The outputs (exact, null when unknown or when the row is in error) and `statut` of each row."""

    ruleset: RuleSet
    day: datetime.date
    table: pa.Table
    outputs: dict[str, pa.Array]
    status: pa.Array


def expected(ruleset: RuleSet, table: pa.Table, day: datetime.date) -> Expected:
    result = ruleset.evaluate_table(table.drop_columns(["__id"]), date=day)
    approximate = build_query(ruleset, date=day).approximate
    outputs = {name: _exact(column, name in approximate) for name, column in result.outputs.items()}
    words = np.full(len(result), None, dtype=object)
    undetermined = np.flatnonzero(result.status == UNDETERMINED)
    listed = np.full(len(result), "", dtype=object)
    for name, rows in result.missing_rows.items():  # declaration order, as Evaluation.missing
        listed[rows] = listed[rows] + ", " + name
    words[undetermined] = ["manque : " + names[2:] if names else "indéterminé" for names in listed[undetermined]]
    errors = np.flatnonzero(result.status == ERROR)
    words[errors] = [f"erreur {_error_code(ruleset, household, day)}"
                     for household in table.take(errors).to_pylist()]
    return Expected(ruleset, day, table, outputs, pa.array(words, type=pa.string()))


def _exact(column: OutputColumn, approximate: bool) -> pa.Array:
    if column.objects is None:  # vectorised: scaled integers, exact (finite decimals only)
        return comparable(column.to_arrow(), column.kind)
    values = column.to_pylist()
    if approximate:
        values = [v.quantize(Decimal(1).scaleb(-DIV_SCALE), rounding=ROUND_HALF_EVEN) if isinstance(v, Decimal)
                  else v for v in values]
    return comparable(pa.array(values), column.kind)


def _error_code(ruleset: RuleSet, household: dict[str, Any], day: datetime.date) -> str:
    situation = {k: v for k, v in household.items() if v is not None and k != "__id"}
    try:
        ruleset.evaluate(situation, date=day)
    except TarifError as exc:
        return exc.diagnostics[0].code
    return "inattendue : evaluate ne lève pas d'erreur"  # pragma: no cover - reported as a difference


def comparable(array: Any, kind: n.Kind) -> pa.Array:
    """Numbers as decimal256(76, 30) (from a decimal, an integer or a decimal's text), the rest as is."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(EXACT) if kind in NUMBERS else array


def mismatched_rows(wanted: Expected, got: pa.Table) -> dict[str, npt.NDArray[np.intp]]:
    """For each output and `statut`, the rows where the query's table (ordered by `__id`) differs."""
    assert got.num_rows == wanted.table.num_rows, f"{got.num_rows} lignes pour {wanted.table.num_rows} foyers"
    found: dict[str, npt.NDArray[np.intp]] = {}
    for name, want in wanted.outputs.items():
        have = comparable(got.column(name), wanted.ruleset.symbols.outputs[name].type.kind)
        found[name] = _unequal(want, have)
    found[STATUS] = _unequal(wanted.status, _status_code(got.column(STATUS).combine_chunks()))
    return {name: rows for name, rows in found.items() if len(rows)}


def _status_code(status: pa.Array) -> pa.Array:
    """`erreur D004 : « x » a plus de…` → `erreur D004` (the reference knows the code, not the words)."""
    in_error = pc.fill_null(pc.starts_with(status, "erreur "), False)
    return pc.if_else(in_error, pc.utf8_slice_codeunits(status, 0, len("erreur D000")), status)


def differences_in_bulk(wanted: Expected, got: pa.Table) -> list[str]:
    """`mismatched_rows` in words: per column, the count and the first rows (household, expected, got)."""
    found: list[str] = []
    for name, rows in mismatched_rows(wanted, got).items():
        want = wanted.status if name == STATUS else wanted.outputs[name]
        column = got.column(name)
        have = _status_code(column.combine_chunks()) if name == STATUS else column
        found.append(f"{name} : {len(rows)} ligne(s) différente(s)")
        found += [f"foyer {_household(wanted.table, int(row))} : {name} attendu {_shown(want[int(row)].as_py())}, "
                  f"SQL {_shown(have[int(row)].as_py())}" for row in rows[:SHOWN]]
    return found


def _shown(value: Any) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else repr(value)


def _unequal(a: pa.Array, b: pa.Array) -> npt.NDArray[np.intp]:
    equal = pc.fill_null(pc.equal(a, b), False)
    both_null = pc.and_(a.is_null(), b.is_null())
    return np.flatnonzero(~pc.or_(equal, both_null).to_numpy(zero_copy_only=False))


def _household(table: pa.Table, row: int) -> dict[str, Any]:
    return {k: v for k, v in table.slice(row, 1).to_pylist()[0].items() if k != "__id"}


def sample_differences(wanted: Expected, size: int, seed: int = 11) -> list[str]:
    """`size` rows drawn at random, each computed by the interpreter and compared with the reference
    (so that the query, equal to the reference on every row, is equal to the interpreter there)."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(wanted.table.num_rows, size=min(size, wanted.table.num_rows), replace=False))
    reference = pa.table({**wanted.outputs, STATUS: wanted.status}).take(rows)
    households = wanted.table.take(rows).to_pylist()
    return differences(wanted.ruleset, households, dict(enumerate(reference.to_pylist())), wanted.day,
                       interpret=True)
