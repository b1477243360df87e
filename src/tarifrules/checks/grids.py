"""Grid checks: explicit bounds, no gap and no overlap at the datum's granularity, monotony.

Each row becomes an interval of the values it accepts. For a datum counted in whole
euros (or cents), the interval is reduced to the first and last values it really
accepts, so that `jusqu'à 622 € inclus` then `de 623 € …` leaves no gap for a CAF
quotient familial but does for a quotient computed to the cent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from .. import nodes as n
from ..diagnostics import Diagnostic, error, warning
from ..evaluate import literal_value
from ..values import format_decimal, format_money, format_rate
from ..span import Span
from .context import Context


@dataclass(frozen=True)
class Interval:
    row: n.GridRow
    low: Any  # None: unbounded below
    low_in: bool
    high: Any  # None: unbounded above
    high_in: bool


def check_grids(context: Context) -> Iterator[Diagnostic]:
    for article in context.program.articles:
        for definition in article.definitions:
            grids = [definition.body] if isinstance(definition.body, n.Grid) else []
            for grid in grids:
                yield from _check_grid(context, definition.name, grid)


def _check_grid(context: Context, name: str, grid: n.Grid) -> Iterator[Diagnostic]:
    ambiguous = False
    intervals: list[Interval] = []
    for row in grid.rows:
        if row.form is n.BoundForm.DEFAULT:
            continue
        for bound in (row.lower, row.upper):
            if bound is not None and bound.included is None:
                ambiguous = True
                yield error("T014", f"la borne {_show(bound.value)} de « {name} » ne dit pas si elle est "
                            "incluse ou exclue", bound.span,
                            f"écrivez « {_show(bound.value)} inclus » ou « {_show(bound.value)} exclu »")
        if ambiguous:
            continue
        low = literal_value(row.lower.value) if row.lower else None
        high = literal_value(row.upper.value) if row.upper else None
        interval = Interval(row, low, bool(row.lower and row.lower.included), high,
                            bool(row.upper and row.upper.included))
        if low is not None and high is not None and (low > high or (low == high and not (
                interval.low_in and interval.high_in))):
            yield error("T016", f"la tranche « {_bound_text(row)} » de « {name} » ne contient aucune valeur",
                        row.span, "vérifiez l'ordre des bornes")
            continue
        intervals.append(interval)
    if ambiguous or not intervals:
        return
    selector = grid.selector.name if isinstance(grid.selector, n.Ref) else None
    step = context.step(selector) if selector in context.symbols.data else None
    low_domain, high_domain = context.domain(selector) if selector else (Decimal(0), None)
    if isinstance(literal_value(intervals[0].row.lower.value if intervals[0].row.lower else
                                intervals[0].row.upper.value), (bool,)) or (
            selector and context.kind(selector) is n.Kind.DATE):
        return  # date grids: bounds are checked for order only
    yield from _coverage(name, selector, sorted(intervals, key=_order), step, low_domain, high_domain)
    yield from _monotony(name, sorted(intervals, key=_order))


def _order(interval: Interval) -> tuple[bool, Any, bool]:
    return (interval.low is not None, interval.low if interval.low is not None else 0, not interval.low_in)


def _first_last(interval: Interval, step: Decimal | None) -> tuple[Any, Any]:
    """Smallest and largest accepted values on the datum's grid (None: unbounded)."""
    if step is None:
        return interval.low, interval.high
    first = last = None
    if interval.low is not None:
        first = (interval.low / step).to_integral_value(ROUND_CEILING) * step
        if first == interval.low and not interval.low_in:
            first += step
    if interval.high is not None:
        last = (interval.high / step).to_integral_value(ROUND_FLOOR) * step
        if last == interval.high and not interval.high_in:
            last -= step
    return first, last


def _coverage(name: str, selector: str | None, intervals: list[Interval], step: Decimal | None,
              low_domain: Any, high_domain: Any) -> Iterator[Diagnostic]:
    unit_kind = intervals[0].row
    granularity_hint = _granularity_hint(selector, step)
    first, _ = _first_last(intervals[0], step)
    starts_open = intervals[0].low is None
    if not starts_open and low_domain is not None and (
            first > low_domain or (step is None and first == low_domain and not intervals[0].low_in)):
        yield error("T012", f"les tranches de « {name} » ne couvrent pas les valeurs sous "
                    f"{_show(intervals[0].row.lower.value)}", intervals[0].row.span,  # type: ignore[union-attr]
                    f"commencez la première tranche à {_zero(unit_kind)} ou écrivez « moins de … »")
    for previous, current in zip(intervals, intervals[1:], strict=False):
        _, previous_last = _first_last(previous, step)
        current_first, _ = _first_last(current, step)
        if previous.high is None:
            yield _overlap(name, previous, current)
            continue
        if step is not None:
            if current_first is not None and current_first <= previous_last:
                yield _overlap(name, previous, current)
            elif current_first is not None and current_first > previous_last + step:
                yield _gap(name, previous, current, granularity_hint)
        else:
            if current.low < previous.high or (current.low == previous.high and current.low_in and previous.high_in):
                yield _overlap(name, previous, current)
            elif current.low > previous.high or (current.low == previous.high and not (current.low_in or previous.high_in)):
                yield _gap(name, previous, current, granularity_hint)
    last = intervals[-1]
    if last.high is not None and (high_domain is None or last.high < high_domain):
        yield error("T012", f"les tranches de « {name} » ne couvrent pas les valeurs au-delà de "
                    f"{_show(last.row.upper.value)}", last.row.span,  # type: ignore[union-attr]
                    f"terminez la grille par « au-delà de {_show(last.row.upper.value)} » ou « à partir de … »")  # type: ignore[union-attr]


def _gap(name: str, previous: Interval, current: Interval, hint: str | None) -> Diagnostic:
    upper = previous.row.upper
    lower = current.row.lower
    assert upper is not None and lower is not None
    left = f"{_show(upper.value)} {'inclus' if previous.high_in else 'exclu'}"
    right = f"{_show(lower.value)}{'' if current.low_in else ' exclu'}"
    return error("T012", f"les tranches de « {name} » laissent un trou entre {left} et {right}",
                 _bounds_span(current.row), hint)


def _bounds_span(row: n.GridRow) -> Span:
    """From the start of the row to its last bound: the part of the line a caret should mark."""
    last = row.upper or row.lower
    return row.span.to(last.span) if last is not None else row.span


def _overlap(name: str, previous: Interval, current: Interval) -> Diagnostic:
    return error("T013", f"les tranches de « {name} » se chevauchent : « {_bound_text(previous.row)} » et "
                 f"« {_bound_text(current.row)} »", _bounds_span(current.row),
                 "une valeur ne doit tomber que dans une tranche : précisez « inclus » / « exclu »")


def _monotony(name: str, intervals: list[Interval]) -> Iterator[Diagnostic]:
    values = [i.row.value for i in intervals]
    if not all(isinstance(v, n.Number) for v in values) or len(values) < 3:
        return
    amounts = [literal_value(v) for v in values]  # type: ignore[arg-type]
    steps = [b - a for a, b in zip(amounts, amounts[1:], strict=False)]
    rising = any(s > 0 for s in steps)
    falling = any(s < 0 for s in steps)
    if rising and falling:
        turn = next(i for i in range(1, len(steps)) if (steps[i] < 0 < max(steps[:i])) or (steps[i] > 0 > min(steps[:i])))
        row = intervals[turn + 1].row
        yield warning("T015", f"la grille « {name} » n'est pas monotone : la valeur monte puis descend "
                      f"(ou l'inverse) à la tranche « {_bound_text(row)} »", row.span,
                      "vérifiez le montant de cette tranche : une famille au quotient plus élevé paierait moins")


def _granularity_hint(selector: str | None, step: Decimal | None) -> str | None:
    if selector is None:
        return "la valeur est calculée : toute valeur décimale doit trouver sa tranche"
    if step == Decimal(1):
        return f"« {selector} » est un nombre entier : faites commencer la tranche suivante juste après la précédente"
    if step == Decimal("0.01"):
        return (f"« {selector} » est au centime : une valeur comme 485,50 n'a pas de tarif ; écrivez « de 485 € exclu "
                "à … » ou « plus de 485 € », ou déclarez la donnée « montant entier » si sa source est en euros entiers")
    return f"« {selector} » peut prendre toute valeur décimale : reprenez la borne précédente en « exclu »"


def _zero(_: Any) -> str:
    return "0"


def _show(number: n.Number) -> str:
    if number.unit is n.Unit.EURO:
        return format_money(number.value) if number.value != number.value.to_integral_value() else \
            f"{format_decimal(number.value)} €"
    if number.unit is n.Unit.PERCENT:
        return format_rate(number.value / 100)
    return format_decimal(number.value)


def _bound_text(row: n.GridRow) -> str:
    lower, upper = row.lower, row.upper
    if row.form is n.BoundForm.RANGE and lower and upper:
        low_word = "" if lower.written is False else (" inclus" if lower.included else " exclu")
        high_word = "" if upper.included is None else (" inclus" if upper.included else " exclu")
        return f"de {_show(lower.value)}{low_word} à {_show(upper.value)}{high_word}"
    if row.form is n.BoundForm.UP_TO and upper:
        return f"jusqu'à {_show(upper.value)}" + ("" if upper.included is None else
                                                   (" inclus" if upper.included else " exclu"))
    bound = lower or upper
    assert bound is not None
    return f"{row.form.value} {_show(bound.value)}"
