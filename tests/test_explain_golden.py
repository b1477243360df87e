"""Explanations, as text and JSON, compared with reviewed golden files (UPDATE_GOLDEN=1 rewrites)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import tarifrules

from .helpers import EXAMPLES, GOLDEN, assert_golden

CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "cantine-650-demandeur": ("restauration-scolaire.tarif",
                              {"quotient_familial": 650, "demandeur_emploi": True}, "01/10/2025"),
    "cantine-300-emploi-inconnu": ("restauration-scolaire.tarif", {"quotient_familial": 300}, "01/10/2025"),
    "cantine-650-emploi-inconnu": ("restauration-scolaire.tarif", {"quotient_familial": 650}, "01/10/2025"),
    "cantine-qf-inconnu": ("restauration-scolaire.tarif", {"demandeur_emploi": True}, "01/10/2025"),
    "taux-effort-190": ("accueil-loisirs-taux-effort.tarif", {"quotient_familial": 190}, "01/10/2025"),
    "taux-effort-inconnu": ("accueil-loisirs-taux-effort.tarif", {}, "01/10/2025"),
    "wavrin-ccas": ("wavrin-centre-loisirs.tarif",
                    {"conditions_ccas": True, "rang_enfant": 2, "exterieur": False}, "21/10/2025"),
    "gpso-plafond-fratrie": ("gpso-conservatoires.tarif",
                             {"quotient_familial": 5000, "parcours": "1", "resident_gpso": True,
                              "rang_enfant_inscrit": 2}, "01/10/2020"),
    "ccas-rsa-qf-inconnu": ("ccas-aide-facultative.tarif", {"beneficiaire_rsa": True}, None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_explanation_matches_golden(name: str) -> None:
    file, situation, day = CASES[name]
    rules = tarifrules.load(EXAMPLES / file)
    evaluation = rules.evaluate(situation, date=day or rules.valid_from)
    explanation = evaluation.explain()
    assert_golden(GOLDEN / "explain" / f"{name}.txt", str(explanation) + "\n")
    document = json.dumps(explanation.to_json(), ensure_ascii=False, indent=2) + "\n"
    assert_golden(GOLDEN / "explain" / f"{name}.json", document)


def test_explanation_only_cites_what_was_used() -> None:
    rules = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    text = str(rules.evaluate({"quotient_familial": 650, "demandeur_emploi": False}).explain())
    assert "de 400 € à 700 € exclu" in text
    assert "de 700 €" not in text  # other brackets are not mentioned
    assert "le maximum de" not in text  # the reduction was not applied
