"""`tarifrules datapass`: the DataPass request drafted from the rules of every example."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner

from tarifrules.cli import cli
from tarifrules.datapass import FORMS, markdown, prepare
from tarifrules.models import DataPassModel
from tarifrules.ruleset import load
from tarifrules.scopes import analyse

from .helpers import EXAMPLES, GOLDEN, ROOT, assert_golden

FILES = sorted(EXAMPLES.glob("*.tarif"))


def _prepare(path: Path, form: str | None = None) -> DataPassModel:
    # Named relative to the repository, so that golden files do not depend on the clone's place.
    return prepare([load(path, file=path.relative_to(ROOT).as_posix())], form)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_markdown_names_every_scope_with_a_justification_citing_an_article(path: Path) -> None:
    model = _prepare(path)
    text = markdown(model)
    assert text.startswith("# Demande DataPass API Particulier")
    assert "## Le cadre juridique" in text and "L114-8" in text
    assert "36 mois" in text
    for scope in analyse([load(path)]).scopes:
        section = text.split(f"`{scope}`\n", 1)
        assert len(section) == 2, f"pas de section pour {scope}"
        justification = next(line for line in section[1].split("\n") if line.startswith("- Justification"))
        assert "article" in justification


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_json_validates_and_matches_the_analysis(path: Path) -> None:
    result = CliRunner().invoke(cli, ["datapass", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    model = DataPassModel.model_validate(json.loads(result.output))
    assert [s.scope for s in model.scopes] == analyse([load(path)]).scopes
    assert model.form in FORMS


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_link_opens_the_form_with_the_scopes_ticked(path: Path) -> None:
    result = CliRunner().invoke(cli, ["datapass", str(path), "--format", "lien"])
    assert result.exit_code == 0, result.output
    link = result.output.strip()
    assert "\n" not in link
    url = urlparse(link)
    assert (url.scheme, url.netloc) == ("https", "datapass.api.gouv.fr")
    parts = url.path.split("/")
    assert parts[:2] == ["", "formulaires"] and parts[3:] == ["demande", "nouveau"]
    assert parts[2] == _prepare(path).form
    query = parse_qs(url.query)
    assert query.get("scopes[]", []) == analyse([load(path)]).scopes
    assert query["intitule"] == [_prepare(path).intitule]
    assert "scopes" not in query  # a bare `scopes=` would be dropped by DataPass


def test_cantine_markdown_golden() -> None:
    text = markdown(_prepare(EXAMPLES / "restauration-scolaire.tarif"))
    assert_golden(GOLDEN / "datapass" / "restauration-scolaire.md", text)


def test_cantine_needs_the_free_form_and_cannot_use_franceconnect() -> None:
    model = _prepare(EXAMPLES / "restauration-scolaire.tarif")
    assert [s.scope for s in model.scopes] == ["cnaf_quotient_familial", "pole_emploi_inscription"]
    assert model.form == "api-particulier"  # the municipal form offers no France Travail scope
    assert not model.france_connect_possible and model.france_connect_blockers == ["pole_emploi_inscription"]
    assert model.modalities == ["params"]
    assert any("injustifiées" in w for w in model.warnings)
    assert "R531-52" in model.cadre_juridique_nature and "2025-06-042" in model.cadre_juridique_nature


def test_forms_chosen_from_the_header_and_scopes() -> None:
    assert _prepare(EXAMPLES / "college-aide-bourse.tarif").form == "api-particulier-tarification-cantines-colleges"
    assert _prepare(EXAMPLES / "ccas-aide-facultative.tarif").form == (
        "api-particulier-aides-sociales-ccas-dont-facultatives")
    loisirs = _prepare(EXAMPLES / "accueil-loisirs-taux-effort.tarif")
    assert loisirs.form == "api-particulier-tarification-municipale-enfance"
    assert loisirs.france_connect_possible and loisirs.modalities == ["params"]  # the form's modality is fixed


def test_declared_data_are_listed_without_scope() -> None:
    model = _prepare(EXAMPLES / "college-aide-bourse.tarif")
    assert model.declared == ["interne"] and [s.scope for s in model.scopes] == ["men_echelon_bourse"]
    assert "Déclarées par la famille (aucun scope) : interne" in markdown(model)


def test_unused_data_warn_and_dgfip_stays_separate() -> None:
    source = (EXAMPLES / "restauration-scolaire.tarif").read_text(encoding="utf-8")
    source = source.replace("  demandeur_emploi : booléen, inscription France Travail\n",
                            "  demandeur_emploi : booléen, inscription France Travail\n"
                            "  rfr : montant entier, revenu fiscal de référence\n"
                            "  inutile : booléen, bénéficiaire du RSA\n")
    source = source.replace("sauf si demandeur_emploi et", "sauf si demandeur_emploi et rfr < 20 000 € et")
    model = prepare([load(source, file="essai.tarif")])
    assert model.unused == ["inutile"]
    assert any("inutile" in w and "ne les demandez pas" in w for w in model.warnings)
    assert all(not s.scope.startswith("dgfip_") for s in model.scopes)
    assert "dgfip" not in model.link
    [dgfip] = model.other_habilitations
    assert dgfip.habilitation == "api_impot_particulier" and [s.scope for s in dgfip.scopes] == ["dgfip_rfr"]
    assert "Habilitation distincte : API Impôt particulier" in markdown(model)


def test_forced_form_and_unknown_form() -> None:
    path = str(EXAMPLES / "champcevinel-cantine.tarif")
    result = CliRunner().invoke(cli, ["datapass", path, "--formulaire", "api-particulier", "--format", "lien"])
    assert urlparse(result.output.strip()).path == "/formulaires/api-particulier/demande/nouveau"
    result = CliRunner().invoke(cli, ["datapass", path, "--formulaire", "nimporte"])
    assert result.exit_code == 2 and "formulaire DataPass inconnu" in result.output
