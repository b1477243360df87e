"""Worked examples written in rule files (`exemple … attendu …`), and their runner.

An example is evaluated at the start of the file's validity unless it gives its own
date (`évalué le JJ/MM/AAAA`). Its data go through the same situation reader as any
caller's, so an example is also a test of the JSON contract.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import nodes as n
from .diagnostics import Diagnostic, TarifError, error
from .values import format_decimal

if TYPE_CHECKING:
    from .ruleset import RuleSet


def raw_value(value: n.ExampleValue) -> Any:
    """An example value as a caller would give it in a situation (None: unknown)."""
    match value:
        case n.Number(value=number):
            return number
        case n.Bool(value=flag):
            return flag
        case n.DateLiteral(value=day):
            return day
        case n.Word(text=text):
            return text
        case n.UnknownValue():
            return None
    raise AssertionError(value)  # pragma: no cover


def example_situation(example: n.Example) -> dict[str, Any]:
    return {a.name: raw_value(a.value) for line in example.lines if isinstance(line, n.ExampleData)
            for a in line.assignments}


def example_date(example: n.Example, default: datetime.date) -> datetime.date:
    dates = [line.value for line in example.lines if isinstance(line, n.ExampleDate)]
    return dates[-1] if dates else default


def expectations(example: n.Example) -> list[n.Expectation]:
    return [line for line in example.lines if isinstance(line, n.Expectation)]


def show_expected(value: n.ExampleValue | None) -> str:
    match value:
        case None:
            return "indéterminé"
        case n.Number(value=number, unit=unit):
            text = format_decimal(number, min_places=2 if unit is n.Unit.EURO else 0)
            return f"{text} {unit.value}".strip()
        case n.Bool(value=flag):
            return "oui" if flag else "non"
        case n.DateLiteral(value=day):
            return day.strftime("%d/%m/%Y")
        case n.Word(text=text):
            return text
    return "inconnu"


def matches(expected: n.ExampleValue | None, status: str, value: Any) -> bool:
    if expected is None:
        return status == "unknown"
    if status != "value":
        return False
    match expected:
        case n.Number(value=number, unit=n.Unit.PERCENT):
            return isinstance(value, Decimal) and value == number
        case n.Number(value=number):
            return isinstance(value, (Decimal, int)) and not isinstance(value, bool) and value == number
        case n.Bool(value=flag):
            return value is flag
        case n.DateLiteral(value=day):
            return bool(value == day)
        case n.Word(text=text):
            return bool(value == text)
    return False


@dataclass(frozen=True)
class ExampleResult:
    example: n.Example
    failures: tuple[Diagnostic, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def run_example(ruleset: RuleSet, example: n.Example) -> ExampleResult:
    try:
        evaluation = ruleset.evaluate(example_situation(example),
                                      date=example_date(example, ruleset.valid_from))
    except TarifError as exc:
        dates = [line for line in example.lines if isinstance(line, n.ExampleDate)]
        located = tuple(
            d if d.span.line else
            error(d.code, d.message, dates[-1].span, "changez la date « évalué le … » de l'exemple : elle doit "
                  "tomber dans la période d'application") if d.code == "E001" and dates else
            error(d.code, d.message, example.span, d.hint) for d in exc.diagnostics
        )
        return ExampleResult(example, located)
    failures = []
    for expectation in expectations(example):
        output = evaluation.outputs.get(expectation.name)
        if output is None:
            failures.append(error("X002", f"« {expectation.name} » n'est pas un résultat du fichier",
                                  expectation.span, "déclarez-le dans « résultats »"))
            continue
        if not matches(expectation.value, output.status, output.value):
            got = output.display()
            if output.status != "value":
                missing = evaluation.missing_for(expectation.name)
                if missing:
                    got += f" (manque : {', '.join(missing)})"
            failures.append(error(
                "X001", f"exemple « {example.title} » : {expectation.name} attendu {show_expected(expectation.value)}"
                f", obtenu {got}", expectation.span, "comparez avec l'explication : tarifrules explain"))
    return ExampleResult(example, tuple(failures))


def run_examples(ruleset: RuleSet) -> list[ExampleResult]:
    return [run_example(ruleset, example) for example in ruleset.program.examples]
