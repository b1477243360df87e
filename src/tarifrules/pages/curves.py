"""Each output against the quotient familial, computed by the evaluator.

Nothing here knows a tariff: the points are `RuleSet.evaluate` results for households
that differ only by the axis datum (the quotient familial when the rules read one), one
series per case of the other data the output reads (job seeker or not, rank of the
child…). Sample points are the thresholds the rules write (and the value just below
each, at the datum's granularity) plus an even spread, so every tranche is seen and a
taux d'effort reads as a line.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import nodes as n
from ..catalogue import load_catalogue
from ..checks.context import Context
from ..checks.solver import candidates
from ..diagnostics import TarifError
from ..ruleset import RuleSet
from ..scopes import mentioned_data
from ..values import spell

__all__ = ["Curve", "Series", "axis_datum", "curves", "label_of", "series_for"]

MAX_SERIES = 8
SPREAD = 240  # evenly spaced sample points over the axis
_NUMERIC_OUTPUTS = (n.Kind.MONTANT, n.Kind.TAUX, n.Kind.DECIMAL, n.Kind.NOMBRE)
_NUMERIC_DATA = (n.Kind.MONTANT, n.Kind.NOMBRE, n.Kind.DECIMAL)


@dataclass(frozen=True)
class Series:
    """One case (other data fixed) and the output's value at each sample point (None: indéterminé)."""

    label: str
    case: tuple[tuple[str, Any], ...]
    points: tuple[tuple[Decimal, Decimal | None], ...]


@dataclass(frozen=True)
class Curve:
    output: str
    unit: str | None  # "€", "%" or None
    axis: str  # the datum on the horizontal axis
    axis_label: str
    value_label: str
    step: Decimal  # granularity of the axis datum
    series: tuple[Series, ...]
    fixed: tuple[tuple[str, Any], ...]  # data held at one value in every series
    identical: int  # cases left out because they give the same points as a drawn one


def label_of(declaration: n.Declaration) -> str:
    """« quotient familial » for `quotient_familial` (the name a reader recognises)."""
    return declaration.name.replace("_", " ")


def axis_datum(ruleset: RuleSet, output: str) -> str | None:
    """The quotient familial the output reads, else its first numeric datum (None: no chart)."""
    catalogue = load_catalogue()
    numeric = [d for d in ruleset.program.data if d.name in mentioned_data(ruleset, output)
               and d.type.kind in _NUMERIC_DATA]

    def is_quotient(declaration: n.Declaration) -> bool:
        entry = catalogue.lookup(declaration.description or "")
        named = entry.name if entry is not None else declaration.description or ""
        return "quotient" in declaration.name.lower() or "quotient" in named.lower()

    preferred = [d for d in numeric if is_quotient(d)]
    chosen = (preferred or numeric)[:1]
    return chosen[0].name if chosen else None


def curves(ruleset: RuleSet) -> list[Curve]:
    """One curve per numeric output that depends on a numeric datum."""
    found = []
    for declaration in ruleset.program.outputs:
        if declaration.type.kind not in _NUMERIC_OUTPUTS:
            continue
        axis = axis_datum(ruleset, declaration.name)
        if axis is not None:
            curve = series_for(ruleset, declaration, axis)
            if curve is not None:
                found.append(curve)
    return found


def _context(ruleset: RuleSet) -> Context:
    return Context(ruleset.program, ruleset.symbols, dict(ruleset.kinds.names))


def sample_points(ruleset: RuleSet, axis: str, cases: Sequence[dict[str, Any]], output: str) -> list[Decimal]:
    context = _context(ruleset)
    step = context.step(axis) or Decimal("0.01")
    low, high = context.domain(axis)
    low = low if low is not None else Decimal(0)
    marks = [v for v in candidates(context, axis) if isinstance(v, Decimal)]
    if len(marks) > 1:
        top = max(marks) * Decimal("1.25")
    else:  # no threshold written (a taux d'effort): go right until the output stops changing
        top = Decimal(2000)
        while top < 64000 and any(_value(ruleset, output, {**c, axis: top}) !=
                                  _value(ruleset, output, {**c, axis: top * 2}) for c in cases):
            top *= 2
    top = _nice_ceiling(top)
    if high is not None:
        top = min(top, high)
    spread = {(low + (top - low) * i / SPREAD).quantize(step) for i in range(SPREAD + 1)}
    return sorted(v for v in spread | set(marks) if low <= v <= top)


def _nice_ceiling(value: Decimal) -> Decimal:
    """100, 200, 250, 500 × a power of ten, at or above `value`."""
    power = Decimal(1)
    while power * 10 <= value:
        power *= 10
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        if power * factor >= value:
            return power * factor
    return power * 10  # pragma: no cover


def _value(ruleset: RuleSet, output: str, situation: dict[str, Any]) -> Decimal | None:
    try:
        result = ruleset.evaluate(situation, date=ruleset.valid_from).outputs[output]
    except (TarifError, ArithmeticError):
        return None
    value = result.value
    if result.status != "value" or isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        return None
    return Decimal(value)


def _cases(ruleset: RuleSet, output: str, axis: str) -> tuple[list[dict[str, Any]], tuple[tuple[str, Any], ...]]:
    """Combinations of the other data's meaningful values; beyond MAX_SERIES, later data stay fixed."""
    context = _context(ruleset)
    mentioned = mentioned_data(ruleset, output)
    varying: list[tuple[str, list[Any]]] = []
    fixed: list[tuple[str, Any]] = []
    total = 1
    for declaration in ruleset.program.data:
        if declaration.name == axis or declaration.name not in mentioned:
            continue
        values = candidates(context, declaration.name)
        if not values:
            continue
        if total * len(values) <= MAX_SERIES:
            varying.append((declaration.name, values))
            total *= len(values)
        else:
            fixed.append((declaration.name, values[0]))
    combos = [dict(zip([name for name, _ in varying], values, strict=True))
              for values in itertools.product(*(values for _, values in varying))]
    return [{**combo, **dict(fixed)} for combo in combos], tuple(fixed)


def series_for(ruleset: RuleSet, declaration: n.Declaration, axis: str) -> Curve | None:
    output = declaration.name
    cases, fixed = _cases(ruleset, output, axis)
    xs = sample_points(ruleset, axis, cases, output)
    drawn: list[Series] = []
    identical = 0
    for case in cases:
        points = tuple((x, _value(ruleset, output, {**case, axis: x})) for x in xs)
        if all(y is None for _, y in points):
            continue
        if any(s.points == points for s in drawn):
            identical += 1
            continue
        varying = [(name, value) for name, value in case.items() if name not in dict(fixed)]
        label = " ; ".join(f"{name.replace('_', ' ')} : {spell(value)}" for name, value in varying) or "tous les cas"
        drawn.append(Series(label, tuple(sorted(case.items())), points))
    if not drawn:
        return None
    context = _context(ruleset)
    axis_declaration = ruleset.symbols.data[axis]
    unit = n.UNIT_OF_KIND.get(declaration.type.kind)
    axis_unit = " (€)" if axis_declaration.type.kind is n.Kind.MONTANT else ""
    described = (declaration.description or output.replace("_", " ")).strip()
    value_label = described[:1].upper() + described[1:] + (f" ({unit})" if unit else "")
    axis_text = label_of(axis_declaration)
    return Curve(output, unit, axis, axis_text[:1].upper() + axis_text[1:] + axis_unit, value_label,
                 context.step(axis) or Decimal("0.01"), tuple(drawn), fixed, identical)
