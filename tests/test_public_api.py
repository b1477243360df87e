"""The public Python contract: pinned names, types of values, situation spellings."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

import tarifrules
from tarifrules.models import EvaluationModel

from .helpers import EXAMPLES

CANTINE = EXAMPLES / "restauration-scolaire.tarif"


def test_exported_names_are_pinned() -> None:
    assert sorted(tarifrules.__all__) == sorted([
        "Diagnostic", "Evaluation", "INCONNU", "Output", "RuleSet", "Severity", "TarifError", "__version__",
        "check", "format_source", "load",
    ])
    for name in tarifrules.__all__:
        assert hasattr(tarifrules, name)


def test_load_accepts_a_path_a_string_path_and_the_text() -> None:
    text = CANTINE.read_text(encoding="utf-8")
    for source in (CANTINE, str(CANTINE), text):
        rules = tarifrules.load(source)
        assert rules.evaluate({"quotient_familial": 650}).outputs["tarif_repas"].status == "unknown"


@pytest.mark.parametrize("raw_qf, raw_job", [
    (650, True), ("650", "oui"), ("650,00", "OUI"), (Decimal("650"), "true"), (650.0, True), ("650 €", True),
])
def test_situation_spellings(raw_qf: object, raw_job: object) -> None:
    output = tarifrules.load(CANTINE).evaluate({"quotient_familial": raw_qf, "demandeur_emploi": raw_job})
    assert output.outputs["tarif_repas"].value == Decimal("1.05")
    assert output.outputs["tarif_repas"].unit == "€"


def test_absent_or_null_is_unknown_never_zero() -> None:
    rules = tarifrules.load(CANTINE)
    for situation in ({}, {"quotient_familial": None}, {"quotient_familial": "inconnu"}):
        evaluation = rules.evaluate({**situation, "demandeur_emploi": "non"})
        assert evaluation.outputs["tarif_repas"].value == Decimal("5.40")  # the à défaut row, not QF 0


@pytest.mark.parametrize("situation, code", [
    ({"quotient_familial": "six cents"}, "D002"),
    ({"quotient_familial": -5}, "D003"),
    ({"quotient_familial": "650,5"}, "D004"),
    ({"demandeur_emploi": "peut-être"}, "D005"),
    ({"quotient_inconnu": 12}, "D001"),
    ({"tarif_base": 2}, "D001"),
])
def test_bad_situation_values_raise_with_a_code(situation: dict[str, object], code: str) -> None:
    with pytest.raises(tarifrules.TarifError) as info:
        tarifrules.load(CANTINE).evaluate(situation)
    assert [d.code for d in info.value.diagnostics] == [code]
    assert "Traceback" not in str(info.value)


def test_date_outside_validity_is_an_error_and_date_defaults_to_today() -> None:
    rules = tarifrules.load(CANTINE)
    with pytest.raises(tarifrules.TarifError) as info:
        rules.evaluate({}, date="31/08/2025")
    assert info.value.diagnostics[0].code == "E001"
    assert rules.evaluate({}).date == datetime.date.today()
    assert rules.evaluate({}, date=datetime.date(2025, 9, 1)).date == datetime.date(2025, 9, 1)
    assert rules.evaluate({}, date="2025-09-01").date == datetime.date(2025, 9, 1)


def test_value_types_per_kind() -> None:
    text = """délibération "Types"
  applicable à partir du 01/01/2025
données
  n : nombre
résultats
  montant_r : montant
  taux_r : taux
  nombre_r : nombre
  oui_r : booléen
  date_r : date
article 1 "Tout"
  montant_r : 2,5 € × n
  taux_r : 12,5 % × n
  nombre_r : n + 1
  oui_r : n > 2
  date_r : 01/09/2025
exemple "trois"
  n = 3
  attendu montant_r = 7,50 €
"""
    outputs = tarifrules.load(text).evaluate({"n": 3}).outputs
    assert outputs["montant_r"].value == Decimal("7.50") and str(outputs["montant_r"].value) == "7.50"
    assert outputs["taux_r"].value == Decimal("37.5") and outputs["taux_r"].unit == "%"
    assert outputs["nombre_r"].value == 4 and isinstance(outputs["nombre_r"].value, int)
    assert outputs["oui_r"].value is True
    assert outputs["date_r"].value == datetime.date(2025, 9, 1)


def test_to_json_follows_the_documented_model() -> None:
    evaluation = tarifrules.load(CANTINE).evaluate({"quotient_familial": 650, "demandeur_emploi": "oui"})
    document = evaluation.to_json()
    EvaluationModel.model_validate(document)
    assert document["outputs"]["tarif_repas"] == {"status": "value", "value": "1.05", "unit": "€"}
    assert document["missing"] == []


def test_ruleset_is_reusable_and_independent_between_households() -> None:
    rules = tarifrules.load(CANTINE)
    first = rules.evaluate({"quotient_familial": 650, "demandeur_emploi": True})
    second = rules.evaluate({"quotient_familial": 1800})
    assert first.outputs["tarif_repas"].value == Decimal("1.05")
    assert second.outputs["tarif_repas"].status == "unknown"
    assert second.missing == ("demandeur_emploi",)


def test_huge_values_are_checked_exactly_not_through_a_28_digit_context() -> None:
    rules = tarifrules.load(EXAMPLES / "wavrin-centre-loisirs.tarif")
    with pytest.raises(tarifrules.TarifError) as info:
        rules.evaluate({"quotient_familial": "100000000000000000000000000,001"}, date="21/10/2025")
    assert info.value.diagnostics[0].code == "D004"
    evaluation = rules.evaluate({"quotient_familial": "100000000000000000000000000,01", "rang_enfant": 1,
                                 "exterieur": False}, date="21/10/2025")
    assert evaluation.outputs["tarif_journee"].value == Decimal("10.63")


def test_booleans_accept_the_integers_0_and_1_like_the_strings() -> None:
    rules = tarifrules.load(CANTINE)
    for flag, price in ((1, "1.05"), (0, "2.10")):
        evaluation = rules.evaluate({"quotient_familial": 650, "demandeur_emploi": flag})
        assert evaluation.outputs["tarif_repas"].value == Decimal(price)
    with pytest.raises(tarifrules.TarifError):
        rules.evaluate({"quotient_familial": 650, "demandeur_emploi": 2})
