"""Scope analysis: the minimal API Particulier scopes a file's rules read, and why."""

from __future__ import annotations

import json

import pytest

import tarifrules
from tarifrules.cli import main
from tarifrules.scopes import analyse, needed_data

from .helpers import EXAMPLES

HEADER = 'délibération "Essai"\n  applicable à partir du 01/01/2025\n'

EXPECTED = {
    "restauration-scolaire.tarif": ["cnaf_quotient_familial", "pole_emploi_inscription"],
    "accueil-loisirs-taux-effort.tarif": ["cnaf_quotient_familial"],
    "college-aide-bourse.tarif": ["men_echelon_bourse"],
    "ccas-aide-facultative.tarif": ["allocation_adulte_handicape", "cnaf_quotient_familial",
                                    "revenu_solidarite_active"],
    "champcevinel-cantine.tarif": ["cnaf_quotient_familial"],
    "le-langon-cantine.tarif": ["cnaf_quotient_familial"],
    "wavrin-centre-loisirs.tarif": [],
    "gpso-conservatoires.tarif": [],
    "creche-bareme-cnaf.tarif": ["cnav_participation_familiale_eaje_parametres_calcul"],
    "tarif-quotient-fiscal.tarif": ["cnaf_quotient_familial"],  # DGFiP data: a separate habilitation
}


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_scopes_of_each_example(file: str) -> None:
    report = analyse([tarifrules.load(EXAMPLES / file)])
    assert report.scopes == EXPECTED[file]
    assert report.exact
    assert report.unbound == []  # every datum is bound to the catalogue


def test_cli_scopes_json_for_the_cantine(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["scopes", str(EXAMPLES / "restauration-scolaire.tarif"), "--json"])
        raise SystemExit(0)
    assert info.value.code in (0, None)
    document = json.loads(capsys.readouterr().out)
    assert document["scopes"] == ["cnaf_quotient_familial", "pole_emploi_inscription"]
    assert document["by_scope"]["pole_emploi_inscription"]["data"] == ["demandeur_emploi"]
    assert document["by_scope"]["pole_emploi_inscription"]["articles"] == ["2"]
    assert document["by_output"] == {"tarif_repas": ["cnaf_quotient_familial", "pole_emploi_inscription"]}
    assert set(document) >= {"scopes", "by_scope", "by_output", "endpoints", "declared", "unused"}


def test_data_declared_but_never_read_are_reported_not_requested() -> None:
    text = HEADER + """données
  qf : montant entier, quotient familial CAF
  rsa : booléen, bénéficiaire du RSA
résultats
  tarif : montant
article 1 "Tarif"
  tarif : qf × 1 %, à défaut 5 €
"""
    rules = tarifrules.load(text)
    read, exact = needed_data(rules, "tarif")
    assert exact and read == {"qf"}
    report = analyse([rules])
    assert report.scopes == ["cnaf_quotient_familial"]
    assert report.to_json()["unused"] == ["rsa"]


def test_data_read_only_when_another_is_missing_are_needed() -> None:
    text = HEADER + """données
  qf : montant entier, quotient familial CAF
  declare : montant entier, déclaré par la famille
résultats
  tarif : montant
article 1 "Tarif"
  tarif : qf × 1 %, à défaut declare × 1 %
"""
    report = analyse([tarifrules.load(text)])
    assert report.scopes == ["cnaf_quotient_familial"]
    assert [u.datum for u in report.declared] == ["declare"]


def test_the_least_intrusive_scope_is_asked_for() -> None:
    text = HEADER + """données
  boursier : booléen, élève boursier
résultats
  aide : montant
article 1 "Aide"
  aide :
    si boursier : 100 €
    sinon : 0 €
"""
    assert analyse([tarifrules.load(text)]).scopes == ["men_statut_boursier"]


def test_fiscal_quotient_lists_dgfip_only_under_its_own_habilitation() -> None:
    report = analyse([tarifrules.load(EXAMPLES / "tarif-quotient-fiscal.tarif")])
    document = report.to_json()
    assert document["scopes"] == ["cnaf_quotient_familial"]
    # the needed data, plus exactly one year scope: the one the file's « dernier avis disponible » needs
    assert sorted(document["habilitations"]["api_impot_particulier"]) == [
        "dgfip_annee_n_moins_2_si_indispo_n_moins_1", "dgfip_nbpart", "dgfip_rfr"]
    assert not any(scope.startswith("dgfip_") for scope in document["by_scope"])


@pytest.mark.parametrize(("words", "year_scope"), [
    ("revenus N-1", "dgfip_annee_n_moins_1"), ("revenus N−2", "dgfip_annee_n_moins_2"),
    ("année N-3", "dgfip_annee_n_moins_3"), ("dernier avis disponible", "dgfip_annee_n_moins_2_si_indispo_n_moins_1"),
])
def test_the_income_year_written_gives_the_one_year_scope(words: str, year_scope: str) -> None:
    text = (EXAMPLES / "tarif-quotient-fiscal.tarif").read_text(encoding="utf-8").replace(
        "dernier avis disponible", words)
    report = analyse([tarifrules.load(text, file="fiscal.tarif")])
    dgfip = report.to_json()["habilitations"]["api_impot_particulier"]
    assert [scope for scope in dgfip if scope.startswith("dgfip_annee")] == [year_scope]
