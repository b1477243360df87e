"""`RuleSet.evaluate_table`: every household of a table at once, with the interpreter's results.

The path: read the columns (`inputs.py`), run the rules over them (`compiler.py`), work out
statuses and, for undetermined rows only, the missing data (`missing.py`). If some part
of the rules has no exact vectorised form, every row goes through `RuleSet.evaluate`
instead (`TableResult.vectorised` is then False): slower, never different.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .. import nodes as n
from ..diagnostics import TarifError
from .columns import Col, NotVectorisable, either
from .compiler import ColumnEvaluator, GridMatch
from .inputs import InputReader, Inputs
from .missing import missing_masks
from .outputs import OutputColumn

if TYPE_CHECKING:
    from ..ruleset import RuleSet

Rows = npt.NDArray[np.bool_]

OK, UNDETERMINED, ERROR = 0, 1, 2
STATUS_WORDS = ("ok", "indéterminé", "erreur")


@dataclass
class TableResult:
    """Results of a table: `outputs[name]`, `status`, `missing(row)`, `error(row)`.

    `status` holds one code per row (`OK`, `UNDETERMINED`, `ERROR`; `STATUS_WORDS` spells
    them); `missing_rows[datum]` marks the undetermined rows that lack this datum.
    """

    ruleset: RuleSet
    date: datetime.date
    outputs: dict[str, OutputColumn]
    status: npt.NDArray[np.int8]
    missing_rows: dict[str, Rows]
    vectorised: bool
    _inputs: Inputs
    _errors: dict[int, str] = field(default_factory=dict)
    _grids: dict[int, GridMatch] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.status)

    def statuses(self) -> list[str]:
        return [STATUS_WORDS[code] for code in self.status.tolist()]

    def missing(self, row: int) -> tuple[str, ...]:
        """`Evaluation.missing` for this row: data that would decide its unknown outputs."""
        return tuple(name for name, rows in self.missing_rows.items() if rows[row])

    def missing_lists(self) -> list[tuple[str, ...]]:
        return [self.missing(row) for row in range(len(self))]

    def grid_index(self, grid: n.Grid) -> npt.NDArray[np.integer] | None:
        """For each row, the index in `grid_rows(grid)[0]` of the grid row it falls in: -2 when the
        selector is not known (the `à défaut` row, if any), -1 when no row holds it; None when
        the rows were evaluated one by one."""
        match = self._grids.get(id(grid))
        return None if match is None else match.index

    def grid_rows(self, grid: n.Grid) -> tuple[tuple[n.GridRow, ...], n.GridRow | None]:
        """The rows `grid_index` numbers (in the order the interpreter tries them), and the `à défaut` row."""
        match = self._grids[id(grid)]
        return match.rows, match.default

    def error(self, row: int) -> str | None:
        """Why this row has no result (its value refused, or a computation the rules cannot do)."""
        if self.status[row] != ERROR:
            return None
        if row not in self._errors:
            try:
                self.ruleset.evaluate(self._inputs.situation(row), date=self.date)
                self._errors[row] = "erreur"  # pragma: no cover - the interpreter agrees (property test)
            except TarifError as exc:
                self._errors[row] = exc.diagnostics[0].message
        return self._errors[row]


def evaluate_table(ruleset: RuleSet, table: Any, day: datetime.date) -> TableResult:
    result = vectorised_table(ruleset, table, day)
    return result if result is not None else row_by_row_table(ruleset, table, day)


def vectorised_table(ruleset: RuleSet, table: Any, day: datetime.date) -> TableResult | None:
    """`evaluate_table` with NumPy only: None when the rules or the values (a number too large for
    64 bits…) have no exact form in columns. Raises `TarifError` as `evaluate_table` does."""
    reader = InputReader(ruleset.symbols)
    try:
        return _vectorised(ruleset, reader.read(table), day)
    except NotVectorisable:
        return None


def row_by_row_table(ruleset: RuleSet, table: Any, day: datetime.date) -> TableResult:
    """`evaluate_table` by `RuleSet.evaluate` on every row (the reference path)."""
    return _row_by_row(ruleset, InputReader(ruleset.symbols).read_raw(table), day)


def _vectorised(ruleset: RuleSet, inputs: Inputs, day: datetime.date) -> TableResult:
    size = inputs.size
    reader = InputReader(ruleset.symbols)
    columns = _set_aside_unreliable(ruleset, inputs.columns, reader.vocabulary, day, size)
    evaluator = ColumnEvaluator(ruleset.symbols, columns, size, reader.vocabulary)
    names = ruleset.output_names
    results = {name: evaluator.name(name) for name in names}
    error = inputs.bad_rows
    for col in results.values():
        error = either(error, col.error)
    unknown_outputs: dict[str, Rows] = {}
    for name, col in results.items():
        unknown = either(col.unknown, col.na)
        if unknown is not None:
            unknown_outputs[name] = unknown if error is None else unknown & ~error
    status = np.zeros(size, dtype=np.int8)
    for rows in unknown_outputs.values():
        status[rows] = UNDETERMINED
    if error is not None:
        status[error] = ERROR
    missing: dict[str, Rows] = {}
    if any(rows.any() for rows in unknown_outputs.values()):
        found = missing_masks(evaluator, names, unknown_outputs)
        missing = {name: found[name] for name in ruleset.data_names if name in found}
    words = tuple(reader.vocabulary)
    outputs = {name: _output(name, ruleset.symbols.outputs[name].type.kind, col, size, words, error)
               for name, col in results.items()}
    return TableResult(ruleset, day, outputs, status, missing, True, inputs, dict(inputs.bad), evaluator.grids)


def _output(name: str, kind: n.Kind, col: Col, size: int, words: tuple[str, ...], error: Rows | None
            ) -> OutputColumn:
    """The output's column; a row in error has no value for any output (`evaluate` raises)."""
    if col.kind == "na":
        return OutputColumn(name, kind, np.zeros(size, dtype=bool), np.zeros(size, dtype=np.int64))
    expected = {n.Kind.BOOLEEN: "bool", n.Kind.ENUM: "enum", n.Kind.DATE: "date"}.get(kind, "num")
    if col.kind != expected:
        raise NotVectorisable("résultat d'une autre nature que celle déclarée")
    known = col.known(size) if error is None else col.known(size) & ~error
    return OutputColumn(name, kind, known, np.broadcast_to(col.values, (size,)), col.scale, words)


def _set_aside_unreliable(ruleset: RuleSet, columns: dict[str, Col], vocabulary: dict[str, int],
                          day: datetime.date, size: int) -> dict[str, Col]:
    """Before mid-October, a negative answer of some data only means "not known yet" (catalogue)."""
    columns = dict(columns)
    for name, _, negatives in (u for u in ruleset.unreliable if u.on(day)):
        if name not in columns:
            continue
        col = columns[name]
        if col.kind == "bool" and negatives <= {False}:
            negative = ~np.broadcast_to(col.values, (size,))
        elif col.kind == "enum" and all(isinstance(word, str) for word in negatives):
            negative = np.isin(col.values, [vocabulary[w] for w in negatives if isinstance(w, str) and w in vocabulary])
        else:
            raise NotVectorisable("valeurs peu fiables d'une nature inattendue")
        known = col.known(size)
        columns[name] = col.with_states(either(col.unknown, negative & known), col.error)
    return columns


def _row_by_row(ruleset: RuleSet, inputs: Inputs, day: datetime.date) -> TableResult:
    """The reference path: `RuleSet.evaluate` on every row."""
    size = inputs.size
    names = ruleset.output_names
    objects: dict[str, list[Any]] = {name: [None] * size for name in names}
    status = np.zeros(size, dtype=np.int8)
    missing = {name: np.zeros(size, dtype=bool) for name in ruleset.data_names}
    errors: dict[int, str] = {}
    for row in range(size):
        try:
            evaluation = ruleset.evaluate(inputs.situation(row), date=day)
        except TarifError as exc:
            status[row] = ERROR
            errors[row] = exc.diagnostics[0].message
            continue
        for name, output in evaluation.outputs.items():
            objects[name][row] = output.value if output.status == "value" else None
        if any(output.status != "value" for output in evaluation.outputs.values()):
            status[row] = UNDETERMINED
            for datum in evaluation.missing:
                missing[datum][row] = True
    outputs = {
        name: OutputColumn(name, ruleset.symbols.outputs[name].type.kind,
                           np.array([v is not None for v in values], dtype=bool), objects=tuple(values))
        for name, values in objects.items()
    }
    return TableResult(ruleset, day, outputs, status, {k: v for k, v in missing.items() if v.any()}, False,
                       inputs, errors)
