"""The data catalogue: it loads, its facts hold, it matches the API Particulier reference,
its lookups fold case and spacing, a broken file is refused clearly, and its page in
`docs/` is exactly what the catalogue generates."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tarifrules.catalogue import (
    Catalogue,
    CatalogueEntry,
    CatalogueError,
    catalogue_markdown,
    load_catalogue,
    load_catalogue_file,
    normalize,
    parse_catalogue,
)
from tarifrules.catalogue.loading import SNAPSHOT, from_snapshot, snapshot
from tarifrules.nodes import Granularity, Kind

from .helpers import ROOT

SHARED = ROOT.parent / "shared"
CATALOGUE_YAML = ROOT / "src" / "tarifrules" / "catalogue" / "catalogue.yaml"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def _api_particulier(catalogue: Catalogue) -> list[CatalogueEntry]:
    return [e for e in catalogue if e.source == "api_particulier"]


# ------------------------------------------------------------------ loading


def test_the_shipped_catalogue_loads_and_is_cached(catalogue: Catalogue) -> None:
    assert load_catalogue() is catalogue
    assert len(catalogue) >= 40
    assert all(key == entry.key for key, entry in catalogue.entries.items())


def test_the_shipped_yaml_is_the_package_resource(catalogue: Catalogue) -> None:
    assert load_catalogue_file(CATALOGUE_YAML) == catalogue


def test_required_entries_are_present(catalogue: Catalogue) -> None:
    required = [
        "quotient familial caf", "quotient familial msa", "nombre d'allocataires caf", "nombre d'enfants caf",
        "résidence selon l'adresse caf", "bénéficiaire de la c2s", "c2s avec participation", "bénéficiaire du rsa",
        "rsa majoré", "bénéficiaire de la prime d'activité", "prime d'activité majorée", "bénéficiaire de l'aah",
        "bénéficiaire de l'asf", "statut aeeh", "nombre d'enfants à charge eaje", "ressources annuelles eaje",
        "élève scolarisé", "élève boursier", "échelon de bourse collège", "échelon de bourse lycée",
        "étudiant boursier", "échelon de bourse crous", "étudiant", "étudiant inscrit", "demandeur d'emploi",
        "catégorie de demandeur d'emploi", "indemnités france travail", "revenu fiscal de référence",
        "nombre de parts fiscales", "déclaré par la famille",
    ]
    missing = [key for key in required if key not in catalogue.entries]
    assert not missing


# ------------------------------------------------------------------ facts


def test_quotient_familial_is_whole_euros(catalogue: Catalogue) -> None:
    for key in ("quotient familial caf", "quotient familial msa"):
        entry = catalogue.entries[key]
        assert (entry.kind, entry.granularity) == (Kind.MONTANT, Granularity.ENTIER)
        assert entry.scope == "cnaf_quotient_familial"
        assert entry.field == "data.quotient_familial.valeur"
        assert entry.modes == ("identite_pivot", "france_connect")
        assert entry.cache is not None and "24 h" in entry.cache
    caf = catalogue.entries["quotient familial caf"]
    assert any("M−1" in caveat for caveat in caf.caveats), "la sémantique du mois doit être dite"


def test_quotient_familial_endpoint_scopes_are_separate(catalogue: Catalogue) -> None:
    scopes = {key: catalogue.entries[key].scope
              for key in ("nombre d'allocataires caf", "nombre d'enfants caf", "résidence selon l'adresse caf")}
    assert scopes == {"nombre d'allocataires caf": "cnaf_allocataires", "nombre d'enfants caf": "cnaf_enfants",
                      "résidence selon l'adresse caf": "cnaf_adresse"}
    paths = {e.path for key in scopes for e in catalogue.entries[key].endpoints}
    assert paths == {"/v3/dss/quotient_familial/identite", "/v3/dss/quotient_familial/france_connect"}


@pytest.mark.parametrize(("key", "choices"), [
    ("échelon de bourse collège", ("1", "2", "3")),
    ("échelon de bourse lycée", ("1", "2", "3", "4", "5", "6")),
    ("échelon de bourse crous", ("0bis", "1", "2", "3", "4", "5", "6", "7")),
    ("catégorie de demandeur d'emploi", ("1", "2", "3", "4", "5")),
])
def test_enumerations_have_the_providers_values(catalogue: Catalogue, key: str, choices: tuple[str, ...]) -> None:
    entry = catalogue.entries[key]
    assert entry.kind is Kind.ENUM
    assert entry.choices == choices


def test_france_travail_categories_are_not_letters(catalogue: Catalogue) -> None:
    entry = catalogue.entries["catégorie de demandeur d'emploi"]
    assert not set("ABCDE") & set(entry.choices)
    assert any("A à E" in caveat for caveat in entry.caveats)


def test_least_intrusive_scopes(catalogue: Catalogue) -> None:
    assert catalogue.entries["élève boursier"].scope == "men_statut_boursier"
    assert catalogue.entries["échelon de bourse collège"].scope == "men_echelon_bourse"
    assert catalogue.entries["demandeur d'emploi"].scope == "pole_emploi_inscription"
    assert catalogue.entries["étudiant boursier"].scope == "cnous_statut_boursier"
    assert catalogue.entries["indemnités france travail"].scope == "pole_emploi_paiements"
    for key in ("nombre d'enfants à charge eaje", "nombre d'enfants bénéficiaires de l'aeeh eaje",
                "ressources annuelles eaje"):
        assert catalogue.entries[key].scope == "cnav_participation_familiale_eaje_parametres_calcul"


def test_majorations_are_separate_scopes(catalogue: Catalogue) -> None:
    assert catalogue.entries["bénéficiaire du rsa"].scope == "revenu_solidarite_active"
    assert catalogue.entries["rsa majoré"].scope == "revenu_solidarite_active_majoration"
    assert catalogue.entries["bénéficiaire de la prime d'activité"].scope == "prime_activite"
    assert catalogue.entries["prime d'activité majorée"].scope == "prime_activite_majoration"


def test_business_caveats(catalogue: Catalogue) -> None:
    boursier = catalogue.entries["élève boursier"]
    assert boursier.negative_unreliable_before == "15/10"
    assert any("mi-octobre" in caveat for caveat in boursier.caveats)
    participation = catalogue.entries["c2s avec participation"]
    assert any("peu fiable" in caveat for caveat in participation.caveats)


def test_routes_without_france_connect(catalogue: Catalogue) -> None:
    without = {e.key for e in _api_particulier(catalogue) if not e.france_connect}
    providers = {catalogue.entries[key].provider for key in without}
    assert providers == {"MEN", "France Travail"}
    assert catalogue.entries["demandeur d'emploi"].modes == ("identifiant",)
    assert catalogue.entries["étudiant boursier"].modes == ("identite_pivot", "ine", "france_connect")


def test_api_particulier_routes_are_v3_or_later(catalogue: Catalogue) -> None:
    for entry in _api_particulier(catalogue):
        for endpoint in entry.endpoints:
            assert re.match(r"^/v[3-9]/", endpoint.path), endpoint.path


def test_dgfip_is_a_separate_habilitation(catalogue: Catalogue) -> None:
    dgfip = [e for e in catalogue if e.source == "dgfip"]
    assert {e.key for e in dgfip} >= {"revenu fiscal de référence", "nombre de parts fiscales"}
    api_particulier_scopes = catalogue.scopes("api_particulier")
    for entry in dgfip:
        assert entry.habilitation == "api_impot_particulier"
        assert entry.provider == "DGFiP"
        assert all(scope.startswith("dgfip_") for scope in entry.all_scopes)
        assert not set(entry.all_scopes) & api_particulier_scopes
        assert "dgfip_annee_n_moins_1" in entry.requires_one_of
        assert "eaje" in entry.forbidden_uses
    for entry in _api_particulier(catalogue):
        assert entry.habilitation == "api_particulier"
        assert not any(scope.startswith("dgfip_") for scope in entry.all_scopes)
    assert catalogue.entries["revenu fiscal de référence"].scope == "dgfip_rfr"
    assert catalogue.entries["nombre de parts fiscales"].scope == "dgfip_nbpart"


def test_declared_by_the_family(catalogue: Catalogue) -> None:
    entry = catalogue.entries["déclaré par la famille"]
    assert entry.source == "famille"
    assert entry.kind is None and entry.scope is None and not entry.endpoints and entry.habilitation is None
    assert entry.type_text() == "tout type"


def test_every_api_entry_cites_its_reference(catalogue: Catalogue) -> None:
    for entry in catalogue:
        if entry.source == "api_particulier":
            assert re.search(r"AP §\d", entry.reference), entry.key
        if entry.source == "dgfip":
            assert re.search(r"DGFiP §\d", entry.reference), entry.key


# ------------------------------------------------------------------ lookup


@pytest.mark.parametrize(("text", "key"), [
    ("quotient familial CAF", "quotient familial caf"),
    ("Quotient  Familial   caf", "quotient familial caf"),
    ("QF CAF", "quotient familial caf"),
    ("quotient familial CNAF", "quotient familial caf"),
    ("qf msa", "quotient familial msa"),
    ("inscription France Travail", "demandeur d'emploi"),
    ("droit ouvert au revenu de solidarité active", "bénéficiaire du rsa"),
    ("droit ouvert à l'allocation aux adultes handicapés", "bénéficiaire de l'aah"),
    ("droit ouvert à l’allocation aux adultes handicapés", "bénéficiaire de l'aah"),
    ("échelon de bourse collège", "échelon de bourse collège"),
    ("ÉCHELON DE BOURSE LYCÉE", "échelon de bourse lycée"),
    ("déclaré par la famille", "déclaré par la famille"),
    ("élève interne du collège, déclaré par la famille", "déclaré par la famille"),
    ("« RFR »", "revenu fiscal de référence"),
])
def test_lookup_by_name_alias_and_case(catalogue: Catalogue, text: str, key: str) -> None:
    entry = catalogue.lookup(text)
    assert entry is not None and entry.key == key


def test_lookup_keeps_accents(catalogue: Catalogue) -> None:
    assert catalogue.lookup("echelon de bourse college") is None
    assert catalogue.suggest("echelon de bourse college") == "Échelon de bourse collège"


def test_lookup_of_unknown_text(catalogue: Catalogue) -> None:
    assert catalogue.lookup("domicile sur le territoire de GPSO") is None
    assert catalogue.lookup("") is None
    assert catalogue.suggest("quotient familal caf") == "Quotient familial CAF"
    assert catalogue.suggest("zzz") is None


def test_getitem(catalogue: Catalogue) -> None:
    assert catalogue["QF CAF"].key == "quotient familial caf"
    with pytest.raises(KeyError):
        catalogue["pas une donnée"]


def test_normalize() -> None:
    assert normalize("  Prime  d’activité. ") == "prime d'activité"
    assert normalize("E\u0301lève") == "élève"  # decomposed accent


# ------------------------------------------------------------------ validation


def _minimal(**entry: object) -> str:
    base: dict[str, object] = {
        "name": "Donnée test", "kind": "booléen", "source": "api_particulier", "provider": "MEN",
        "habilitation": "api_particulier", "endpoints": [{"path": "/v5/men/scolarites/identite",
                                                          "mode": "identite_pivot"}],
        "field": "data.x", "scope": "men_statut_scolarite", "reference": "AP §4.7",
    }
    base.update(entry)
    base = {k: v for k, v in base.items() if v is not None}
    return yaml.safe_dump({"version": 1, "entries": {"donnée test": base}}, allow_unicode=True)


def test_a_minimal_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text(_minimal(), encoding="utf-8")
    assert load_catalogue_file(path).entries["donnée test"].scope == "men_statut_scolarite"


@pytest.mark.parametrize(("changes", "message"), [
    ({"colour": "bleu"}, "entrée « donnée test », champ colour : champ inconnu"),
    ({"scope": None}, "scope est obligatoire pour la source api_particulier"),
    ({"kind": "énumération"}, "choices est obligatoire pour une énumération"),
    ({"choices": ["1", "2"]}, "choices ne s'applique qu'à une énumération"),
    ({"kind": "montant"}, "un montant doit dire sa granularité"),
    ({"kind": "nombre", "granularity": "entier"}, "granularity ne s'applique qu'à un montant"),
    ({"kind": "rien"}, "entrée « donnée test », champ kind"),
    ({"source": "dgfip", "provider": "DGFiP", "habilitation": "api_particulier"},
     "relève de l'habilitation api_impot_particulier"),
    ({"source": "dgfip", "provider": "DGFiP", "habilitation": "api_impot_particulier",
      "endpoints": [{"path": "/impotparticulier/1.0/x", "mode": "identifiant"}]},
     "n'est pas un scope de l'API Impôt particulier"),
    ({"scope": "dgfip_rfr"}, "relève de l'API Impôt particulier"),
    ({"endpoints": [{"path": "/api/v2/scolarites", "mode": "identite_pivot"}]}, "seules les routes v3"),
    ({"endpoints": [{"path": "/v5/men/scolarites/identite", "mode": "france_connect"}]}, "finit par /france_connect"),
    ({"source": "famille", "kind": None, "provider": None, "habilitation": None, "endpoints": None,
      "field": None, "scope": "x"}, "n'a pas de scope"),
    ({"negative_unreliable_before": "mi-octobre"}, "JJ/MM"),
    ({"aliases": ["Donnée TEST"]}, "y figure deux fois"),
    ({"name": "Autre nom"}, "la clé doit être le nom en minuscules"),
])
def test_a_broken_entry_is_refused_with_a_clear_message(tmp_path: Path, changes: dict[str, object],
                                                        message: str) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text(_minimal(**changes), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue_file(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_broken_yaml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text("version: 1\nentries:\n  a: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"YAML illisible \(ligne \d+"):
        load_catalogue_file(path)


def test_not_a_mapping() -> None:
    with pytest.raises(CatalogueError, match="dictionnaire"):
        parse_catalogue("- a\n- b\n")


def test_two_entries_claiming_the_same_alias() -> None:
    text = CATALOGUE_YAML.read_text(encoding="utf-8").replace("      - qf msa\n", "      - qf caf\n")
    with pytest.raises(CatalogueError, match="« qf caf » désigne deux entrées"):
        parse_catalogue(text)


# ------------------------------------------------------------------ conformance with the reference


def _reference_scopes() -> tuple[set[str], str, set[str]]:
    if not SHARED.is_dir():
        pytest.skip(f"références absentes ({SHARED}) : conformité du catalogue non vérifiée")
    ap = SHARED / "api-particulier"
    authz = yaml.safe_load((ap / "config" / "authorizations.yml").read_text(encoding="utf-8"))
    scopes = {scope for name, listed in authz["shared"].items()
              if name.startswith("api_particulier/v3_and_more/") for scope in listed or ()}
    reference = (ap / "REFERENCE.md").read_text(encoding="utf-8")
    spec = yaml.safe_load((ap / "openapi" / "openapi-particulier.yaml").read_text(encoding="utf-8"))
    return scopes, reference, set(spec["paths"])


def test_every_api_particulier_scope_exists_in_the_reference(catalogue: Catalogue) -> None:
    authorized, reference, _ = _reference_scopes()
    section = reference.split("### 6.2", 1)[1].split("## 7.", 1)[0]
    for entry in _api_particulier(catalogue):
        for scope in entry.all_scopes:
            assert scope in authorized, f"{entry.key} : {scope} absent de config/authorizations.yml"
            assert f"`{scope}`" in section, f"{entry.key} : {scope} absent de REFERENCE.md §6.2"


def test_every_api_particulier_route_exists_in_the_spec(catalogue: Catalogue) -> None:
    _, _, paths = _reference_scopes()
    for entry in _api_particulier(catalogue):
        for endpoint in entry.endpoints:
            assert endpoint.path in paths, f"{entry.key} : {endpoint.path} absent de la spécification OpenAPI"


def test_every_response_key_exists_in_the_spec(catalogue: Catalogue) -> None:
    _reference_scopes()
    spec = (SHARED / "api-particulier" / "openapi" / "openapi-particulier.yaml").read_text(encoding="utf-8")
    for entry in _api_particulier(catalogue):
        assert entry.field is not None
        for key in entry.field.removeprefix("data.").replace("[]", "").split("."):
            assert re.search(rf"^\s+{re.escape(key)}:", spec, re.M), f"{entry.key} : clé {key} absente"


def test_every_dgfip_scope_exists_in_the_reference(catalogue: Catalogue) -> None:
    _reference_scopes()
    dgfip = SHARED / "dgfip" / "REFERENCE.md"
    if not dgfip.exists():
        pytest.skip(f"référence DGFiP absente ({dgfip})")
    section = dgfip.read_text(encoding="utf-8").split("### 2.3", 1)[1].split("## 3.", 1)[0]
    for entry in catalogue:
        if entry.source == "dgfip":
            for scope in entry.all_scopes:
                assert f"`{scope}`" in section, f"{entry.key} : {scope} absent de dgfip/REFERENCE.md §2.3"


# ------------------------------------------------------------------ the shipped snapshot


def test_the_json_snapshot_is_the_validated_yaml() -> None:
    """load_catalogue() reads catalogue.json: it must be exactly the validated YAML."""
    validated = load_catalogue_file(CATALOGUE_YAML)
    snapshot_file = CATALOGUE_YAML.with_name(SNAPSHOT)
    if snapshot_file.read_text(encoding="utf-8") != snapshot(validated):
        pytest.fail("catalogue.json n'est pas à jour : régénérez-le avec python -m tarifrules.catalogue")
    assert load_catalogue() == validated
    assert [e.name for e in load_catalogue()] == [e.name for e in validated]


def test_a_snapshot_round_trips_every_field() -> None:
    validated = load_catalogue_file(CATALOGUE_YAML)
    assert from_snapshot(json.loads(snapshot(validated))) == validated
    enums = [e for e in validated if e.kind is Kind.ENUM]
    assert enums and all(isinstance(e.choices, tuple) for e in enums)


def test_checking_a_rule_file_imports_neither_pydantic_nor_yaml() -> None:
    code = ("import sys; from tarifrules.ruleset import load; "
            "load('examples/deliberations/restauration-scolaire.tarif'); "
            "print(sorted({'pydantic', 'yaml'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_regeneration_command_refuses_a_broken_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from tarifrules.catalogue import __main__ as command

    (tmp_path / "catalogue.yaml").write_text("version: 1\nentries: {}\n", encoding="utf-8")
    monkeypatch.setattr(command, "HERE", tmp_path)
    assert command.main() == 1
    assert "aucune entrée" in capsys.readouterr().err
    assert not (tmp_path / SNAPSHOT).exists()


# ------------------------------------------------------------------ documentation


def test_the_docs_page_is_generated_from_the_catalogue() -> None:
    page = ROOT / "docs" / "catalogue.md"
    expected = catalogue_markdown()
    if not page.exists() or page.read_text(encoding="utf-8") != expected:
        pytest.fail("docs/catalogue.md n'est pas à jour : régénérez-la avec python -m tarifrules.catalogue")


def test_the_docs_page_lists_every_entry(catalogue: Catalogue) -> None:
    text = catalogue_markdown(catalogue)
    for entry in catalogue:
        assert f"### {entry.name}\n" in text
        if entry.scope:
            assert f"`{entry.scope}`" in text
