"""`RuleSet.compile()`, `RuleSet.function`: the unknown marker, keyword errors, dates, value types.

Agreement with the interpreter on generated files and households is in
tests/test_compiled_properties.py.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

import tarifrules
from tarifrules import INCONNU, TarifError

from .helpers import EXAMPLES

CANTINE = EXAMPLES / "restauration-scolaire.tarif"
TAUX = EXAMPLES / "accueil-loisirs-taux-effort.tarif"
DAY = datetime.date(2025, 9, 1)


@pytest.fixture(scope="module")
def repas() -> object:
    return tarifrules.load(CANTINE).function("tarif_repas", date=DAY)


def codes(info: pytest.ExceptionInfo[TarifError]) -> list[str]:
    return [d.code for d in info.value.diagnostics]


def test_the_unknown_marker_is_french_single_and_not_a_boolean() -> None:
    assert repr(INCONNU) == "inconnu"
    assert INCONNU is tarifrules.INCONNU
    with pytest.raises(TypeError):
        bool(INCONNU)


def test_function_returns_exact_values_and_the_marker(repas: object) -> None:
    f = repas
    assert callable(f)
    assert f(quotient_familial=650, demandeur_emploi=True) == Decimal("1.05")
    assert str(f(quotient_familial=650, demandeur_emploi=False)) == "2.10"
    assert f(quotient_familial=650) is INCONNU  # 2,10 € or 1,05 €: indéterminé
    assert f(quotient_familial=300) == Decimal("1.00")  # both branches agree
    assert f() == Decimal("5.40")  # à défaut row
    assert f(quotient_familial=None, demandeur_emploi=None) == Decimal("5.40")  # None is unknown


def test_function_accepts_the_spellings_evaluate_accepts(repas: object) -> None:
    f = repas
    for qf, job in ((650, True), ("650", "oui"), ("650,00", "OUI"), (Decimal("650"), "true"), (650.0, 1),
                    ("650 €", True), (Decimal("650.00"), True)):
        assert f(quotient_familial=qf, demandeur_emploi=job) == Decimal("1.05"), (qf, job)
    assert f(quotient_familial="inconnu", demandeur_emploi="non") == Decimal("5.40")


@pytest.mark.parametrize("given, code", [
    ({"quotient_familial": "six cents"}, "D002"),
    ({"quotient_familial": -5}, "D003"),
    ({"quotient_familial": "650,5"}, "D004"),
    ({"quotient_familial": True}, "D002"),
    ({"demandeur_emploi": "peut-être"}, "D005"),
    ({"demandeur_emploi": 2}, "D005"),
    ({"tarif_base": 2}, "D001"),
])
def test_bad_values_raise_the_errors_of_evaluate(repas: object, given: dict[str, object], code: str) -> None:
    with pytest.raises(TarifError) as got:
        repas(**given)  # type: ignore[operator]
    with pytest.raises(TarifError) as expected:
        tarifrules.load(CANTINE).evaluate(given, date=DAY)
    assert codes(got) == codes(expected) == [code]
    assert [d.message for d in got.value.diagnostics] == [d.message for d in expected.value.diagnostics]


def test_an_unknown_keyword_is_a_french_error_with_a_suggestion(repas: object) -> None:
    with pytest.raises(TarifError) as info:
        repas(quotient_familal=650)  # type: ignore[operator]
    assert codes(info) == ["D001"]
    diagnostic = info.value.diagnostics[0]
    assert "« quotient_familal » n'est pas une donnée déclarée" in diagnostic.message
    assert diagnostic.hint == "vouliez-vous dire « quotient_familial » ?"


def test_an_unknown_output_is_a_french_error_with_a_suggestion() -> None:
    with pytest.raises(TarifError) as info:
        tarifrules.load(CANTINE).function("tarif_repa", date=DAY)
    assert codes(info) == ["E007"]
    assert info.value.diagnostics[0].hint == "vouliez-vous dire « tarif_repas » ?"


def test_the_date_is_checked_once_as_by_evaluate() -> None:
    rules = tarifrules.load(CANTINE)
    for date in ("31/08/2025", datetime.date(2025, 8, 31)):
        with pytest.raises(TarifError) as info:
            rules.function("tarif_repas", date=date)
        assert codes(info) == ["E001"]
    with pytest.raises(TarifError) as info:
        rules.function("tarif_repas", date="12/13/2025")
    assert codes(info) == ["E004"]
    for date in (None, "01/09/2025", "2025-09-01", datetime.datetime(2025, 9, 1, 12, 0)):
        assert rules.function("tarif_repas", date=date)(quotient_familial=650, demandeur_emploi=True) == Decimal("1.05")


def test_taux_d_effort_rounds_half_up_to_the_cent() -> None:
    f = tarifrules.load(TAUX).function("tarif_journee", date=DAY)
    assert [str(f(quotient_familial=q)) for q in (0, 177, 189, 190, 210, 1430, 1444, 1445, 3000)] == [
        "0.80", "0.80", "0.85", "0.86", "0.95", "6.44", "6.50", "6.50", "6.50"]
    assert f() == Decimal("6.50")
    huge = 10**30 - 1  # beyond the scaled-integer path (and the largest situation value): exact Decimal path
    assert f(quotient_familial=huge) == tarifrules.load(TAUX).interpret(
        {"quotient_familial": huge}, date=DAY).outputs["tarif_journee"].value


VALUE_TYPES = """délibération "Types"
  applicable à partir du 01/01/2025
données
  n : nombre
  e : parmi (a, b)
résultats
  montant_r : montant
  taux_r : taux
  nombre_r : nombre
  moitie_r : décimal
  decimal_r : décimal
  oui_r : booléen
  date_r : date
  choix_r : booléen
article 1 "Tout"
  montant_r : 2,5 € × n
  taux_r : 12,5 % × n
  nombre_r : n + 1
  moitie_r : n / 2
  decimal_r : n × 1,50
  oui_r : n > 2
  date_r : 01/09/2025
  choix_r : e est a
"""


def test_values_have_the_types_evaluate_gives() -> None:
    rules = tarifrules.load(VALUE_TYPES)
    outputs = rules.evaluate({"n": 3, "e": "a"}, date=DAY).outputs
    for name in rules.output_names:
        value = rules.function(name, date=DAY)(n=3, e="a")
        assert value == outputs[name].value and type(value) is type(outputs[name].value), name
        assert str(value) == str(outputs[name].value), name
    assert rules.function("nombre_r", date=DAY)(n=3) == 4
    assert type(rules.function("nombre_r", date=DAY)(n=3)) is int
    assert rules.function("moitie_r", date=DAY)(n=3) == Decimal("1.5")
    assert rules.function("taux_r", date=DAY)(n=3) == Decimal("37.5")
    assert rules.function("oui_r", date=DAY)() is INCONNU


def test_compile_is_done_once_and_the_source_is_readable() -> None:
    rules = tarifrules.load(CANTINE)
    assert rules.compile() is rules.compile()
    assert "def " in rules.compile().source
    assert rules.function("tarif_repas", date=DAY) is rules.function("tarif_repas", date=DAY)


def test_evaluate_keeps_missing_and_explanation() -> None:
    rules = tarifrules.load(CANTINE)
    evaluation = rules.evaluate({"quotient_familial": 650}, date=DAY)
    assert evaluation.outputs["tarif_repas"].status == "unknown"
    assert evaluation.missing == ("demandeur_emploi",)
    reference = rules.interpret({"quotient_familial": 650}, date=DAY)
    assert evaluation.outputs == reference.outputs
    assert evaluation.explain().to_json() == reference.explain().to_json()


NAMES = """délibération "Noms"
  applicable à partir du 01/01/2025
données
  str : montant entier
  lambda : booléen
  _privé : parmi (a, b)
  TarifError : nombre
résultats
  total : montant
article 1 "Tout"
  total : le maximum de str et 1 € et 2 €
    sauf si lambda et _privé est a : str × TarifError
"""


def test_data_named_like_python_words_or_helpers_are_ordinary_keywords() -> None:
    rules = tarifrules.load(NAMES)
    total = rules.function("total", date=DAY)
    given = {"str": 5, "lambda": True, "_privé": "a", "TarifError": 3}
    assert total(**given) == Decimal("15.00")
    assert total(**{**given, "_privé": "b"}) == Decimal("5.00")
    assert total(**{**given, "lambda": None}) is INCONNU
    assert rules.evaluate(given, date=DAY).outputs["total"].value == Decimal("15.00")
    with pytest.raises(TarifError) as info:
        total(**{**given, "_privé": "c"})
    assert codes(info) == ["D007"]


def test_a_negative_zero_is_spelt_zero_by_every_path() -> None:
    """`-0` given (or computed) comes out as `0.00` from the interpreter, the compiled code, the
    keyword function and the table alike (found by the SQL comparison on 100 000 households)."""
    rules = tarifrules.load(EXAMPLES / "tarif-quotient-fiscal.tarif")
    situation = {"revenu_fiscal": "-0", "parts_fiscales": 1}
    day = "01/10/2026"
    values = {str(e.outputs["quotient_retenu"].value) for e in (rules.interpret(situation, date=day),
                                                                 rules.evaluate(situation, date=day))}
    values.add(str(rules.function("quotient_retenu", date=day)(revenu_fiscal=Decimal("-0"), parts_fiscales=1)))
    values.add(str(rules.evaluate_table({"revenu_fiscal": ["-0"], "parts_fiscales": [1]}, date=day)
                   .outputs["quotient_retenu"].value(0)))
    assert values == {"0.00"}


_NESTED_HEADER = ('délibération "Essai"\n  applicable à partir du 01/09/2025\n\ndonnées\n'
                  '  quotient_familial : montant entier au minimum 0 €, quotient familial CAF\n\n'
                  'résultats\n  tarif_repas : montant, prix\n\n')


@pytest.mark.parametrize("count", [21, 60, 95])  # (T070 refuses more than 100 levels)
def test_sauf_si_nested_deeper_than_python_compiles_runs_as_the_interpreter_does(count: int) -> None:
    # 21 `sauf si` generated 21 nested `try` blocks: Python refused them (« too many statically nested
    # blocks ») and `eval` ended in an internal error on a file that `check` accepted.
    rows = "".join(f"    sauf si quotient_familial > {i * 10} € : {i},00 €\n" for i in range(1, count + 1))
    rules = tarifrules.load(_NESTED_HEADER + 'article 1 "a"\n  tarif_repas : 0,50 €\n' + rows)
    day = datetime.date(2025, 10, 1)
    for qf in (0, 5, 15, 650, 10 * count + 1):
        expected = rules.interpret({"quotient_familial": qf}, date=day).outputs["tarif_repas"].value
        assert rules.evaluate({"quotient_familial": qf}, date=day).outputs["tarif_repas"].value == expected
        assert rules.function("tarif_repas", date=day)(quotient_familial=qf) == expected
    assert rules.function("tarif_repas", date=day)() is INCONNU
