"""What would change a result: the neighbouring cases, found by evaluating them.

For each datum of the household that the evaluator read, other values are tried with
everything else unchanged: for a number, the values around each threshold the rules
write (`checks.solver.candidates`), grouped into ranges that give the same result, of
which the range just below and the range just above the household's are kept; for a
yes/no or a list, each other value. Nothing is assumed about the tariff: every sentence
reports an evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import nodes as n
from ..checks.context import Context
from ..checks.solver import candidates
from ..diagnostics import TarifError
from ..ruleset import Evaluation
from ..values import format_decimal, spell

__all__ = ["Alternative", "alternatives"]


@dataclass(frozen=True)
class Alternative:
    output: str
    datum: str
    condition: str  # « avec un quotient familial inférieur à 400 € »
    display: str  # « 1,00 € »

    def sentence(self, label: str) -> str:
        return f"{self.condition}, {label} serait de {self.display}"


def _label(datum: str) -> str:
    return datum.replace("_", " ")


def _amount(value: Decimal, money: bool) -> str:
    text = format_decimal(value, min_places=2 if value != value.to_integral_value() else 0)
    return f"{text} €" if money else text


def alternatives(evaluation: Evaluation, read: set[str]) -> list[Alternative]:
    """Other results: for each datum in `read` given by the household, and each missing datum that decides."""
    ruleset = evaluation.ruleset
    context = Context(ruleset.program, ruleset.symbols, dict(ruleset.kinds.names))
    found: list[Alternative] = []
    for datum in ruleset.data_names:
        declaration = ruleset.symbols.data[datum]
        values = candidates(context, datum)
        if datum in evaluation.missing and declaration.type.kind in (n.Kind.BOOLEEN, n.Kind.ENUM):
            for other in values:  # a missing datum that decides: each of its values
                found += _compare(evaluation, datum, other, f"si {_label(datum)} était « {spell(other)} »")
            continue
        if datum not in read or datum not in evaluation.data:
            continue
        current = evaluation.data[datum]
        if declaration.type.kind in (n.Kind.BOOLEEN, n.Kind.ENUM):
            for other in values:
                if other != current:
                    found += _compare(evaluation, datum, other, f"si {_label(datum)} était « {spell(other)} »")
        elif isinstance(current, (Decimal, int)) and len(values) > 1:
            found += _neighbours(evaluation, context, datum, [v for v in values if isinstance(v, Decimal)],
                                 declaration.type.kind is n.Kind.MONTANT)
    return found


def _outputs(evaluation: Evaluation, datum: str, value: Any) -> dict[str, str] | None:
    situation = {**evaluation.data, datum: value}
    try:
        other = evaluation.ruleset.evaluate(situation, date=evaluation.date)
    except (TarifError, ArithmeticError):
        return None
    return {name: output.display() for name, output in other.outputs.items()}


def _compare(evaluation: Evaluation, datum: str, value: Any, condition: str) -> list[Alternative]:
    shown = _outputs(evaluation, datum, value)
    if shown is None:
        return []
    return [Alternative(name, datum, condition, display) for name, display in shown.items()
            if display not in ("indéterminé", evaluation.outputs[name].display())]


def _neighbours(evaluation: Evaluation, context: Context, datum: str, values: list[Decimal],
                money: bool) -> list[Alternative]:
    """The ranges of `datum` just below and just above the household's, when they give another result."""
    step = context.step(datum) or Decimal("0.01")
    current = Decimal(evaluation.data[datum])
    points = sorted(set(values) | {current})
    results = {value: _outputs(evaluation, datum, value) for value in points}
    found: list[Alternative] = []
    for name, output in evaluation.outputs.items():
        if output.status != "value":
            continue
        ranges: list[tuple[Decimal, Decimal, str | None]] = []  # first, last, result
        for value in points:
            shown = results[value]
            result = shown[name] if shown else None
            if ranges and ranges[-1][2] == result:
                ranges[-1] = (ranges[-1][0], value, result)
            else:
                ranges.append((value, value, result))
        here = next(i for i, (low, high, _) in enumerate(ranges) if low <= current <= high)
        low_bound = points[0]
        for index in (here - 1, here + 1):
            if not 0 <= index < len(ranges) or ranges[index][2] in (None, output.display()):
                continue
            first, _, result = ranges[index]
            assert result is not None
            last = ranges[index + 1][0] - step if index + 1 < len(ranges) else None
            if last is None:
                words = f"d'au moins {_amount(first, money)}"
            elif first == last:
                words = f"égal à {_amount(first, money)}"
            elif index == 0 and first == low_bound:
                words = f"inférieur à {_amount(last + step, money)}"
            else:
                words = f"compris entre {_amount(first, money)} et {_amount(last, money)}"
            found.append(Alternative(name, datum, f"avec un {_label(datum)} {words}", result))
    return found
