"""A grid as a `bisect` over its bounds: which row each stretch of the number line gets.

The bounds of the rows cut the line into points and open stretches between them; inside
one piece every value falls in the same rows, so the row the interpreter picks (the
first row, in its sort order, whose interval holds the value) is computed once per piece
here, at compile time. At run time one `bisect` finds the piece.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import nodes as n
from ..evaluate import literal_value

GAP = -1
"""No row holds the piece: error E003 at run time."""

GAP_VALUE = object()
"""What a table of row values holds for a piece no row holds."""

Row = tuple[Any, bool, Any, bool, int]  # low, low included, high, high included, row index


@dataclass(frozen=True)
class GridPlan:
    """`points` sorted; `open_rows[i]`: row of the stretch just below points[i] (i = len: above all);
    `point_rows[i]`: row of points[i] itself; `side`: "right" when every point takes the row
    of the stretch above it, "left" below it, None when both lookups are needed."""

    points: tuple[Any, ...]  # Decimal or dates
    open_rows: tuple[int, ...]
    point_rows: tuple[int, ...]
    side: str | None
    default: int | None  # index of the `à défaut` row


def _rows(grid: n.Grid) -> tuple[list[Row], int | None]:
    rows: list[Row] = []
    default = None
    for index, row in enumerate(grid.rows):
        if row.form is n.BoundForm.DEFAULT:
            default = index
            continue
        low = literal_value(row.lower.value) if row.lower else None
        high = literal_value(row.upper.value) if row.upper else None
        rows.append((low, bool(row.lower and row.lower.included), high, bool(row.upper and row.upper.included), index))
    rows.sort(key=lambda r: (r[0] is not None, r[0] if r[0] is not None else 0, not r[1]))
    return rows, default


def _row_of_point(rows: list[Row], v: Any) -> int:
    """The interpreter's choice (`Compiler._grid`) for one value."""
    for low, low_in, high, high_in, index in rows:
        if low is not None and (v < low or (v == low and not low_in)):
            continue
        if high is not None and (v > high or (v == high and not high_in)):
            continue
        return index
    return GAP


def _row_of_stretch(rows: list[Row], below: Any, above: Any) -> int:
    """The row of every value strictly between two consecutive bounds (None: no bound on that side).

    Bounds of rows are among the points, so a row holds the whole stretch or none of it.
    """
    for low, _, high, _, index in rows:
        if low is not None and (below is None or low > below):
            continue
        if high is not None and (above is None or high < above):
            continue
        return index
    return GAP


def plan(grid: n.Grid) -> GridPlan:
    rows, default = _rows(grid)
    points = sorted({b for r in rows for b in (r[0], r[2]) if b is not None})
    edges: list[Any] = [None, *points, None]
    open_rows = [_row_of_stretch(rows, edges[i], edges[i + 1]) for i in range(len(points) + 1)]
    point_rows = [_row_of_point(rows, p) for p in points]
    side = None
    if all(point_rows[i] == open_rows[i + 1] for i in range(len(points))):
        side = "right"
    elif all(point_rows[i] == open_rows[i] for i in range(len(points))):
        side = "left"
    return GridPlan(tuple(points), tuple(open_rows), tuple(point_rows), side, default)
