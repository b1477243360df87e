"""`tarifrules batch`: a population table evaluated by slices, results gathered for the file and the summary.

The table is cut into slices of `SLICE` rows: each goes through `RuleSet.evaluate_table`,
its output rows can be written while the next slice is computed (`emit`), and a progress
bar can move; what the summary needs is kept as arrays (statuses, exact scaled amounts,
grid rows, missing data), never as one Python object per household.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .. import nodes as n
from ..columnar import ERROR, STATUS_WORDS, UNDETERMINED, TableResult
from ..columnar.outputs import fixed_width_to_arrow, numbers_to_arrow

if TYPE_CHECKING:
    from ..ruleset import RuleSet

SLICE = 1 << 18  # rows per evaluate_table call: a slice is written while the next one is computed
LISTED_ERRORS = 20  # bad rows listed one by one; the others are counted
STATUS_COLUMN = "statut"
MISSING_COLUMN = "données_manquantes"


class MappingProblem(Exception):
    """A `--map` that names no column or no datum (French message and hint)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


def read_data(ruleset: RuleSet) -> tuple[str, ...]:
    """The data that the rules of some output name (directly or through other names)."""
    from ..symbols import dependency_parts, references

    named = {ref.name for part in dependency_parts(ruleset.symbols, ruleset.output_names) for ref in references(part)}
    return tuple(datum for datum in ruleset.data_names if datum in named)


def written_columns(ruleset: RuleSet) -> tuple[str, ...]:
    """The columns `batch` adds to the input's: one per output, the status, the missing data."""
    return (*ruleset.output_names, STATUS_COLUMN, MISSING_COLUMN)


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"« {name} »" for name in names) or "aucune"


def check_columns(ruleset: RuleSet, columns: list[str]) -> None:
    """An input column named like a column `batch` writes would be replaced in the output: refused."""
    clashing = [column for column in columns if column in written_columns(ruleset)]
    if clashing:
        raise MappingProblem(
            f"ENTREE a déjà une colonne {_names(clashing)}, que batch écrit dans le fichier des résultats",
            "renommez ou retirez cette colonne d'ENTREE (un fichier de résultats d'un calcul précédent ?) : "
            "batch écrit " + _names(written_columns(ruleset)))


def data_columns(ruleset: RuleSet, columns: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """Datum → column of the file: by `--map colonne=donnée`, else the column named after the datum.
    A datum that the outputs read and that no column gives is refused: every household would
    silently be computed without it."""
    data = ruleset.data_names
    for column, datum in mapping.items():
        if column not in columns:
            raise MappingProblem(f"--map {column}={datum} : le fichier n'a pas de colonne « {column} »",
                                 "colonnes du fichier : " + ", ".join(columns))
        if datum not in data:
            raise MappingProblem(f"--map {column}={datum} : « {datum} » n'est pas une donnée de {ruleset.file}",
                                 "données déclarées : " + ", ".join(data))
    chosen = {datum: column for column, datum in mapping.items()}
    for datum in data:
        if datum not in chosen and datum in columns:
            chosen[datum] = datum
    absent = [datum for datum in read_data(ruleset) if datum not in chosen]
    if absent:
        raise MappingProblem(
            f"aucune colonne d'ENTREE pour {'la donnée' if len(absent) == 1 else 'les données'} {_names(absent)}, "
            f"que lisent les résultats de {ruleset.file} ; colonnes trouvées : {_names(columns)} ; "
            f"données attendues : {_names(read_data(ruleset))}",
            "nommez la colonne comme la donnée, ou écrivez --map colonne=donnée ; pour une donnée "
            "inconnue de tous les foyers, ajoutez une colonne vide de ce nom")
    return chosen


@dataclass
class Amounts:
    """A numeric output over the whole population: `values / 10**scale` where `known`."""

    values: npt.NDArray[np.int64]
    scale: int
    known: npt.NDArray[np.bool_]

    def at_scale(self, scale: int) -> npt.NDArray[np.int64]:
        return self.values * np.int64(10 ** (scale - self.scale))


@dataclass
class BatchResult:
    """What `batch` learnt about the population (rows are 0-based; `line(row)` numbers them for people)."""

    ruleset: RuleSet
    date: datetime.date
    size: int
    first_line: int
    status: npt.NDArray[np.int8]
    arrays: dict[str, Any]  # output → Arrow array
    amounts: dict[str, Amounts]  # numeric outputs
    tranches: dict[str, tuple[tuple[n.GridRow, ...], n.GridRow | None, npt.NDArray[np.integer]]]
    missing_counts: dict[str, int]
    missing_text: Any  # Arrow string array, null where nothing is missing
    errors: list[tuple[int, str]] = field(default_factory=list)  # the first LISTED_ERRORS bad rows
    error_count: int = 0  # rows in error, and lines not read
    lines: npt.NDArray[np.int64] | None = None  # the line of each row, when they do not follow each other
    unreadable: tuple[tuple[int, str], ...] = ()  # (line, why) of the file's lines that are not rows

    def line(self, row: int) -> int:
        return int(self.lines[row]) if self.lines is not None else self.first_line + row

    def listed_errors(self) -> list[tuple[int, str]]:
        """(line, why) of the first LISTED_ERRORS rows in error or lines not read, in the file's order."""
        both = sorted([(self.line(row), message) for row, message in self.errors] + list(self.unreadable))
        return both[:LISTED_ERRORS]

    def count(self, status: int) -> int:
        return int(np.count_nonzero(self.status == status))

    def output_table(self, table: Any) -> Any:
        """The input table, plus one column per output, the status and the missing data (text columns
        dictionary-encoded: a handful of distinct values)."""
        return _with_results(table, self.arrays, self.status, self.missing_text)


def _with_results(table: Any, arrays: dict[str, Any], status: npt.NDArray[np.int8], missing_text: Any) -> Any:
    import pyarrow as pa

    words = pa.DictionaryArray.from_arrays(fixed_width_to_arrow(pa.int8(), status),
                                           pa.array(STATUS_WORDS, type=pa.string()))
    for name, array in {**arrays, STATUS_COLUMN: words, MISSING_COLUMN: missing_text}.items():
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, array)
        else:
            table = table.append_column(name, array)
    return table


def slice_table(ruleset: RuleSet, rows: Any, part: TableResult) -> Any:
    """The output rows of one slice (`rows`: its input rows), as `BatchResult.output_table` gives them.
    Amounts have the decimal places of this slice: the same in every slice, except for rows evaluated
    one by one, whose places follow their values."""
    arrays = {name: part.outputs[name].to_arrow() for name in ruleset.output_names}
    return _with_results(rows, arrays, part.status, _missing_text(ruleset, [(0, part)], part.status))


def output_grid(ruleset: RuleSet, name: str) -> n.Grid | None:
    """The grid an output's general rule reads its value from (`tarif_repas : tarif_base` → its grid)."""
    seen: set[str] = set()
    while name in ruleset.symbols.pieces and name not in seen:
        seen.add(name)
        general = [p for p in ruleset.symbols.pieces[name] if p.definition.only_if is None]
        if not general:
            return None
        body = general[0].definition.body
        if isinstance(body, n.Grid):
            return body
        if not isinstance(body, n.Ref):
            return None
        name = body.name
    return None


def run_batch(ruleset: RuleSet, table: Any, columns: Mapping[str, str], date: datetime.date, first_line: int,
              progress: Callable[[int], None] | None = None,
              emit: Callable[[Any], None] | None = None, *, lines: npt.NDArray[np.int64] | None = None,
              unreadable: Sequence[tuple[int, str]] = ()) -> BatchResult:
    """Evaluates every row of `table` (`columns`: datum → column) at `date`; `emit` receives the output
    rows of each slice as soon as they are computed (`slice_table`), to be written meanwhile.
    `lines`, `unreadable`: as `files.Population` has them."""
    ruleset.evaluate_table({}, date=date)  # (the date checked once)
    size = table.num_rows
    parts: list[tuple[int, TableResult]] = []
    for start in range(0, max(size, 1), SLICE):
        length = min(SLICE, size - start)
        rows = table.slice(start, length)
        data = rows.select(list(columns.values())).rename_columns(list(columns))
        for offset, part in _evaluated(ruleset, data, date):
            parts.append((start + offset, part))
            if emit is not None:
                emit(slice_table(ruleset, rows.slice(offset, len(part)), part))
        if progress is not None:
            progress(length)
    result = _gather(ruleset, date, size, first_line, parts)
    result.lines, result.unreadable = lines, tuple(unreadable)
    result.error_count += len(unreadable)
    return result


FEW_ROWS = 64  # below, rows that NumPy cannot compute exactly are not split further


def _evaluated(ruleset: RuleSet, data: Any, date: datetime.date) -> list[tuple[int, TableResult]]:
    """The rows of `data` by NumPy, and those it cannot compute exactly (a value too large for 64 bits…)
    by the interpreter, row by row, as few of them as possible: halves are tried again as long as
    the cause looks local to some rows. (offset in `data`, result) for each piece, in order."""
    from ..columnar.table import row_by_row_table, vectorised_table

    whole = vectorised_table(ruleset, data, date)
    if whole is not None:
        return [(0, whole)]
    size = data.num_rows
    ends = (data.slice(0, FEW_ROWS), data.slice(max(0, size - FEW_ROWS)))
    if size <= 2 * FEW_ROWS or all(vectorised_table(ruleset, end, date) is None for end in ends):
        return [(0, row_by_row_table(ruleset, data, date))]  # the rules themselves, or values everywhere

    def split(offset: int, rows: Any) -> list[tuple[int, TableResult]]:
        part = vectorised_table(ruleset, rows, date)
        if part is not None:
            return [(offset, part)]
        if rows.num_rows <= FEW_ROWS:
            return [(offset, row_by_row_table(ruleset, rows, date))]
        half = rows.num_rows // 2
        return split(offset, rows.slice(0, half)) + split(offset + half, rows.slice(half))

    half = size // 2
    return split(0, data.slice(0, half)) + split(half, data.slice(half))


def _gather(ruleset: RuleSet, date: datetime.date, size: int, first_line: int,
            parts: list[tuple[int, TableResult]]) -> BatchResult:
    import pyarrow as pa

    status = _joined([r.status for _, r in parts]) if parts else np.zeros(0, dtype=np.int8)
    arrays: dict[str, Any] = {}
    amounts: dict[str, Amounts] = {}
    for name in ruleset.output_names:
        columns = [r.outputs[name] for _, r in parts]
        scaled = [c.scaled() for c in columns]
        if scaled and all(s is not None for s in scaled):
            scale = max(s[1] for s in scaled if s is not None)
            values = _joined([s[0] if s[1] == scale else s[0] * np.int64(10 ** (scale - s[1]))
                              for s in scaled if s is not None])
            amounts[name] = Amounts(values, scale, _joined([c.known for c in columns]))
            arrays[name] = numbers_to_arrow(columns[0].kind, values, scale, amounts[name].known)
        else:
            pieces = [c.to_arrow() for c in columns]
            if len({piece.type for piece in pieces}) > 1:  # (numbers too large for decimal128, as text)
                pieces = [piece.cast(pa.string()) for piece in pieces]
            arrays[name] = pa.concat_arrays(pieces)
    result = BatchResult(ruleset, date, size, first_line, status, arrays, amounts, {}, {},
                         _missing_text(ruleset, parts, status))
    for datum in ruleset.data_names:
        count = sum(int(np.count_nonzero(r.missing_rows[datum])) for _, r in parts if datum in r.missing_rows)
        if count:
            result.missing_counts[datum] = count
    for name in ruleset.output_names:
        grid = output_grid(ruleset, name)
        indexes = [r.grid_index(grid) for _, r in parts] if grid is not None else [None]
        if grid is not None and all(i is not None for i in indexes):
            match = parts[0][1].grid_rows(grid)
            index = _joined([i for i in indexes if i is not None])
            result.tranches[name] = (*match, np.where(status == ERROR, -3, index))  # rows in error: no tranche
    for start, part in parts:
        rows = np.flatnonzero(part.status == ERROR)
        result.error_count += len(rows)
        for row in rows[: max(0, LISTED_ERRORS - len(result.errors))]:
            result.errors.append((start + int(row), part.error(int(row)) or ""))
    return result


def _joined(arrays: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    """The slices' arrays end to end (the array itself when there is one slice: no copy)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _missing_text(ruleset: RuleSet, parts: list[tuple[int, TableResult]], status: npt.NDArray[np.int8]) -> Any:
    """« quotient_familial, demandeur_emploi » on undetermined rows: a dictionary of the combinations met."""
    import pyarrow as pa

    names = ruleset.data_names
    if not any(part.missing_rows for _, part in parts):  # nothing missing anywhere: an all-null column
        return pa.DictionaryArray.from_arrays(pa.nulls(len(status), type=pa.int32()), pa.array([], type=pa.string()))
    codes = []
    for _, part in parts:
        code = np.zeros(len(part), dtype=np.int64)
        for bit, datum in enumerate(names):
            if datum in part.missing_rows:
                code |= part.missing_rows[datum].astype(np.int64) << bit
        codes.append(code)
    code = _joined(codes) if codes else np.zeros(0, dtype=np.int64)
    if len(names) <= 16:  # few data: the combinations are numbered through a lookup table (no sort)
        present = np.bincount(code, minlength=1 << len(names)) > 0
        combos = np.flatnonzero(present)
        index = (np.cumsum(present) - 1)[code]
    else:
        combos, index = np.unique(code, return_inverse=True)
    words = [", ".join(d for bit, d in enumerate(names) if int(c) >> bit & 1) for c in combos]
    indices = fixed_width_to_arrow(pa.int32(), index.astype(np.int32), status == UNDETERMINED)
    return pa.DictionaryArray.from_arrays(indices, pa.array(words, type=pa.string()))
