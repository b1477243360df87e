"""Fetch only what the rules need, map it, cite it (issue 5 items 2 and 3)."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tarifrules import TarifError, load
from tarifrules.api_particulier.client import ApiParticulier, AsyncApiParticulier
from tarifrules.api_particulier.connect import FAKE_RECIPIENT, connect, mock_transport
from tarifrules.api_particulier.fake import FT_PATH, MEN_PATH, QF_PATH, FakeApiParticulier
from tarifrules.api_particulier.fetch import Fetcher, fetch, fetch_async
from tarifrules.api_particulier.household import Household

from .helpers import ROOT

EXAMPLES = ROOT / "examples" / "deliberations"
CANTINE = load(EXAMPLES / "restauration-scolaire.tarif")
BOURSE = load(EXAMPLES / "college-aide-bourse.tarif")
DAY = datetime.date(2025, 11, 5)
CAMILLE = {"nom_naissance": "LAVANDIER", "prenoms": ["CAMILLE"], "sexe": "F", "annee_naissance": 1988,
           "mois_naissance": 4, "jour_naissance": 17, "code_commune_naissance": "24037"}
INES = {"nom_naissance": "LOUVEL", "prenoms": ["INES"], "sexe": "F", "annee_naissance": 2013,
        "mois_naissance": 2, "jour_naissance": 11, "code_etablissement": "0240012X"}
FAMILY = Household.parse({"allocataire": CAMILLE, "identifiant_france_travail": "demandeur.cat1"})
CANTINE_FETCHER = Fetcher(CANTINE)


def fake_client(fake: FakeApiParticulier | None = None, scopes: tuple[str, ...] | None = None) -> ApiParticulier:
    fake = fake or FakeApiParticulier()
    token = fake.issue_token() if scopes is None else fake.issue_token(scopes)
    return ApiParticulier(token=token, recipient=FAKE_RECIPIENT, base_url="local", transport=mock_transport(fake),
                          rate_limit=None)


Answer = tuple[int, dict[str, Any]]


def scripted_client(routes: dict[str, Callable[[httpx.Request], Answer]], seen: list[str]) -> ApiParticulier:
    """A client whose answers come from `routes` (path → answer); `seen` records the paths called."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        status, body = routes[request.url.path](request)
        return httpx.Response(status, json=body, headers={"X-Request-ID": f"rid-{len(seen)}"})

    return ApiParticulier(token="t", recipient=FAKE_RECIPIENT, transport=httpx.MockTransport(handler),
                          sleep=lambda _: None, rate_limit=None, backoff=0)


def data_answer(data: dict[str, Any]) -> Callable[[httpx.Request], Answer]:
    return lambda _: (200, {"data": data, "links": {}, "meta": {}})


def qf_answer(value: int | None, **extra: Any) -> Callable[[httpx.Request], Answer]:
    qf = {"fournisseur": "CNAF", "valeur": value, "annee": 2025, "mois": 11, "annee_calcul": 2025, "mois_calcul": 10}
    return lambda _: (200, {"data": {"quotient_familial": qf, **extra}, "links": {}, "meta": {}})


def job_seeker(start: str = "2025-02-03", end: str | None = None) -> Callable[[httpx.Request], Answer]:
    inscription = {"date_debut": start, "date_fin": end, "code_certification_cnav": "VC",
                   "categorie": {"code": 1, "libelle": "PERSONNE SANS EMPLOI"}}
    return lambda _: (200, {"data": {"identifiant": "x", "inscription": inscription}, "links": {}, "meta": {}})


def error(status: int, code: str) -> Callable[[httpx.Request], Answer]:
    return lambda _: (status, {"errors": [{"code": code, "title": "t", "detail": "d", "meta": {}}]})


# ------------------------------------------------------------------ against the fake server


def test_fetches_qf_then_france_travail_and_cites_both() -> None:
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, fake_client())
    assert result.situation == {"quotient_familial": 650, "demandeur_emploi": True}
    assert [call.endpoint for call in result.calls] == [QF_PATH, FT_PATH]
    assert all(call.status == "ok" and call.request_id for call in result.calls)
    qf = result.provenance["quotient_familial"]
    assert (qf.endpoint, qf.provider, qf.period, qf.cached, qf.shown) == (QF_PATH, "CAF", "calculé en 10/2025", False,
                                                                         "650 €")
    assert qf.request_id == result.calls[0].request_id
    assert qf.sentence() == "source CAF via API Particulier, calculé en 10/2025"
    evaluation = CANTINE.evaluate(result.situation, date=DAY).with_sources(result.sources())
    assert evaluation.outputs["tarif_repas"].display() == "1,05 €"
    text = str(evaluation.explain())
    assert "quotient_familial = 650 €, source CAF via API Particulier, calculé en 10/2025" in text
    assert "demandeur_emploi = oui, source France Travail via API Particulier" in text
    assert evaluation.to_json()["sources"][0] == {"datum": "quotient_familial", "value": "650 €",
                                                  "source": "source CAF via API Particulier, calculé en 10/2025"}


def test_other_fields_of_the_answer_are_dropped_on_receipt() -> None:
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, fake_client())
    document = json.dumps(result.to_json(), ensure_ascii=False)
    for payload_value in ("TILLEULS", "LOU", "CHAMPCEVINEL", "SABLIER", "0600000000", "CAMILLE"):
        assert payload_value not in document


def test_person_not_found_stays_unknown_with_the_reason_and_nothing_else_is_asked() -> None:
    household = Household.parse({"allocataire": {**CAMILLE, "nom_naissance": "INCONNU"},
                                 "identifiant_france_travail": "demandeur.cat1"})
    result = fetch(CANTINE_FETCHER, household, DAY, fake_client())
    assert result.situation == {}
    assert result.unknown == {"quotient_familial": "personne non trouvée (code 37003)"}
    # QF unknown: the rules bill 5,40 € whatever the job situation, so France Travail is not called
    assert [call.endpoint for call in result.calls] == [QF_PATH]
    assert result.not_needed == ("demandeur_emploi",)
    evaluation = CANTINE.evaluate(result.situation, date=DAY).with_sources(result.sources())
    assert "quotient_familial = inconnu, non obtenu via API Particulier : personne non trouvée (code 37003)" in str(
        evaluation.explain())


def test_missing_identity_makes_no_call_and_says_what_to_give() -> None:
    result = fetch(CANTINE_FETCHER, Household(), DAY, fake_client())
    assert result.calls == ()
    assert result.unknown == {"quotient_familial": "identité à fournir : allocataire ou jeton_france_connect"}


def test_token_without_the_scope_is_a_configuration_error() -> None:
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, fake_client(scopes=("pole_emploi_inscription",)))
    assert [call.status for call in result.calls] == ["error"]
    assert result.errors == result.calls
    assert "scope manquant : cnaf_quotient_familial" in result.unknown["quotient_familial"]


def test_pupil_scholarship_grade_from_the_education_nationale() -> None:
    household = Household.parse({"eleve": INES})
    result = fetch(BOURSE, household, datetime.date(2025, 11, 5), fake_client(), {"interne": False})
    assert result.situation == {"échelon": 2, "interne": False}
    assert [call.endpoint for call in result.calls] == [MEN_PATH]
    assert result.provenance["échelon"].period == "année scolaire 2025-2026"
    assert result.provenance["échelon"].shown == "2"


def test_async_fetch_gives_the_same_result() -> None:
    fake = FakeApiParticulier()

    async def run() -> Any:
        async with AsyncApiParticulier(token=fake.issue_token(), recipient=FAKE_RECIPIENT, base_url="local",
                                       transport=_async_transport(fake), rate_limit=None) as api:
            return await fetch_async(CANTINE, FAMILY, DAY, api)

    result = asyncio.run(run())
    assert result.situation == {"quotient_familial": 650, "demandeur_emploi": True}
    assert [call.endpoint for call in result.calls] == [QF_PATH, FT_PATH]


def _async_transport(fake: FakeApiParticulier) -> httpx.MockTransport:
    sync = mock_transport(fake)

    async def handler(request: httpx.Request) -> httpx.Response:
        return sync.handle_request(request)

    return httpx.MockTransport(handler)


def test_connect_without_token_uses_the_fake_server_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("API_PARTICULIER_TOKEN", raising=False)
    connection = connect(CANTINE_FETCHER.scopes)
    assert connection.fake and connection.note and "faux serveur" in connection.note
    with connection.client:
        assert fetch(CANTINE_FETCHER, FAMILY, DAY, connection.client).situation["quotient_familial"] == 650


def test_connect_with_token_targets_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_PARTICULIER_TOKEN", "real-token")
    monkeypatch.setenv("API_PARTICULIER_RECIPIENT", FAKE_RECIPIENT)
    connection = connect(CANTINE_FETCHER.scopes)
    assert not connection.fake and connection.note is None
    assert connection.client.base_url == "https://particulier.api.gouv.fr"
    connection.client.close()


def test_fetcher_knows_the_minimal_scopes() -> None:
    assert CANTINE_FETCHER.scopes == ("cnaf_quotient_familial", "pole_emploi_inscription")


# ------------------------------------------------------------------ hand-made answers


@settings(max_examples=60, deadline=None)
@given(qf=st.integers(min_value=0, max_value=3000))
def test_france_travail_is_called_only_when_it_can_change_the_tariff(qf: int) -> None:
    seen: list[str] = []
    client = scripted_client({QF_PATH: qf_answer(qf), FT_PATH: job_seeker()}, seen)
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, client)
    assert result.situation["quotient_familial"] == qf
    decided_by_qf = CANTINE.evaluate({"quotient_familial": qf}, date=DAY).outputs["tarif_repas"].status == "value"
    assert (FT_PATH in seen) == (not decided_by_qf)
    assert seen[0] == QF_PATH
    if qf < 400:
        assert seen == [QF_PATH]  # the issue's example: below 400 € the tariff is 1,00 € either way


def test_qf_below_400_makes_no_france_travail_call() -> None:
    seen: list[str] = []
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, scripted_client({QF_PATH: qf_answer(300)}, seen))
    assert seen == [QF_PATH] and result.situation == {"quotient_familial": 300}
    assert CANTINE.evaluate(result.situation, date=DAY).outputs["tarif_repas"].display() == "1,00 €"


@pytest.mark.parametrize(("answer", "reason"), [
    (error(404, "37003"), "personne non trouvée (code 37003)"),
    (error(503, "37001"), "service indisponible (code 37001)"),
    (error(422, "00366"), "erreur de configuration"),
    (error(401, "00101"), "jeton ou scope"),
])
def test_errors_become_unknowns_with_reasons(answer: Callable[[httpx.Request], Answer], reason: str) -> None:
    seen: list[str] = []
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, scripted_client({QF_PATH: answer}, seen))
    assert reason in result.unknown["quotient_familial"]
    assert "quotient_familial" not in result.situation


def test_timeouts_become_service_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = ApiParticulier(token="t", recipient=FAKE_RECIPIENT, transport=httpx.MockTransport(handler),
                            sleep=lambda _: None, rate_limit=None)
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, client)
    assert result.unknown["quotient_familial"] == "service indisponible (délai dépassé)"
    assert len(result.calls) == 1 and result.calls[0].http_status is None


def test_null_qf_is_unknown_not_zero() -> None:
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, scripted_client({QF_PATH: qf_answer(None)}, []))
    assert result.unknown["quotient_familial"] == "non renseigné par le fournisseur"


def test_value_outside_the_declaration_is_unknown() -> None:
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, scripted_client({QF_PATH: qf_answer(-5)}, []))
    assert result.unknown["quotient_familial"].startswith("valeur reçue non conforme au type déclaré (D0")


def test_scope_not_granted_field_absent() -> None:
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, scripted_client({QF_PATH: data_answer({"allocataires": []})}, []))
    assert "quotient_familial absent de la réponse" in result.unknown["quotient_familial"]


def test_ended_registration_is_not_a_job_seeker() -> None:
    routes = {QF_PATH: qf_answer(650), FT_PATH: job_seeker("2024-01-10", "2025-06-30")}
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, scripted_client(routes, []))
    assert result.situation == {"quotient_familial": 650, "demandeur_emploi": False}


def test_no_registration_is_not_a_job_seeker() -> None:
    routes = {QF_PATH: qf_answer(650), FT_PATH: data_answer({"inscription": None})}
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, scripted_client(routes, []))
    assert result.situation["demandeur_emploi"] is False


def test_no_scholarship_grade_reads_as_aucun() -> None:
    answer = data_answer({"annee_scolaire": "2025-2026", "echelon_bourse": None})
    result = fetch(BOURSE, Household.parse({"eleve": INES}), DAY, scripted_client({MEN_PATH: answer}, []),
                   {"interne": False})
    assert result.situation["échelon"] == "aucun"


def test_known_data_are_not_fetched() -> None:
    seen: list[str] = []
    result = fetch(CANTINE_FETCHER, FAMILY, DAY, scripted_client({}, seen),
                   {"quotient_familial": 1200, "demandeur_emploi": False})
    assert seen == [] and result.calls == ()


def test_qf_of_a_past_month_is_asked_with_annee_and_mois() -> None:
    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> Answer:
        seen.append(request.url)
        return qf_answer(300)(request)

    fetch(CANTINE_FETCHER, FAMILY, datetime.date(2025, 10, 1), scripted_client({QF_PATH: answer}, []))
    assert seen[0].params["annee"] == "2025" and seen[0].params["mois"] == "10"


def test_household_errors_name_fields_not_values() -> None:
    with pytest.raises(TarifError) as caught:
        Household.parse({"allocataire": {**CAMILLE, "sexe": "X"}, "ine": "SECRET-INE-42"})
    message = caught.value.diagnostics[0].message
    assert caught.value.diagnostics[0].code == "A002"
    assert "allocataire.sexe" in message and "ine" in message and "SECRET" not in message and "X" not in message
    assert repr(FAMILY) == "Household(…)"


def test_france_connect_token_is_preferred_and_no_identity_is_sent() -> None:
    fake = FakeApiParticulier()
    seen: list[httpx.Request] = []
    inner = mock_transport(fake)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return inner.handle_request(request)

    access_token = fake.issue_france_connect_token("lavandier", ("cnaf_quotient_familial",))
    client = ApiParticulier(token=fake.issue_token(), recipient=FAKE_RECIPIENT, base_url="local",
                            transport=httpx.MockTransport(handler), rate_limit=None)
    household = Household.parse({"allocataire": CAMILLE, "jeton_france_connect": access_token})
    result = fetch(CANTINE_FETCHER, household, DAY, client, {"demandeur_emploi": False})
    assert result.situation == {"quotient_familial": 650, "demandeur_emploi": False}
    assert [call.endpoint for call in result.calls] == ["/v3/dss/quotient_familial/france_connect"]
    assert seen[0].headers["Authorization"] == f"Bearer {access_token}"
    assert "nomNaissance" not in str(seen[0].url)


def test_every_example_identity_file_names_a_fixture_person() -> None:
    """The identity files the docs use match the fake server's fixtures (no silent 404)."""
    for path in sorted((ROOT / "examples" / "identites").glob("*.json")):
        household = Household.parse(json.loads(path.read_text(encoding="utf-8")))
        if household.allocataire is None:
            continue  # a foyer fiscal only (tests/test_dgfip.py)
        result = fetch(CANTINE_FETCHER, household, DAY, fake_client())
        expected = "unknown" if path.stem == "inconnu" else "ok"
        assert result.calls[0].status == expected, path.name


JOINT = load("""délibération "Aide quand les deux réponses sont connues"
  applicable à partir du 01/01/2025

données
  rsa : booléen, bénéficiaire du RSA
  aah : booléen, bénéficiaire de l'AAH

résultats
  aide : montant, aide versée

article 1 "Aide"
  aide : 0,00 €
    sauf si rsa est connu et aah est connu et (rsa ou aah) : 100,00 €
""", file="joint.tarif")


def test_data_that_decide_only_together_are_fetched() -> None:
    """Neither answer alone changes the aid; both together do: the fetcher still asks."""
    grandval = {"nom_naissance": "GRANDVAL", "prenoms": ["NADIA"], "sexe": "F", "annee_naissance": 1991,
                "mois_naissance": 5, "jour_naissance": 23, "code_commune_naissance": "24322"}
    result = fetch(JOINT, Household.parse({"allocataire": grandval}), DAY, fake_client())
    assert result.situation == {"rsa": True, "aah": False}
    assert JOINT.evaluate(result.situation, date=DAY).outputs["aide"].display() == "100,00 €"
