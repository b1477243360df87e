"""The fake API Particulier answers like the real one (REFERENCE §1–§4, §6, §7, §8, §9)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from tarifrules.api_particulier import fake as fake_module
from tarifrules.api_particulier.client import ApiParticulier, Identity
from tarifrules.api_particulier.fake import QF_PATH, FakeApiParticulier, make_server
from tarifrules.api_particulier.fixtures import MAINTENANCE_RETRY_IN, PEOPLE, client_identity
from tarifrules.api_particulier.population import population_identities, synthetic_population
from tarifrules.api_particulier.routes import IDENTITY, ROUTES
from tarifrules.catalogue import load_catalogue

SIRET = "13002526500013"
CAF_650 = {"recipient": [SIRET], "nomNaissance": ["Lavandier"], "prenoms[]": ["Camille"], "sexeEtatCivil": ["F"],
           "anneeDateNaissance": ["1988"], "moisDateNaissance": ["4"], "jourDateNaissance": ["17"],
           "codeCogInseePaysNaissance": ["99100"], "codeCogInseeCommuneNaissance": ["24037"]}
MSA = {"recipient": [SIRET], "nomNaissance": ["PRAIRIAL"], "prenoms[]": ["JULES", "ANTOINE"],
       "sexeEtatCivil": ["M"], "anneeDateNaissance": ["1979"], "moisDateNaissance": ["9"],
       "jourDateNaissance": ["2"], "codeCogInseePaysNaissance": ["99100"], "codeCogInseeCommuneNaissance": ["19031"]}
UNKNOWN = {**CAF_650, "nomNaissance": ["FANTOME"], "prenoms[]": ["NOE"], "sexeEtatCivil": ["M"],
           "anneeDateNaissance": ["1995"], "moisDateNaissance": ["1"], "jourDateNaissance": ["1"],
           "codeCogInseeCommuneNaissance": ["33063"]}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.25

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeApiParticulier:
    return FakeApiParticulier(clock=Clock())


def call(fake: FakeApiParticulier, path: str, query: dict[str, list[str]], token: str | None = None
         ) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, out, body = fake.handle("GET", path, query, headers)
    return status, out, json.loads(body) if out.get("Content-Type", "").endswith("json") else body.decode()


def assert_errors(body: Any, code: str) -> None:
    assert set(body) == {"errors"}
    error = body["errors"][0]
    assert {"code", "title", "detail", "meta"} <= set(error)
    assert error["code"] == code


def test_ping(fake: FakeApiParticulier) -> None:
    assert call(fake, "/api/ping", {})[::2] == (200, "pong")


def test_no_token_is_401_with_errors(fake: FakeApiParticulier) -> None:
    status, _, body = call(fake, QF_PATH, CAF_650)
    assert status == 401
    assert_errors(body, "00101")
    assert body["errors"][0]["source"] == {"parameter": "token"}
    assert call(fake, QF_PATH, CAF_650, "not-a-token")[0] == 401


def test_qf_v1_routes_are_gone(fake: FakeApiParticulier) -> None:
    for path in ("/api/v2/composition-familiale", "/api/caf/famille"):
        status, _, body = call(fake, path, {"numeroAllocataire": ["1"], "codePostal": ["75001"]})
        assert status == 410
        assert "31/10/2025" in body


def test_qf_scope_only_masks_other_keys(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial"])
    status, headers, body = call(fake, QF_PATH, CAF_650, token)
    assert status == 200
    assert body["data"]["quotient_familial"]["valeur"] == 650
    assert body["data"]["quotient_familial"]["fournisseur"] == "CNAF"
    assert set(body["data"]) == {"quotient_familial"}
    assert {"allocataires", "enfants", "adresse"}.isdisjoint(body["data"])
    assert headers["RateLimit-Limit"] == "20" and "X-Request-ID" in headers


def test_full_scopes_and_msa(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse"])
    status, _, body = call(fake, QF_PATH, MSA, token)
    assert status == 200
    data = body["data"]
    assert data["quotient_familial"]["fournisseur"] == "MSA"
    assert len(data["allocataires"]) == 2 and len(data["enfants"]) == 3
    assert data["adresse"]["code_postal_ville"] == "19000 TULLE"


def test_unknown_person_is_404(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial"])
    status, _, body = call(fake, QF_PATH, UNKNOWN, token)
    assert status == 404
    assert_errors(body, "23003")
    status, _, body = call(fake, QF_PATH, {**CAF_650, "nomNaissance": ["PERSONNE"]}, token)
    assert status == 404
    assert_errors(body, "37003")


def test_missing_scope_is_403(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["pole_emploi_inscription"])
    status, _, body = call(fake, QF_PATH, CAF_650, token)
    assert status == 403
    assert_errors(body, "00100")


def test_bad_params_are_422(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial"])
    no_recipient = {k: v for k, v in CAF_650.items() if k != "recipient"}
    assert_errors(call(fake, QF_PATH, no_recipient, token)[2], "00203")
    assert_errors(call(fake, QF_PATH, {**CAF_650, "recipient": ["12345678901234"]}, token)[2], "00210")
    status, _, body = call(fake, QF_PATH, {k: v for k, v in CAF_650.items() if k != "nomNaissance"}, token)
    assert status == 422
    assert_errors(body, "00420")
    status, _, body = call(fake, QF_PATH, {k: v for k, v in CAF_650.items() if k != "codeCogInseeCommuneNaissance"},
                           token)
    assert (status, body["errors"][0]["code"]) == (422, "00426")


def test_rate_limit_429_with_retry_after(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial"])
    statuses = [call(fake, QF_PATH, CAF_650, token) for _ in range(21)]
    assert [s for s, _, _ in statuses[:20]] == [200] * 20
    status, headers, body = statuses[20]
    assert status == 429
    assert_errors(body, "00429")
    assert headers["RateLimit-Remaining"] == "0"
    assert int(headers["Retry-After"]) >= 1
    assert int(headers["RateLimit-Reset"]) == 1_800_000_001
    other = fake.issue_token(["cnaf_quotient_familial"])
    assert call(fake, QF_PATH, CAF_650, other)[0] == 200  # one bucket per token
    fake.clock.now += 1  # type: ignore[attr-defined]
    assert call(fake, QF_PATH, CAF_650, token)[0] == 200


def test_france_travail_and_men(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["pole_emploi_inscription", "men_echelon_bourse", "men_statut_boursier"])
    status, _, body = call(fake, "/v3/france_travail/statut/identifiant",
                           {"recipient": [SIRET], "identifiant": ["demandeur.cat1"]}, token)
    assert status == 200
    assert set(body["data"]) == {"inscription"}
    assert body["data"]["inscription"]["categorie"]["code"] == 1
    status, _, body = call(fake, "/v3/france_travail/statut/identifiant", {"recipient": [SIRET]}, token)
    assert (status, body["errors"][0]["code"]) == (422, "00380")
    men = {"recipient": [SIRET], "nomNaissance": ["LOUVEL"], "prenoms[]": ["INES"], "sexeEtatCivil": ["F"],
           "anneeDateNaissance": ["2013"], "moisDateNaissance": ["2"], "jourDateNaissance": ["11"],
           "codeEtablissement": ["0240012X"], "anneeScolaire": ["2025"]}
    status, _, body = call(fake, "/v5/men/scolarites/identite", men, token)
    assert status == 200
    assert body["data"] == {"est_boursier": True, "echelon_bourse": 2}
    status, _, body = call(fake, "/v5/men/scolarites/identite", {**men, "prenoms[]": ["ALICE"]}, token)
    assert (status, body["errors"][0]["code"]) == (404, "30003")


@pytest.fixture
def server() -> Iterator[tuple[str, FakeApiParticulier]]:
    fake = FakeApiParticulier()
    httpd = make_server("127.0.0.1", 0, fake)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_over_http(server: tuple[str, FakeApiParticulier]) -> None:
    base, fake = server
    with urllib.request.urlopen(f"{base}/api/ping", timeout=5) as response:
        assert response.read() == b"pong"
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{base}{QF_PATH}?recipient={SIRET}", timeout=5)
    assert error.value.code == 401
    assert "errors" in json.loads(error.value.read())
    token = fake.issue_token(["cnaf_quotient_familial"])
    query = "&".join(f"{k}={v}" for k, values in CAF_650.items() for v in values)
    request = urllib.request.Request(f"{base}{QF_PATH}?{query}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.loads(response.read())
        assert response.headers["RateLimit-Limit"] == "20"
    assert set(body["data"]) == {"quotient_familial"}


# ------------------------------------------------------------------ every catalogue route, fixtures, FranceConnect


PERSONS = {p.key: p for p in PEOPLE}
# a fixture that answers 200 on each resource (identity and FranceConnect modes)
WITNESS = {"quotient_familial": "lavandier", "complementaire_sante_solidaire": "borie",
           "revenu_solidarite_active": "grandval", "prime_activite": "terrasson",
           "allocation_adulte_handicape": "castaing", "allocation_soutien_familial": "grandval",
           "allocation_enfant_handicape": "moulin", "participation_familiale_eaje": "moulin",
           "etudiant_boursier": "estrade", "statut_etudiant": "estrade", "scolarites": "louvel"}


@pytest.fixture
def roomy() -> FakeApiParticulier:
    """No rate limit in the way of tests that make many calls."""
    return FakeApiParticulier(clock=Clock(), rate_limit=100_000)


def who(key: str, family: str = "dss", **extra: str) -> dict[str, list[str]]:
    """The query a caller sends for fixture `key` on a route of `family`."""
    names = IDENTITY[family]
    query = {("prenoms[]" if name == "prenoms" else name): (list(value) if isinstance(value, list) else [value])
             for name, value in PERSONS[key].identity.items() if name in names}
    query["recipient"] = [SIRET]
    if family == "men":
        query.update({"codeEtablissement": ["0240012X"], "anneeScolaire": ["2025"]})
    query.update({k: [v] for k, v in extra.items()})
    return query


def data(fake: FakeApiParticulier, path: str, query: dict[str, list[str]], scopes: Any = None,
         token: str | None = None) -> dict[str, Any]:
    token = token or fake.issue_token(scopes if scopes is not None else fake_module.ALL_SCOPES)
    status, _, body = call(fake, path, query, token)
    assert status == 200, body
    assert set(body) == {"data", "links", "meta"} and body["links"] == {} and body["meta"] == {}
    result: dict[str, Any] = body["data"]
    return result


def error_of(fake: FakeApiParticulier, path: str, query: dict[str, list[str]], token: str | None = None,
             scopes: Any = None) -> tuple[int, dict[str, Any]]:
    token = token or fake.issue_token(scopes if scopes is not None else fake_module.ALL_SCOPES)
    status, _, body = call(fake, path, query, token)
    assert set(body) == {"errors"} and len(body["errors"]) == 1, body
    return status, body["errors"][0]


def _resolve(node: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [node]
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        items = node.get(head[:-2]) if isinstance(node, dict) else None
        assert isinstance(items, list) and items, f"{head} absent ou vide"
        return items if not rest else [v for item in items for v in _resolve(item, rest)]
    assert isinstance(node, dict) and head in node, f"clé {head} absente"
    return _resolve(node[head], rest)


def test_every_catalogue_datum_is_served_with_its_scope_alone(roomy: FakeApiParticulier) -> None:
    """Each api_particulier datum of the catalogue: its routes exist, and a token holding only its
    scope (and `requires_also`) gets the field (identity and FranceConnect modes)."""
    seen = set()
    for entry in load_catalogue().entries.values():
        if entry.source != "api_particulier":
            continue
        scopes = {entry.scope, *entry.requires_also} - {None}
        for endpoint in entry.endpoints:
            route = ROUTES.get(endpoint.path)
            assert route is not None, f"route absente du faux serveur : {endpoint.path}"
            assert entry.scope in route.gate
            seen.add(endpoint.path)
            if route.family == "france_travail":
                query = {"recipient": [SIRET], "identifiant": ["demandeur.cat1"]}
                found = data(roomy, endpoint.path, query, scopes)
            elif route.mode == "france_connect":
                token = roomy.issue_france_connect_token(WITNESS[route.resource], scopes)
                found = data(roomy, endpoint.path, {"recipient": [SIRET]}, token=token)
            elif route.mode == "ine":
                found = data(roomy, endpoint.path, {"recipient": [SIRET], "ine": ["2405003410F"]}, scopes)
            else:
                found = data(roomy, endpoint.path, who(WITNESS[route.resource], route.family), scopes)
            assert entry.field is not None
            assert _resolve({"data": found}, entry.field.split(".")), entry.name
    assert seen == {p for p, route in ROUTES.items()}, "route servie mais absente du catalogue"


def test_dss_benefits(roomy: FakeApiParticulier) -> None:
    rsa = "/v3/dss/revenu_solidarite_active/identite"
    assert data(roomy, rsa, who("grandval")) == {"est_beneficiaire": True, "avec_majoration": True,
                                                 "date_debut_droit": "2024-03-01"}
    assert data(roomy, rsa, who("terrasson"))["avec_majoration"] is False
    assert data(roomy, rsa, who("lavandier")) == {"est_beneficiaire": False, "avec_majoration": None,
                                                  "date_debut_droit": None}
    # masking: the majoration key has its own scope
    assert data(roomy, rsa, who("grandval"), ["revenu_solidarite_active"]) == {
        "est_beneficiaire": True, "date_debut_droit": "2024-03-01"}
    assert data(roomy, rsa, who("grandval"), ["revenu_solidarite_active_majoration"]) == {"avec_majoration": True}
    c2s = "/v3/dss/complementaire_sante_solidaire/identite"
    assert data(roomy, c2s, who("borie"))["avec_participation"] is True
    assert data(roomy, c2s, who("grandval"))["avec_participation"] is False
    assert data(roomy, c2s, who("prairial")) == {"est_beneficiaire": False, "avec_participation": False,
                                                 "date_debut_droit": None}
    assert data(roomy, "/v3/dss/prime_activite/identite", who("terrasson"))["est_beneficiaire"] is True
    assert data(roomy, "/v3/dss/allocation_adulte_handicape/identite", who("castaing")) == {
        "est_beneficiaire": True, "date_debut_droit": "2019-04-01"}
    assert data(roomy, "/v3/dss/allocation_soutien_familial/identite", who("grandval"))["est_beneficiaire"]
    aeeh = "/v3/dss/allocation_enfant_handicape/identite"
    assert data(roomy, aeeh, who("moulin"))["status"] == "allocataire"
    assert data(roomy, aeeh, who("castaing"))["status"] == "non_beneficiaire"
    for path in (rsa, c2s, aeeh):
        status, error = error_of(roomy, path, who("fantome"))
        assert (status, error["code"]) == (404, "23003")
        status, error = error_of(roomy, path, {**who("lavandier"), "nomNaissance": ["INCONNU"]})
        assert (status, error["code"], error["meta"]) == (404, "37003", {"provider": "CNAV"})


def test_eaje(roomy: FakeApiParticulier) -> None:
    path = "/v3/dss/participation_familiale_eaje/identite"
    found = data(roomy, path, who("moulin"))
    assert found["parametres_calcul_participation_familiale"]["nombre_enfants_beneficiaire_aeeh"] == 1
    assert found["parametres_calcul_participation_familiale"]["base_ressources_annuelles"]["valeur"] == 27450
    assert len(found["enfants"]) == 2 and "code_cog_insee_commune_naissance" in found["allocataires"][0]
    only = data(roomy, path, who("moulin"), ["cnav_participation_familiale_eaje_parametres_calcul"])
    assert set(only) == {"parametres_calcul_participation_familiale"}
    status, error = error_of(roomy, path, who("lavandier"))
    assert (status, error["code"], error["title"]) == (404, "37003", "Allocataire non éligible")


def test_gate_scopes_403_per_route(roomy: FakeApiParticulier) -> None:
    token = roomy.issue_token(["cnaf_quotient_familial"])
    for path, route in ROUTES.items():
        if route.mode == "france_connect" or route.resource == "quotient_familial":
            continue
        status, _, body = call(roomy, path, {"recipient": [SIRET]}, token)
        assert (status, body["errors"][0]["code"]) == (403, "00100"), path
    # cnous_statut_bourse opens CNOUS v4 (gate) although no v4 key depends on it
    status, _, body = call(roomy, "/v4/cnous/etudiant_boursier/identite", who("estrade", "cnous"),
                           roomy.issue_token(["cnous_statut_bourse"]))
    assert (status, body["data"]) == (200, {})


def test_cnous(roomy: FakeApiParticulier) -> None:
    path = "/v4/cnous/etudiant_boursier/identite"
    found = data(roomy, path, who("estrade", "cnous"))
    assert found["echelon_bourse"] == {"echelon": "0bis", "echelon_bourse_regionale_provisoire": False}
    assert found["identite"]["prenoms"] == ["LEA"]
    assert data(roomy, path, who("estrade", "cnous", campaignYear="2024"))["echelon_bourse"]["echelon"] == "1"
    assert error_of(roomy, path, who("estrade", "cnous", campaignYear="2023"))[1]["code"] == "26003"
    status, error = error_of(roomy, path, who("estrade", "cnous", campaignYear="2020"))
    assert (status, error["code"], error["source"]) == (422, "00368", {"parameter": "campaignYear"})
    assert error_of(roomy, path, who("faurie", "cnous"))[1]["code"] == "26003"  # not a boursier
    ine = "/v4/cnous/etudiant_boursier/ine"
    assert data(roomy, ine, {"recipient": [SIRET], "ine": ["2405003410F"]},
                ["cnous_echelon_bourse"]) == {"echelon_bourse": found["echelon_bourse"]}
    status, error = error_of(roomy, ine, {"recipient": [SIRET], "ine": ["12345"]})
    assert (status, error["code"]) == (422, "00360")
    missing_day = {k: v for k, v in who("estrade", "cnous").items() if k != "jourDateNaissance"}
    assert error_of(roomy, path, missing_day)[1]["code"] == "00424"
    no_sex = {k: v for k, v in who("estrade", "cnous").items() if k != "sexeEtatCivil"}
    assert error_of(roomy, path, no_sex)[1]["code"] == "26003"  # optional for CNOUS: sent set differs


def test_mesri(roomy: FakeApiParticulier) -> None:
    path = "/v3/mesri/statut_etudiant/identite"
    found = data(roomy, path, who("estrade", "mesri"))
    assert found["admissions"][0]["est_inscrit"] is True and found["identite"]["prenom"] == "LEA"
    faurie = data(roomy, path, who("faurie", "mesri"))
    assert [a["est_inscrit"] for a in faurie["admissions"]] == [False, True]
    assert faurie["admissions"][0]["regime_formation"]["code"] == "RF4"
    masked = data(roomy, path, who("faurie", "mesri"), ["mesri_admissions", "mesri_admission_inscrit"])
    assert set(masked) == {"admissions"}
    assert set(masked["admissions"][0]) == {"date_debut", "date_fin", "est_inscrit"}
    status, error = error_of(roomy, path, who("moulin", "mesri"))  # two first names
    assert (status, error["code"], error["source"]) == (422, "00366", {"parameter": "prenoms"})
    assert error_of(roomy, path, {k: v for k, v in who("faurie", "mesri").items()
                                  if k != "anneeDateNaissance"})[1]["code"] == "00422"
    by_ine = data(roomy, "/v3/mesri/statut_etudiant/ine", {"recipient": [SIRET], "ine": ["123450987AB"]})
    assert by_ine == faurie
    assert error_of(roomy, "/v3/mesri/statut_etudiant/ine", {"recipient": [SIRET], "ine": ["99999999999"]})[1][
        "code"] == "25003"


def test_france_travail_statut_and_indemnites(roomy: FakeApiParticulier) -> None:
    statut, indemnites = "/v3/france_travail/statut/identifiant", "/v3/france_travail/indemnites/identifiant"
    ended = data(roomy, statut, {"recipient": [SIRET], "identifiant": ["ancien.demandeur"]})
    assert ended["inscription"]["date_fin"] == "2024-06-30" and ended["identifiant"] == "ancien.demandeur"
    assert data(roomy, statut, {"recipient": [SIRET], "identifiant": ["demandeuse.cat4"]})["inscription"][
        "categorie"]["code"] == 4
    paid = data(roomy, indemnites, {"recipient": [SIRET], "identifiant": ["demandeur.cat1"]},
                ["pole_emploi_paiements"])
    assert paid["identifiant"] == "demandeur.cat1" and len(paid["paiements"]) == 2
    assert paid["paiements"][1]["montant_total"] == 1081.15
    for identifiant in ("inconnu", "demandeuse.cat4"):  # unknown; known but never paid
        status, error = error_of(roomy, indemnites, {"recipient": [SIRET], "identifiant": [identifiant]})
        assert (status, error["code"], error["meta"]) == (404, "24003", {"provider": "France Travail"})


@pytest.mark.parametrize(("kind", "status", "code", "meta"), [
    ("reponse", 502, "999", None), ("reseau", 502, "00501", {"retry_in": 10}),
    ("maintenance", 503, "020", MAINTENANCE_RETRY_IN), ("delai", 504, "002", None)])
def test_providers_down(roomy: FakeApiParticulier, kind: str, status: int, code: str, meta: Any) -> None:
    prefixes = {"dss": "37", "cnous": "26", "mesri": "25", "men": "30", "france_travail": "24"}
    for path, route in ROUTES.items():
        if route.mode == "ine":
            continue
        if route.family == "france_travail":
            query = {"recipient": [SIRET], "identifiant": [f"panne.{kind}"]}
            got, error = error_of(roomy, path, query)
        elif route.mode == "france_connect":
            token = roomy.issue_france_connect_token(f"panne-{kind}")
            got, error = error_of(roomy, path, {"recipient": [SIRET]}, token=token)
        else:
            got, error = error_of(roomy, path, who(f"panne-{kind}", route.family))
        assert got == status, path
        assert error["code"] == (code if len(code) == 5 else prefixes[route.family] + code), path
        if isinstance(meta, dict):
            assert error["meta"] == meta
        elif meta is not None:
            assert error["meta"]["retry_in"] == meta and "provider" in error["meta"]
        else:
            assert set(error["meta"]) == {"provider"}


def test_transient_failure_then_success_and_client_retries(roomy: FakeApiParticulier) -> None:
    status, error = error_of(roomy, QF_PATH, who("passagere"))
    assert (status, error["code"]) == (504, "37002")
    assert data(roomy, QF_PATH, who("passagere"))["quotient_familial"]["valeur"] == 900
    # the client retries the 504 of a fresh fake and gets the value
    from .test_api_client import fake_transport

    fresh = FakeApiParticulier(rate_limit=100_000)
    waits: list[float] = []
    api = ApiParticulier(token=fresh.issue_token(), recipient=SIRET, base_url="local",
                         transport=fake_transport(fresh), sleep=waits.append, rate_limit=None)
    result = api.get(QF_PATH, Identity.parse(client_identity(PERSONS["passagere"].identity)))
    assert result.status == "ok" and result.data is not None and len(waits) == 1
    assert result.data["quotient_familial"]["valeur"] == 900


def test_dss_cache_headers_and_no_cache(roomy: FakeApiParticulier) -> None:
    token = roomy.issue_token()
    _, headers, _ = call(roomy, QF_PATH, CAF_650, token)
    assert (headers["X-Response-Cached"], headers["X-Cache-Expires-in"]) == ("false", "")
    roomy.clock.now += 100  # type: ignore[attr-defined]
    _, headers, body = call(roomy, QF_PATH, CAF_650, token)
    assert (headers["X-Response-Cached"], headers["X-Cache-Expires-in"]) == ("true", str(86400 - 100))
    assert body["data"]["quotient_familial"]["valeur"] == 650
    status, headers, _ = roomy.handle("GET", QF_PATH, CAF_650, {"Authorization": f"Bearer {token}",
                                                                "Cache-Control": "no-cache"})
    assert (status, headers["X-Response-Cached"]) == (200, "false")
    rsa = "/v3/dss/revenu_solidarite_active/identite"
    call(roomy, rsa, who("grandval"), token)
    _, headers, _ = call(roomy, rsa, who("grandval"), token)
    assert headers["X-Cache-Expires-in"] == "3600"
    roomy.clock.now += 3600  # type: ignore[attr-defined]
    assert call(roomy, rsa, who("grandval"), token)[1]["X-Response-Cached"] == "false"
    # a cached answer is masked with the scopes of the token presented
    narrow = roomy.issue_token(["cnaf_enfants"])
    assert set(call(roomy, QF_PATH, CAF_650, narrow)[2]["data"]) == {"enfants"}
    _, headers, _ = call(roomy, "/v4/cnous/etudiant_boursier/identite", who("estrade", "cnous"), token)
    assert "X-Response-Cached" not in headers  # only DSS routes are cached


def test_dss_identity_validation(roomy: FakeApiParticulier) -> None:
    abroad = {**who("nguyen")}
    assert data(roomy, QF_PATH, abroad)["quotient_familial"]["valeur"] == 1450
    status, error = error_of(roomy, QF_PATH, {**abroad, "codeCogInseeCommuneNaissance": ["24322"]})
    assert (status, error["code"]) == (422, "00366")
    assert error_of(roomy, QF_PATH, {**CAF_650, "jourDateNaissance": ["31"], "moisDateNaissance": ["2"]})[1][
        "code"] == "00425"
    assert error_of(roomy, QF_PATH, {**CAF_650, "codeCogInseeCommuneNaissance": ["2C001"]})[1]["code"] == "00366"
    assert error_of(roomy, QF_PATH, {**CAF_650, "prenoms[]": ["A", "B", "C", "D"]})[1]["code"] == "00366"
    assert error_of(roomy, QF_PATH, {**CAF_650, "codeCogInseePaysNaissance": ["FR"]})[1]["code"] == "00400"
    by_name = {k: v for k, v in CAF_650.items() if k != "codeCogInseeCommuneNaissance"}
    by_name.update({"nomCommuneNaissance": ["Bergerac"], "codeCogInseeDepartementNaissance": ["24"]})
    assert error_of(roomy, QF_PATH, by_name)[1]["code"] == "37003"  # valid, but not the fixture's param set
    assert error_of(roomy, QF_PATH, {**CAF_650, "annee": ["2019"]})[1]["code"] == "00356"
    men, men_path = who("louvel", "men"), fake_module.MEN_PATH
    assert error_of(roomy, men_path, {k: v for k, v in men.items() if k != "sexeEtatCivil"})[1]["code"] == "00427"
    assert error_of(roomy, men_path, {**men, "codesBcnDepartements[]": ["024"]})[1]["code"] == "00419"
    assert error_of(roomy, men_path, {**men, "codeEtablissement": ["024001"]})[1]["code"] == "00410"
    assert error_of(roomy, men_path, {**men, "anneeScolaire": ["25-26"]})[1]["code"] == "00411"
    perimeter = {k: v for k, v in men.items() if k != "codeEtablissement"}
    assert data(roomy, men_path, {**perimeter, "codesBcnDepartements[]": ["024"]})["echelon_bourse"] == 2
    both = {**perimeter, "codesBcnDepartements[]": ["024"], "codesBcnRegions[]": ["75"]}
    assert error_of(roomy, men_path, both)[1]["code"] == "00413"
    odd_degree = {**perimeter, "codesBcnRegions[]": ["75"], "degreEtablissement": ["3D"]}
    assert error_of(roomy, men_path, odd_degree)[1]["code"] == "00412"
    assert data(roomy, men_path, {**men, "anneeScolaire": ["2026"]})["annee_scolaire"] == "2026-2027"


def test_france_connect_tokens(roomy: FakeApiParticulier) -> None:
    rsa = "/v3/dss/revenu_solidarite_active/france_connect"
    token = roomy.issue_france_connect_token("grandval", ["revenu_solidarite_active",
                                                          "revenu_solidarite_active_majoration"])
    assert data(roomy, rsa, {"recipient": [SIRET]}, token=token)["avec_majoration"] is True
    qf_token = roomy.issue_france_connect_token("prairial", ["cnaf_quotient_familial"])
    found = data(roomy, "/v3/dss/quotient_familial/france_connect", {"recipient": [SIRET], "annee": ["2026"],
                                                                     "mois": ["1"]}, token=qf_token)
    assert found["quotient_familial"]["fournisseur"] == "MSA" and found["quotient_familial"]["mois"] == 1
    # the identity of a FranceConnect route is that of the token, never `_identite` keys
    cnous = roomy.issue_france_connect_token("estrade", ["cnous_echelon_bourse", "cnous_identite"])
    assert set(data(roomy, "/v4/cnous/etudiant_boursier/france_connect", {"recipient": [SIRET]},
                    token=cnous)) == {"echelon_bourse"}
    only_identity = roomy.issue_france_connect_token("estrade", ["mesri_identite"])
    assert error_of(roomy, "/v3/mesri/statut_etudiant/france_connect", {"recipient": [SIRET]},
                    token=only_identity)[:2][1]["code"] == "00100"
    # an API Particulier token is not a FranceConnect token, and the other way round
    status, error = error_of(roomy, rsa, {"recipient": [SIRET]}, token=roomy.issue_token())
    assert (status, error["code"]) == (401, "50002")
    status, error = error_of(roomy, "/v3/dss/revenu_solidarite_active/identite", who("grandval"), token=token)
    assert (status, error["code"]) == (401, "00101")
    status, error = error_of(roomy, rsa, {"recipient": [SIRET]},
                             token=roomy.issue_france_connect_token("grandval", identity_claims=False))
    assert (status, error["code"]) == (401, "50003")
    status, _, body = call(roomy, rsa, {"recipient": [SIRET]})
    assert (status, body["errors"][0]["code"]) == (401, "00101")
    status, error = error_of(roomy, rsa, {"recipient": [SIRET]},
                             token=roomy.issue_france_connect_token("lavandier", ["cnaf_quotient_familial"]))
    assert (status, error["code"]) == (403, "00100")
    with pytest.raises(KeyError):
        roomy.issue_france_connect_token("personne")
    assert fake_module.issue_france_connect_token("lavandier").startswith("fake-fc-")


def test_introspect(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial", "cnaf_enfants"])
    status, _, body = fake.handle("GET", "/api/introspect", {"token": [token]}, {})
    introspection = json.loads(body)
    assert status == 200 and introspection["scopes"] == ["cnaf_enfants", "cnaf_quotient_familial"]
    assert introspection["name"] == "" and introspection["_id"]
    assert json.loads(fake.handle("GET", "/api/introspect", {}, {"X-Api-Key": token})[2]) == introspection
    status, _, body = fake.handle("GET", "/api/introspect", {"token": ["nope"]}, {})
    assert status == 401 and json.loads(body)["error"] == "access_denied"


# ------------------------------------------------------------------ synthetic population


def test_population_is_deterministic_and_documented() -> None:
    households = synthetic_population(1000, seed=7)
    assert households == synthetic_population(1000, seed=7)
    assert households != synthetic_population(1000, seed=8)
    assert [h.identity["nomNaissance"] for h in households[:2]] == ["MENAGE00001", "MENAGE00002"]
    assert sum(h.quotient_familial is None for h in households) == 50
    assert sum(h.france_travail is not None for h in households) == 200
    assert sum(h.job_seeker for h in households) == 150
    values = [h.quotient_familial for h in households if h.quotient_familial is not None]
    assert min(values) >= 0 and max(values) <= 3000
    assert sum(v < 1000 for v in values) > 250 and sum(v >= 2000 for v in values) > 250  # spread
    replay = population_identities(1000, seed=7)
    assert len(replay) == 1000 and replay[0][1] == households[0].france_travail
    for identity, _ in replay:
        Identity.parse(identity)  # every identity is valid for the client


def test_population_is_served() -> None:
    fake = FakeApiParticulier(clock=Clock(), rate_limit=100_000, population=200, seed=3)
    token = fake.issue_token()
    for household in synthetic_population(200, seed=3)[:60]:
        query = {("prenoms[]" if k == "prenoms" else k): (v if isinstance(v, list) else [v])
                 for k, v in household.identity.items()}
        status, _, body = call(fake, QF_PATH, {**query, "recipient": [SIRET]}, token)
        if household.quotient_familial is None:
            assert (status, body["errors"][0]["code"]) == (404, "23003")
        else:
            assert status == 200
            assert body["data"]["quotient_familial"]["valeur"] == household.quotient_familial
            assert body["data"]["quotient_familial"]["fournisseur"] == household.fournisseur
        if household.france_travail:
            ft = {"recipient": [SIRET], "identifiant": [household.france_travail]}
            statut = data(fake, "/v3/france_travail/statut/identifiant", ft, token=token)
            assert (statut["inscription"]["date_fin"] is None) == household.job_seeker
            status, _, _ = call(fake, "/v3/france_travail/indemnites/identifiant", ft, token)
            assert status == (200 if household.job_seeker else 404)
    assert FakeApiParticulier().people.keys() == PERSONS.keys()  # no population unless asked


# ------------------------------------------------------------------ CLI


class _StoppedServer:
    """Stands for the HTTP server: records the fake it serves, stops at once (Ctrl-C)."""

    served: ClassVar[list[FakeApiParticulier]] = []

    def __init__(self, host: str, port: int, fake: FakeApiParticulier, dgfip: object = None) -> None:
        self.server_address = (host, 4321)
        self.served.append(fake)
        self.dgfip = dgfip

    def serve_forever(self) -> None:
        raise KeyboardInterrupt

    def server_close(self) -> None:
        return


@pytest.mark.parametrize("population", [0, 12])
def test_cli_fake_api_particulier(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                  population: int) -> None:
    from tarifrules.cli import main

    _StoppedServer.served.clear()
    monkeypatch.setattr(fake_module, "make_server", _StoppedServer)
    args = ["fake-api-particulier", "--port", "0", "--scopes", "cnaf_quotient_familial"]
    if population:
        args += ["--population", str(population), "--seed", "5"]
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr().out
    assert info.value.code == 0 and "http://127.0.0.1:4321" in out and "arrêté" in out
    assert "DGFIP_API_URL=http://127.0.0.1:4321 DGFIP_CLIENT_ID=fake-dgfip-" in out
    served = _StoppedServer.served[0]
    token = out.split("Jeton (cnaf_quotient_familial) : ")[1].split()[0]
    assert served.tokens[token] == {"cnaf_quotient_familial"}
    if population:
        assert served is not fake_module.DEFAULT
        assert "12 ménages, MENAGE00001 à MENAGE00012 (graine 5)" in out
        household = synthetic_population(12, seed=5)[11]
        assert served.people["menage00012"].identity == household.identity
    else:
        assert served is fake_module.DEFAULT and "Population" not in out


def test_cli_fake_api_france_connect_tokens(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from tarifrules.cli import main

    _StoppedServer.served.clear()
    monkeypatch.setattr(fake_module, "make_server", _StoppedServer)
    with pytest.raises(SystemExit) as info:
        main(["fake-api-particulier", "--scopes", "revenu_solidarite_active", "--france-connect", "grandval"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    token = out.split("Jeton FranceConnect de grandval : ")[1].split()[0]
    grant = _StoppedServer.served[0].france_connect_tokens[token]
    assert (grant.person, grant.scopes) == ("grandval", {"revenu_solidarite_active"})
    with pytest.raises(SystemExit) as info:
        main(["fake-api-particulier", "--france-connect", "personne"])
    captured = capsys.readouterr()
    assert info.value.code == 2 and "personne inconnue du faux serveur : personne" in captured.err
    assert "grandval" in captured.err and len(_StoppedServer.served) == 1  # no server started


@pytest.mark.parametrize(("person", "code", "least_wait"), [
    ("panne-reponse", "37999", 0.0), ("panne-reseau", "00501", 10.0), ("panne-delai", "37002", 0.0)])
def test_client_retries_a_provider_down_then_gives_up(person: str, code: str, least_wait: float) -> None:
    """The client sees the real 5xx bodies: bounded retries, `meta.retry_in` honoured, then unknown."""
    from .test_api_client import fake_transport

    fresh = FakeApiParticulier(rate_limit=100_000)
    waits: list[float] = []
    api = ApiParticulier(token=fresh.issue_token(), recipient=SIRET, base_url="local",
                         transport=fake_transport(fresh), sleep=waits.append, retries=2,
                         rate_limit=None)
    result = api.get(QF_PATH, Identity.parse(client_identity(PERSONS[person].identity)))
    assert (result.status, result.code, result.reason) == ("unknown", code, "service indisponible")
    assert len(waits) == 2 and min(waits) >= least_wait


def test_a_maintenance_longer_than_the_longest_wait_is_unknown_at_once() -> None:
    """`meta.retry_in: 120` is beyond the 60 s a client ever sleeps: no wait, the delay is said."""
    from .test_api_client import fake_transport

    fresh = FakeApiParticulier(rate_limit=100_000)
    waits: list[float] = []
    api = ApiParticulier(token=fresh.issue_token(), recipient=SIRET, base_url="local",
                         transport=fake_transport(fresh), sleep=waits.append, retries=2, rate_limit=None)
    result = api.get(QF_PATH, Identity.parse(client_identity(PERSONS["panne-maintenance"].identity)))
    assert (result.status, result.code) == ("unknown", "37020") and waits == []
    assert result.reason == ("service indisponible (nouvel essai annoncé dans 120 s (2 min), au-delà de "
                             "l'attente maximale de 60 s)")


def test_france_connect_over_http(server: tuple[str, FakeApiParticulier]) -> None:
    base, fake = server
    token = fake.issue_france_connect_token("castaing", ["allocation_adulte_handicape"])
    request = urllib.request.Request(f"{base}/v3/dss/allocation_adulte_handicape/france_connect?recipient={SIRET}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["X-Response-Cached"] == "false"
        assert json.loads(response.read())["data"] == {"est_beneficiaire": True, "date_debut_droit": "2019-04-01"}
