"""The three evaluation paths agree: interpreter, compiled `evaluate`, `function`.

On every example file and on generated well-typed files (the fuzzing generator of
tests/test_fuzz.py), for generated households — right values, wrong values, unknown
keys, numbers next to every threshold the file writes, huge numbers — and dates:

* `RuleSet.evaluate` (generated code) gives the same outputs as `RuleSet.interpret` (the
  reference closures): status, value, its type and its spelling (`1.50` is not `1.5`),
  unit; or the same errors (codes, messages, hints);
* `RuleSet.function(name)(**situation)` gives, for each output, the value the
  interpreter gives for that output alone (`INCONNU` when indéterminé), or its errors.

`TARIF_FUZZ_SCALE=20 pytest tests/test_compiled_properties.py` runs twenty times more.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tarifrules
from tarifrules import INCONNU, RuleSet, TarifError
from tarifrules import nodes as n
from tarifrules.evaluate import Env

from .test_fuzz import FILES, evaluation_dates, random_programs, right_values, situations, wrong_values

SCALE = int(os.environ.get("TARIF_FUZZ_SCALE", "1"))


def agreement_settings(examples: int) -> settings:
    return settings(max_examples=examples * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


Outcome = tuple[str, Any]


def outcome(call: Callable[[], Any]) -> Outcome:
    try:
        return "ok", call()
    except TarifError as exc:
        return "error", [(d.code, d.message, d.hint) for d in exc.diagnostics]


def shown(value: Any) -> tuple[str, str]:
    """A value with its type and spelling: equal values written differently differ here."""
    return type(value).__name__, str(value)


def outputs_of(evaluation: tarifrules.Evaluation) -> dict[str, Any]:
    return {name: (o.status, shown(o.value), o.unit) for name, o in evaluation.outputs.items()}


def interpreted_output(rules: RuleSet, situation: dict[str, Any], date: Any, name: str) -> Any:
    """The interpreter's value for one output alone (what `function(name)` must give)."""
    day = rules._check_date(date)
    data, _ = rules._read(situation, day)
    fn, make = {output: (fn, make) for output, fn, make in rules._outputs}[name]
    result = make(fn(Env(data)))
    return shown(result.value if result.status == "value" else INCONNU)


def assert_paths_agree(rules: RuleSet, situation: dict[str, Any], date: Any) -> None:
    reference = outcome(lambda: outputs_of(rules.interpret(situation, date=date)))
    assert outcome(lambda: outputs_of(rules.evaluate(situation, date=date))) == reference, (situation, date)
    functions = outcome(lambda: {name: rules.function(name, date=date) for name in rules.output_names})
    if functions[0] == "error":  # the date: refused the same way
        assert reference == functions, (situation, date)
        return
    for name, function in functions[1].items():
        expected = outcome(lambda name=name: interpreted_output(rules, situation, date, name))  # type: ignore[misc]
        assert outcome(lambda f=function: shown(f(**situation))) == expected, (name, situation, date)  # type: ignore[misc]


# ------------------------------------------------------------------ households next to the file's numbers


def written_numbers(rules: RuleSet) -> list[Decimal]:
    found = {node.value for article in rules.program.articles for definition in article.definitions
             for part in n.definition_parts(definition) for node in n.walk(part) if isinstance(node, n.Number)}
    found |= {bound.value.value for article in rules.program.articles for definition in article.definitions
              if isinstance(definition.body, n.Grid) for row in definition.body.rows
              for bound in (row.lower, row.upper) if bound is not None}
    return sorted(found)


def near_values(rules: RuleSet) -> st.SearchStrategy[Any]:
    numbers = written_numbers(rules) or [Decimal(0)]
    steps = [Decimal(0), Decimal(1), Decimal(-1), Decimal("0.01"), Decimal("-0.01"), Decimal("0.5")]
    near = st.builds(lambda v, d: v + d, st.sampled_from(numbers), st.sampled_from(steps))
    return st.one_of(near, near.map(lambda v: int(v) if v == v.to_integral_value() else v),
                     st.sampled_from([10**17, 10**18, 10**18 + 1, 10**25, 10**40, Decimal("1E+3")]))


@st.composite
def households(draw: st.DrawFn, rules: RuleSet) -> dict[str, Any]:
    if draw(st.integers(0, 3)) == 0:
        return draw(situations(rules, clean=draw(st.booleans())))
    situation: dict[str, Any] = {}
    for name in rules.data_names:
        if draw(st.integers(0, 3)) == 0:
            continue  # unknown
        spec = rules.symbols.data[name].type
        numeric = spec.kind in (n.Kind.MONTANT, n.Kind.NOMBRE, n.Kind.DECIMAL, n.Kind.TAUX)
        choices = [right_values(spec), st.none(), wrong_values] + ([near_values(rules)] * 3 if numeric else [])
        situation[name] = draw(st.one_of(*choices))
    return situation


def dates_of(rules: RuleSet) -> st.SearchStrategy[Any]:
    end = rules.valid_until or rules.valid_from + datetime.timedelta(days=730)
    return st.one_of(evaluation_dates(rules), st.dates(rules.valid_from, end))


LOADABLE = [path for path in FILES if "a-corriger" not in path.parts]


@pytest.mark.parametrize("path", LOADABLE, ids=lambda p: p.name)
@agreement_settings(60)
@given(data=st.data())
def test_example_files_agree_on_every_path(path: Path, data: st.DataObject) -> None:
    rules = _load(path)
    for _ in range(3):
        assert_paths_agree(rules, data.draw(households(rules), label="situation"),
                           data.draw(dates_of(rules), label="date"))


_LOADED: dict[Path, RuleSet] = {}


def _load(path: Path) -> RuleSet:
    if path not in _LOADED:
        _LOADED[path] = tarifrules.load(path)
    return _LOADED[path]


# ------------------------------------------------------------------ generated files


@agreement_settings(250)
@given(random_programs(), st.data())
def test_generated_files_agree_on_every_path(text: str, data: st.DataObject) -> None:
    try:
        rules = tarifrules.load(text, file="généré.tarif")
    except TarifError:
        return
    for _ in range(data.draw(st.integers(1, 4), label="foyers")):
        assert_paths_agree(rules, data.draw(households(rules), label="situation"),
                           data.draw(st.one_of(st.just(rules.valid_from), dates_of(rules)), label="date"))
