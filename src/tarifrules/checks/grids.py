"""Grid checks: explicit bounds, no gap and no overlap at the datum's granularity, monotony.

Each row becomes an interval of the values it accepts. For a datum counted in whole
euros (or cents), the interval is reduced to the first and last values it really
accepts, so that `jusqu'à 622 € inclus` then `de 623 € …` leaves no gap for a CAF
quotient familial but does for a quotient computed to the cent.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from .. import nodes as n
from ..diagnostics import Diagnostic, error, warning
from ..evaluate import literal_value
from ..span import Span
from ..values import format_decimal, format_money, format_rate
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
    ambiguous = empty = False
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
        low = _position(row.lower.value) if row.lower else None
        high = _position(row.upper.value) if row.upper else None
        interval = Interval(row, low, bool(row.lower and row.lower.included), high,
                            bool(row.upper and row.upper.included))
        if low is not None and high is not None and (low > high or (low == high and not (
                interval.low_in and interval.high_in))):
            empty = True
            hint = (f"écrivez la plus petite borne en premier : « de {_show(row.upper.value)} à "  # type: ignore[union-attr]
                    f"{_show(row.lower.value)} … »" if low > high else  # type: ignore[union-attr]
                    "une tranche réduite à une seule valeur s'écrit avec deux bornes incluses")
            yield error("T016", f"la tranche « {_bound_text(row)} » de « {name} » ne contient aucune valeur",
                        _bounds_span(row), hint)
            continue
        intervals.append(interval)
    if ambiguous or empty or not intervals:
        return  # the trous and chevauchements would only repeat the error above
    selector = grid.selector.name if isinstance(grid.selector, n.Ref) else None
    step = context.step(selector) if selector in context.symbols.data else None
    if selector in context.symbols.data:
        low_domain, high_domain = context.domain(selector)
    else:  # a computed value, written in place or defined by another rule
        low_domain, high_domain = _computed_low(context, grid.selector), None
    if _is_date(intervals[0]):
        step, low_domain, high_domain = Decimal(1), None, None  # days; a date has no natural lower end
    yield from _coverage(name, selector, sorted(intervals, key=_order), step, low_domain, high_domain)
    yield from _monotony(name, sorted(intervals, key=_order), f"« {selector} »" if selector else None)


def _position(value: n.Number | n.DateLiteral | n.Bool) -> Any:
    """Where a bound sits on the selector's axis (a date counts in days)."""
    if isinstance(value, n.DateLiteral):
        return Decimal(value.value.toordinal())
    return literal_value(value)


def _is_date(interval: Interval) -> bool:
    bound = interval.row.lower or interval.row.upper
    return bound is not None and isinstance(bound.value, n.DateLiteral)


def _computed_low(context: Context, selector: n.Expr) -> Decimal | None:
    """0 when a computed selector provably never goes negative, else None (no lower end)."""
    return Decimal(0) if _never_negative(context, selector) else None


def _never_negative(context: Context, expr: n.Expr) -> bool:
    match expr:
        case n.Number(value=value):
            return value >= 0
        case n.Ref(name=name) if name in context.symbols.data:
            low, _ = context.domain(name)
            return low is not None and low >= 0
        case n.Ref(name=name):
            return all(_definition_never_negative(context, p.definition) for p in context.symbols.pieces.get(name, ()))
        case n.Arith(op=op, left=left, right=right) if op != "−":
            return _never_negative(context, left) and _never_negative(context, right)
        case n.Extremum(args=args):
            return all(_never_negative(context, a) for a in args)
        case n.Limit(kind="minimum", limit=limit) if _never_negative(context, limit):
            return True
        case n.Limit(expr=inner) | n.Round(expr=inner):
            return _never_negative(context, inner)
        case n.Default(expr=inner, fallback=fallback):
            return _never_negative(context, inner) and _never_negative(context, fallback)
    return False


def _definition_never_negative(context: Context, definition: n.Definition) -> bool:
    body = definition.body
    values: list[n.Expr] = [u.value for u in definition.unless]
    if isinstance(body, n.Grid):
        values += [row.value for row in body.rows]
    elif isinstance(body, n.Cases):
        values += [case.value for case in body.cases]
    else:
        values.append(body)
    return all(_never_negative(context, v) for v in values)


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
    first, _ = _first_last(intervals[0], step)
    starts_open = intervals[0].low is None
    if not starts_open and (low_domain is None or first > low_domain or (
            step is None and first == low_domain and not intervals[0].low_in)):
        lower = intervals[0].row.lower
        assert lower is not None
        below = f"jusqu'à {_show(lower.value)} inclus" if not intervals[0].low_in else f"sous {_show(lower.value)}"
        start = (f"commencez la première tranche à {_show_at(low_domain, lower.value)} ou écrivez « moins de … »"
                 if low_domain is not None else
                 "la valeur n'a pas de minimum connu : commencez la grille par « moins de … » ou « jusqu'à … »")
        yield error("T012", f"les tranches de « {name} » ne couvrent pas les valeurs {below}",
                    _bounds_span(intervals[0].row), start)
    for previous, current in itertools.pairwise(intervals):
        _, previous_last = _first_last(previous, step)
        current_first, _ = _first_last(current, step)
        if previous.high is None:
            yield _overlap(name, previous, current, current_first)
            continue
        if step is not None:
            if current_first is not None and current_first <= previous_last:
                yield _overlap(name, previous, current, current_first)
            elif current_first is not None and current_first > previous_last + step:
                hint = _centime_hint(selector, previous)
                if step == 1 and current.row.lower is not None:
                    hint = (f"« {selector} » se compte {_units(current.row.lower.value)} entiers : la tranche suivante "
                            f"doit commencer à {_show_at(previous_last + step, current.row.lower.value)}")
                yield _gap(name, previous, current, hint)
        else:
            if current.low < previous.high or (current.low == previous.high and current.low_in and previous.high_in):
                yield _overlap(name, previous, current, current.low)
            elif current.low > previous.high or (
                    current.low == previous.high and not (current.low_in or previous.high_in)):
                yield _gap(name, previous, current, _continuous_hint(selector, previous, current))
    last = intervals[-1]
    if last.high is not None and (high_domain is None or last.high < high_domain):
        upper = last.row.upper
        assert upper is not None
        beyond = (f"au-delà de {_show(upper.value)}" if last.high_in else f"à partir de {_show(upper.value)}")
        yield error("T012", f"les tranches de « {name} » ne couvrent pas les valeurs {beyond}",
                    _bounds_span(last.row), f"terminez la grille par une tranche « {beyond} : … »")


def _gap(name: str, previous: Interval, current: Interval, hint: str | None) -> Diagnostic:
    upper = previous.row.upper
    lower = current.row.lower
    assert upper is not None and lower is not None
    if previous.high == current.low:
        return error("T012", f"les tranches de « {name} » laissent un trou : {_show(upper.value)} n'est ni dans "
                     f"« {_bound_text(previous.row)} » ni dans « {_bound_text(current.row)} »",
                     _bounds_span(current.row), hint)
    left = f"{_show(upper.value)} {'inclus' if previous.high_in else 'exclu'}"
    right = f"{_show(lower.value)}{'' if current.low_in else ' exclu'}"
    return error("T012", f"les tranches de « {name} » laissent un trou entre {left} et {right}",
                 _bounds_span(current.row), hint)


def _bounds_span(row: n.GridRow) -> Span:
    """From the start of the row to its last bound: the part of the line a caret should mark."""
    last = row.upper or row.lower
    return row.span.to(last.span) if last is not None else row.span


def _overlap(name: str, previous: Interval, current: Interval, common: Any) -> Diagnostic:
    bound = current.row.lower or current.row.upper
    both = (f"{_show_at(common, bound.value)} est à la fois dans" if common is not None and bound is not None
            else "une même valeur tombe dans")
    return error("T013", f"les tranches de « {name} » se chevauchent : {both} « {_bound_text(previous.row)} » et "
                 f"« {_bound_text(current.row)} »", _bounds_span(current.row),
                 "une valeur ne doit tomber que dans une tranche : à la borne commune, écrivez « inclus » "
                 "d'un côté et « exclu » de l'autre")


def _monotony(name: str, intervals: list[Interval], grid_selector: str | None) -> Iterator[Diagnostic]:
    values = [i.row.value for i in intervals]
    if not all(isinstance(v, n.Number) for v in values) or len(values) < 3:
        return
    amounts: list[Any] = [literal_value(v) for v in values if isinstance(v, n.Number)]
    steps = [b - a for a, b in itertools.pairwise(amounts)]
    rising = any(s > 0 for s in steps)
    falling = any(s < 0 for s in steps)
    if rising and falling:
        turn = next(i for i in range(1, len(steps))
                    if (steps[i] < 0 < max(steps[:i])) or (steps[i] > 0 > min(steps[:i])))
        before, row = intervals[turn].row, intervals[turn + 1].row
        goes_down = steps[turn] < 0
        change = "monte puis redescend" if goes_down else "descend puis remonte"
        selector = grid_selector or "la donnée"
        yield warning("T015", f"la grille « {name} » {change} : {_show(before.value)} pour « {_bound_text(before)} », "  # type: ignore[arg-type]
                      f"puis {_show(row.value)} pour « {_bound_text(row)} »", row.span,  # type: ignore[arg-type]
                      f"vérifiez cette valeur : une valeur plus élevée de {selector} donnerait un résultat plus "
                      f"{'bas' if goes_down else 'haut'} ; si c'est voulu, ignorez cet avertissement")


def _continuous_hint(selector: str | None, previous: Interval, current: Interval) -> str:
    """Where the next tranche should start when the datum takes any decimal value."""
    upper = previous.row.upper
    assert upper is not None
    who = f"« {selector} » peut prendre toute valeur décimale" if selector else "la valeur est calculée"
    if current.low == previous.high:
        return (f"{who} : {_show(upper.value)} n'a pas de tranche ; écrivez « {_show(upper.value)} inclus » "
                "dans l'une des deux tranches")
    start = f"{_show(upper.value)} exclu" if previous.high_in else _show(upper.value)
    return f"{who} : faites commencer la tranche suivante à {start}"


def _centime_hint(selector: str | None, previous: Interval) -> str | None:
    """A datum counted in cents falls between `… à 485 € inclus` and `de 486 € …`: say which value has no tarif."""
    upper = previous.row.upper
    if upper is None or previous.high is None:
        return None
    between = _show_at(previous.high + Decimal("0.5"), upper.value)
    bound = _show(upper.value)
    return (f"« {selector} » est au centime : une valeur comme {between.removesuffix(' €')} n'a pas de tarif ; "
            f"écrivez « de {bound} exclu à … » ou « plus de {bound} », ou déclarez la donnée « montant entier » "
            "si sa source est en euros entiers")


def _units(like: n.Number | n.DateLiteral | n.Bool) -> str:
    if not isinstance(like, n.Number):
        return "en jours"
    return {n.Unit.EURO: "en euros", n.Unit.PERCENT: "en points de pourcentage"}.get(like.unit, "en nombres")


def _show_at(value: Any, like: n.Number | n.DateLiteral | n.Bool) -> str:
    """A computed value of a grid's selector, written with the unit of the grid's bounds."""
    if isinstance(like, n.DateLiteral):
        return datetime.date.fromordinal(int(value)).strftime("%d/%m/%Y")
    assert isinstance(like, n.Number)
    written = value * 100 if like.unit is n.Unit.PERCENT else value
    return _show(n.Number(written, like.unit))


def _show(number: n.Number | n.DateLiteral | n.Bool) -> str:
    if isinstance(number, n.DateLiteral):
        return number.value.strftime("%d/%m/%Y")
    if isinstance(number, n.Bool):
        return "oui" if number.value else "non"
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
