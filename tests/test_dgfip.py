"""API Impôt particulier (DGFiP): client, fake server, fetch of fiscal data (issue 9)."""

from __future__ import annotations

import datetime
import logging
import re

import httpx
import pytest

from tarifrules import TarifError, load
from tarifrules.api_particulier.client import ApiParticulier
from tarifrules.api_particulier.connect import FAKE_RECIPIENT, dgfip_transport, mock_transport
from tarifrules.api_particulier.fake import FakeApiParticulier
from tarifrules.api_particulier.fetch import Fetcher, fetch
from tarifrules.api_particulier.household import Household
from tarifrules.dgfip.client import ImpotParticulier, interpret_dgfip
from tarifrules.dgfip.fake import FakeImpotParticulier

from .helpers import ROOT

FISCAL = load(ROOT / "examples" / "deliberations" / "tarif-quotient-fiscal.tarif")
FETCHER = Fetcher(FISCAL)
DAY = datetime.date(2026, 10, 1)
DUPRE, SOLENNE = "1234567890123", "2345678901234"
CAMILLE = {"nom_naissance": "LAVANDIER", "prenoms": ["CAMILLE"], "sexe": "F", "annee_naissance": 1988,
           "mois_naissance": 4, "jour_naissance": 17, "code_commune_naissance": "24037"}


def dgfip_client(fake: FakeImpotParticulier | None = None, **kwargs: object) -> ImpotParticulier:
    fake = fake or FakeImpotParticulier()
    client_id, secret = fake.issue_client()
    return ImpotParticulier(client_id, secret, "teleservice-test", "local", transport=dgfip_transport(fake),
                            rate_limit=None, **kwargs)  # type: ignore[arg-type]


def particulier() -> ApiParticulier:
    fake = FakeApiParticulier()
    return ApiParticulier(token=fake.issue_token(), recipient=FAKE_RECIPIENT, base_url="local",
                          transport=mock_transport(fake), rate_limit=None)


# ------------------------------------------------------------------ client against the fake


def test_one_year_of_one_foyer_by_numero_fiscal() -> None:
    result = dgfip_client().get("ir", 2025, spi=DUPRE)
    assert result.status == "ok" and result.data is not None
    assert (result.data["rfr"], result.data["nbPart"], result.data["sitFam"]) == (32400, 3.0, "M")
    assert re.fullmatch(r"[0-9a-f-]{36}", result.request_id or "")  # the X-Correlation-ID sent, echoed


def test_last_available_notice_says_its_year() -> None:
    result = dgfip_client().get("deuxans", spi=SOLENNE)
    assert result.status == "ok" and result.data is not None and result.data["annRevenu"] == 2024


def test_a_year_not_yet_taxed_is_unknown_not_an_error() -> None:
    result = dgfip_client().get("ir", 2025, spi=SOLENNE)
    assert (result.status, result.code, result.http_status) == ("unknown", "4101", 410)
    assert "aucun avis" in (result.reason or "")


def test_unknown_numero_fiscal() -> None:
    result = dgfip_client().get("ir", 2025, spi="9999999999999")
    assert (result.status, result.code) == ("unknown", "4102")


def test_france_connect_mode_sends_no_numero_fiscal() -> None:
    fake = FakeImpotParticulier()
    seen: list[httpx.Request] = []
    inner = dgfip_transport(fake)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return inner.handle_request(request)

    client_id, secret = fake.issue_client()
    client = ImpotParticulier(client_id, secret, "tls", "local", transport=httpx.MockTransport(handler),
                              rate_limit=None)
    token = fake.issue_france_connect_token("dupre")
    assert client.get("ir", 2024, france_connect=token).data == {"rfr": 31200, "nbPart": 3.0, "sitFam": "M",
                                                                 "pac": {"nbPac": 2}, "sitParIso": None}
    call = seen[-1]
    assert "/spi/" not in call.url.path and call.headers["X-FranceConnect-OAuth"] == token
    assert call.headers["ID_Teleservice"] == "tls"


def test_the_oauth_token_is_fetched_once_and_reused() -> None:
    fake = FakeImpotParticulier()
    posts: list[str] = []
    inner = dgfip_transport(fake)

    def handler(request: httpx.Request) -> httpx.Response:
        posts.append(request.url.path)
        return inner.handle_request(request)

    client_id, secret = fake.issue_client()
    client = ImpotParticulier(client_id, secret, "t", "local", transport=httpx.MockTransport(handler),
                              rate_limit=None)
    client.get("ir", 2025, spi=DUPRE)
    client.get("ir", 2024, spi=DUPRE)
    assert posts.count("/token") == 1


def test_bad_credentials_are_a_configuration_error() -> None:
    fake = FakeImpotParticulier()
    client = ImpotParticulier("nobody", "wrong", "t", "local", transport=dgfip_transport(fake), rate_limit=None)
    result = client.get("ir", 2025, spi=DUPRE)
    assert result.status == "error" and "identifiants DGFiP refusés" in (result.reason or "")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"spi": "123"}, "13 chiffres"),
    ({}, "soit le numéro fiscal"),
    ({"spi": DUPRE, "france_connect": "x"}, "soit le numéro fiscal"),
])
def test_local_checks_before_any_call(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(TarifError) as caught:
        dgfip_client().get("ir", 2025, **kwargs)  # type: ignore[arg-type]
    assert message in caught.value.diagnostics[0].message


def test_missing_configuration_says_which_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DGFIP_CLIENT_ID", "DGFIP_CLIENT_SECRET", "DGFIP_ID_TELESERVICE", "DGFIP_API_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(TarifError) as caught:
        ImpotParticulier()
    assert "DGFIP_CLIENT_ID" in (caught.value.diagnostics[0].hint or "")


@pytest.mark.parametrize(("status", "code", "kind"), [
    (400, "4001", "error"), (400, "4002", "error"), (401, None, "error"), (403, "4031", "error"),
    (410, "4101", "unknown"), (410, "4102", "unknown"), (404, None, "unknown"),
])
def test_error_mapping(status: int, code: str | None, kind: str) -> None:
    body = {"erreur": {"codeapp": code, "message": "m"}} if code else {}
    outcome = interpret_dgfip(httpx.Response(status, json=body), 0)
    assert getattr(outcome, "status", None) == kind


def test_server_errors_are_retried_then_unknown() -> None:
    answers = iter([httpx.Response(503), httpx.Response(502), httpx.Response(500)])
    fake = FakeImpotParticulier()
    inner = dgfip_transport(fake)

    def handler(request: httpx.Request) -> httpx.Response:
        return inner.handle_request(request) if request.url.path == "/token" else next(answers)

    client_id, secret = fake.issue_client()
    sleeps: list[float] = []
    client = ImpotParticulier(client_id, secret, "t", "local", transport=httpx.MockTransport(handler),
                              rate_limit=None, sleep=sleeps.append)
    result = client.get("ir", 2025, spi=DUPRE)
    assert (result.status, result.reason) == ("unknown", "service indisponible") and sleeps == [0.5, 1.0]


def test_no_secret_numero_fiscal_or_value_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeImpotParticulier()
    client_id, secret = fake.issue_client()
    client = ImpotParticulier(client_id, secret, "t", "local", transport=dgfip_transport(fake), rate_limit=None)
    with caplog.at_level(logging.DEBUG):
        client.get("ir", 2025, spi=DUPRE)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "API Impôt particulier" in logged
    for leak in (DUPRE, secret, "32400", "fake-dgfip-token"):
        assert leak not in logged


# ------------------------------------------------------------------ fetch: the périscolaire example


def test_an_allocataire_is_priced_on_the_caf_qf_and_the_dgfip_is_not_called() -> None:
    household = Household.parse({"allocataire": CAMILLE, "numero_fiscal": DUPRE})
    result = fetch(FETCHER, household, DAY, particulier(), dgfip=dgfip_client())
    assert result.situation == {"quotient_familial": 650}
    assert [c.endpoint for c in result.calls] == ["/v3/dss/quotient_familial/identite"]
    assert set(result.not_needed) == {"revenu_fiscal", "parts_fiscales"}


def test_a_non_allocataire_is_priced_on_the_fiscal_quotient_with_the_income_year() -> None:
    household = Household.parse({"numero_fiscal": DUPRE})
    result = fetch(FETCHER, household, DAY, particulier(), dgfip=dgfip_client())
    assert result.situation == {"revenu_fiscal": 32400, "parts_fiscales": pytest.approx(3)}
    route = "/impotparticulier/1.0/spi/{spi}/dernieresituation/ir/assiettes/deuxans"
    assert [c.endpoint for c in result.calls] == [route]
    assert result.provenance["revenu_fiscal"].sentence() == "source DGFiP via API Impôt particulier, revenus 2025"
    evaluation = FISCAL.evaluate(result.situation, date=DAY).with_sources(result.sources())
    assert evaluation.outputs["tarif_heure"].display() == "1,08 €"
    assert "revenu_fiscal = 32 400 €, source DGFiP via API Impôt particulier, revenus 2025" in str(
        evaluation.explain())


def test_last_notice_of_a_foyer_without_the_latest_year() -> None:
    result = fetch(FETCHER, Household.parse({"numero_fiscal": SOLENNE}), DAY, particulier(), dgfip=dgfip_client())
    assert result.provenance["parts_fiscales"].period == "revenus 2024"
    assert FISCAL.evaluate(result.situation, date=DAY).outputs["quotient_retenu"].display() == "616,00 €"


def test_a_family_with_neither_gets_the_default_tariff_with_reasons() -> None:
    result = fetch(FETCHER, Household(), DAY, particulier(), dgfip=dgfip_client())
    assert result.calls == ()
    assert result.unknown["revenu_fiscal"] == "identité à fournir : numero_fiscal ou jeton_france_connect"
    assert FISCAL.evaluate(result.situation, date=DAY).outputs["tarif_heure"].display() == "2,40 €"


def test_without_a_dgfip_client_the_fiscal_data_stay_unknown() -> None:
    result = fetch(FETCHER, Household.parse({"numero_fiscal": DUPRE}), DAY, particulier())
    assert "non configurée" in result.unknown["revenu_fiscal"]


def test_fetcher_scopes_keep_the_two_habilitations_apart() -> None:
    assert FETCHER.scopes == ("cnaf_quotient_familial",)
    assert FETCHER.dgfip_scopes == ("dgfip_annee_n_moins_2_si_indispo_n_moins_1", "dgfip_nbpart", "dgfip_rfr")


def test_the_local_http_fake_server_also_answers_for_the_dgfip(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from tarifrules.api_particulier.fake import make_server

    dgfip = FakeImpotParticulier()
    server = make_server("127.0.0.1", 0, FakeApiParticulier(), dgfip)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client_id, secret = dgfip.issue_client()
        for name, value in (("DGFIP_CLIENT_ID", client_id), ("DGFIP_CLIENT_SECRET", secret),
                            ("DGFIP_ID_TELESERVICE", "essai"),
                            ("DGFIP_API_URL", f"http://127.0.0.1:{server.server_address[1]}")):
            monkeypatch.setenv(name, value)
        with ImpotParticulier(rate_limit=None) as client:
            result = client.get("deuxans", spi=DUPRE)
        assert result.status == "ok" and result.data is not None and result.data["annRevenu"] == 2025
    finally:
        server.shutdown()
        server.server_close()
