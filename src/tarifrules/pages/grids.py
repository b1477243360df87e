"""The grids of a rule file as tables: each tranche in words, and its price from the evaluator.

A tranche is shown as written (« de 400 € à 700 € exclu ») and, when the selector is a
datum with a granularity, as the first and last values it really contains (« de 400 € à
699 € »). The price is what the evaluator gives for the grid at the tranche's first
value, so the table cannot disagree with an evaluation; a price that depends on other
data is shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import nodes as n
from ..checks.context import Context
from ..checks.grids import _bound_text
from ..diagnostics import TarifError
from ..evaluate import NOT_APPLICABLE, Compiler, Env
from ..formatter import _chain
from ..ruleset import RuleSet
from ..values import UNKNOWN, format_decimal, spell

__all__ = ["GridTable", "Tranche", "grid_tables", "tranche_values"]


@dataclass(frozen=True)
class Tranche:
    written: str  # « de 400 € à 700 € exclu »
    first: Decimal | None  # first value the tranche holds (None: « à défaut »)
    last: Decimal | None  # last value (None: no upper bound)
    words: str  # « de 400 € à 699 € », « 1 700 € et plus », « quotient inconnu »
    price: str  # the evaluator's value, French spelling, or the rule as written
    value: Any  # the evaluator's value (None when not computed)


@dataclass(frozen=True)
class GridTable:
    article: n.Article
    name: str
    selector: str  # the selector as written
    tranches: tuple[Tranche, ...]


def grid_tables(ruleset: RuleSet) -> list[GridTable]:
    context = Context(ruleset.program, ruleset.symbols, dict(ruleset.kinds.names))
    compiler = Compiler(ruleset.symbols)
    tables = []
    for article in ruleset.program.articles:
        for definition in article.definitions:
            if isinstance(definition.body, n.Grid):
                grid = definition.body
                rows = tranche_values(ruleset, context, compiler, definition.name, grid)
                tables.append(GridTable(article, definition.name, _chain(grid.selector), tuple(rows)))
    return tables


def _unit(ruleset: RuleSet, name: str) -> str | None:
    kind = ruleset.kinds.names.get(name)
    return n.UNIT_OF_KIND.get(kind) if kind else None


def tranche_values(ruleset: RuleSet, context: Context, compiler: Compiler, name: str,
                   grid: n.Grid) -> list[Tranche]:
    selector = grid.selector.name if isinstance(grid.selector, n.Ref) else None
    is_datum = selector is not None and selector in ruleset.symbols.data
    step = context.step(selector) if is_datum else None
    low_domain = context.domain(selector)[0] if is_datum and selector else None
    evaluate = compiler.body(grid)
    unit = _unit(ruleset, name)
    rows = []
    for row in grid.rows:
        if row.form is n.BoundForm.DEFAULT:
            first = last = None
            words = f"{selector.replace('_', ' ') if selector else 'valeur'} non communiqué"
            value = _run(evaluate, {}, selector, None, is_datum)
        else:
            first, last = _extent(row, step, low_domain)
            words = _words(first, last, row, step)
            value = _run(evaluate, {}, selector, first, is_datum) if first is not None and selector else None
        price = spell(value, unit) if value is not None else _chain(row.value)
        rows.append(Tranche("à défaut" if row.form is n.BoundForm.DEFAULT else _bound_text(row),
                            first, last, words, price, value))
    return rows


def _run(evaluate: Any, data: dict[str, Any], selector: str | None, at: Decimal | None, is_datum: bool) -> Any:
    env = Env(dict(data))
    if selector is not None and at is not None:
        if is_datum:
            env.data[selector] = at
        else:
            env.cache[selector] = at  # a computed selector: the grid alone, at this value
    try:
        value = evaluate(env)
    except (TarifError, ArithmeticError, KeyError):
        return None
    return None if value is UNKNOWN or value is NOT_APPLICABLE else value


def _literal(bound: n.Bound | None) -> Decimal | None:
    if bound is None:
        return None
    number = bound.value
    if number.unit is n.Unit.PERCENT:
        return number.value / 100
    return number.value


def _extent(row: n.GridRow, step: Decimal | None, low_domain: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """First and last value of a tranche at the datum's granularity (a continuous datum: as written)."""
    nudge = step if step is not None else Decimal(0)
    low, high = _literal(row.lower), _literal(row.upper)
    first = last = None
    if low is not None and row.lower is not None:
        first = low if row.lower.included else low + nudge
    elif low_domain is not None:
        first = low_domain
    if high is not None and row.upper is not None:
        last = high if row.upper.included else high - nudge
    if first is None and last is not None:
        first = last if step is None else None
    return first, last


def _words(first: Decimal | None, last: Decimal | None, row: n.GridRow, step: Decimal | None) -> str:
    unit = " €" if (row.lower or row.upper) and (row.lower or row.upper).value.unit is n.Unit.EURO else ""  # type: ignore[union-attr]

    def show(value: Decimal) -> str:
        return f"{format_decimal(value, min_places=2 if value != value.to_integral_value() else 0)}{unit}"

    if step is None:
        return _bound_text(row)
    if first is not None and last is not None:
        return f"de {show(first)} à {show(last)}" if first != last else show(first)
    if first is not None:
        return f"{show(first)} et plus"
    if last is not None:
        return f"jusqu'à {show(last)}"
    return _bound_text(row)
