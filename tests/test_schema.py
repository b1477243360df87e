"""The situation JSON Schema accepts exactly what the situation reader accepts.

* every worked example of every example file is valid against its file's schema;
* on generated declarations and values (JSON values as the service reads them: integers,
  exact decimals, strings, booleans, null, lists, objects), schema and reader agree;
* `tarifrules schema FICHIER` prints the schema, a valid draft 2020-12 document.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema.validators import Draft202012Validator

from tarifrules import TarifError, load
from tarifrules import nodes as n
from tarifrules.examples import raw_value
from tarifrules.schema import datum_schema, json_situation_value, situation_schema, validator
from tarifrules.situation import SituationReader
from tarifrules.values import decimal_places, format_decimal

from .helpers import ROOT
from .strategies import CHOICES

FILES = sorted((ROOT / "examples" / "deliberations").rglob("*.tarif"))


def _loadable(path: Path) -> bool:
    try:
        load(path)
    except TarifError:
        return False
    return True


LOADABLE = [path for path in FILES if _loadable(path)]


@pytest.mark.parametrize("path", LOADABLE, ids=lambda p: p.name)
def test_worked_examples_are_valid_against_their_schema(path: Path) -> None:
    ruleset = load(path)
    schema = situation_schema(ruleset.program)
    Draft202012Validator.check_schema(schema)
    check = validator(schema)
    assert ruleset.program.examples or path.name == "tarif-quotient-fiscal.tarif"
    for worked in ruleset.program.examples:
        situation = {a.name: json_situation_value(raw_value(a.value)) for line in worked.lines
                     if isinstance(line, n.ExampleData) for a in line.assignments}
        errors = [e.message for e in check.iter_errors(situation)]
        assert not errors, (worked.title, situation, errors)


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from tarifrules.cli import main

    path = ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif"
    main(["schema", str(path)])
    printed = json.loads(capsys.readouterr().out)
    assert printed == situation_schema(load(path).program)
    assert printed["properties"]["quotient_familial"]["description"] == "quotient familial CAF"
    assert printed["additionalProperties"] is False


# ------------------------------------------------------------------ schema ≡ reader

_BOUNDS = st.one_of(st.none(), st.decimals(min_value=-20, max_value=2000, places=2).map(Decimal.normalize),
                    st.sampled_from([Decimal(0), Decimal(1), Decimal(100), Decimal("801.00"), Decimal("0.5")]))


@st.composite
def specs(draw: st.DrawFn) -> n.TypeSpec:
    kind = draw(st.sampled_from(list(n.Kind)))
    if kind is n.Kind.ENUM:
        return n.TypeSpec(kind, choices=tuple(draw(st.lists(st.sampled_from(CHOICES), min_size=1, max_size=4,
                                                            unique=True))))
    if kind in (n.Kind.BOOLEEN, n.Kind.DATE):
        return n.TypeSpec(kind)
    granularity = {n.Kind.NOMBRE: n.Granularity.ENTIER, n.Kind.DECIMAL: n.Granularity.CONTINU,
                   n.Kind.TAUX: n.Granularity.CONTINU}.get(kind) or draw(st.sampled_from(list(n.Granularity)))
    unit = {n.Kind.MONTANT: n.Unit.EURO, n.Kind.TAUX: n.Unit.PERCENT}.get(kind, n.Unit.NONE)
    low, high = draw(_BOUNDS), draw(_BOUNDS)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return n.TypeSpec(kind, granularity, minimum=None if low is None else n.Number(low, unit),
                      maximum=None if high is None else n.Number(high, unit))


_DIGITS = st.text("0123456789", min_size=1, max_size=6)
_SEPARATORS = st.sampled_from([" ", "\u00a0", "\u202f", ""])


@st.composite
def number_texts(draw: st.DrawFn) -> str:
    """Strings near the reader's number syntax: signs, groups, fractions, units, spaces."""
    groups = draw(st.lists(st.text("0123456789", min_size=1, max_size=4), min_size=1, max_size=3))
    separator = draw(_SEPARATORS)
    text = separator.join(groups)
    if draw(st.booleans()):
        text += draw(st.sampled_from([",", "."])) + draw(st.text("0123456789", min_size=0, max_size=4))
    sign = draw(st.sampled_from(["", "", "+", "-", "--"]))
    unit = draw(st.sampled_from(["", "", " €", "€", " %", "%", " € €", "e"]))
    spaces = draw(st.sampled_from(["", " ", "\t", "\u00a0", "\n"]))
    return spaces + sign + text + unit + spaces


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    day, month = draw(st.integers(0, 32)), draw(st.integers(0, 13))
    year = draw(st.sampled_from([0, 1, 4, 100, 1900, 2000, 2023, 2024, 2025, 2100, 2400, 9999]))
    if draw(st.booleans()):
        return f"{day:02d}/{month:02d}/{year:04d}"
    return draw(st.sampled_from(["", " "])) + f"{year:04d}-{month:02d}-{day:02d}"


@st.composite
def french_numbers(draw: st.DrawFn) -> str:
    """Numbers as a person writes them (`1 234,56 €`), near typical bounds, in every granularity."""
    value = draw(st.one_of(st.decimals(min_value=-30, max_value=3000, places=3),
                           st.sampled_from([Decimal("801"), Decimal("800.99"), Decimal("801.001"), Decimal("0.5"),
                                            Decimal("0.49"), Decimal("1"), Decimal("0.999"), Decimal("100.00")])))
    text = format_decimal(value, min_places=draw(st.integers(0, 4)))
    return text.replace(" ", draw(_SEPARATORS) or " ") + draw(st.sampled_from(["", " €", " %", "€"]))


_WORDS = st.sampled_from(["oui", "Non", "VRAI", "faux", "true", "False", "o", "N", "1", "0", "2", "yes", "",
                          " ", "inconnu", "Inconnue", "NULL", "none", "nan", "Infinity", "peut-être", " oui ",
                          *CHOICES, *(f" {c} " for c in CHOICES)])

values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2100), st.integers(), st.sampled_from([0, 1, 2, 3, 12]),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-10, max_value=2100, places=3),
    st.sampled_from([Decimal("1.0"), Decimal("2.00"), Decimal("650.50"), Decimal("1E+2"), Decimal("-0"),
                     Decimal("0.01"), Decimal("12.000")]),
    number_texts(), french_numbers(), french_numbers(), date_texts(), _WORDS, st.text(max_size=8),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


def _reader_accepts(spec: n.TypeSpec, value: Any) -> bool:
    reader = SituationReader({"x": n.Declaration("x", spec, None)}, set())
    try:
        reader.read({"x": value})
    except TarifError:
        return False
    return True


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), value=values)
@example(spec=n.TypeSpec(n.Kind.NOMBRE, n.Granularity.ENTIER, minimum=n.Number(Decimal(1), n.Unit.NONE)),
         value="0 001")
@example(spec=n.TypeSpec(n.Kind.MONTANT, n.Granularity.CENTIME, maximum=n.Number(Decimal("8500.00"), n.Unit.EURO)),
         value="8 500,001 €")
@example(spec=n.TypeSpec(n.Kind.MONTANT, n.Granularity.ENTIER), value="0,00")
@example(spec=n.TypeSpec(n.Kind.MONTANT, n.Granularity.ENTIER, maximum=n.Number(Decimal("0.01"), n.Unit.EURO)),
         value="0.0")
@example(spec=n.TypeSpec(n.Kind.DECIMAL, n.Granularity.CONTINU, maximum=n.Number(Decimal("2.305"), n.Unit.NONE)),
         value="2,3")
@example(spec=n.TypeSpec(n.Kind.MONTANT, n.Granularity.CENTIME), value=Decimal("0.0000"))
def test_schema_accepts_what_the_reader_accepts(spec: n.TypeSpec, value: Any) -> None:
    schema = {"type": "object", "properties": {"x": datum_schema(n.Declaration("x", spec, None))},
              "additionalProperties": False}
    assert validator(schema).is_valid({"x": value}) == _reader_accepts(spec, value), (spec, value)


def test_zero_written_with_decimals_is_a_whole_number() -> None:
    reader = SituationReader({"qf": n.Declaration("qf", n.TypeSpec(n.Kind.MONTANT, n.Granularity.ENTIER), None)}, set())
    assert reader.read({"qf": "0,00"}) == {"qf": Decimal("0.00")}
    assert decimal_places(Decimal("0.000")) == 0 and decimal_places(Decimal("-0.0")) == 0


def test_undeclared_names_are_refused_by_the_schema() -> None:
    ruleset = load(ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif")
    check = validator(situation_schema(ruleset.program))
    assert check.is_valid({"quotient_familial": 650, "demandeur_emploi": "oui"})
    assert not check.is_valid({"quotient_familal": 650})
    assert not check.is_valid({"tarif_base": "2,10"})  # computed by the rules: never given
    assert not check.is_valid([])
