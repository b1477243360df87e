"""API Particulier client core: requests, identity rules, error mapping, no leaks (issue 5 items 1, 3)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from tarifrules import TarifError
from tarifrules.api_particulier.client import (
    ApiParticulier,
    AsyncApiParticulier,
    Identity,
    build_request,
    check_identity,
    validate_siret,
)
from tarifrules.api_particulier.connect import mock_transport as fake_transport
from tarifrules.api_particulier.fake import FT_PATH, MEN_PATH, QF_PATH, FakeApiParticulier

SIRET = "13002526500013"
CAMILLE = Identity(nom_naissance="LAVANDIER", prenoms=("CAMILLE",), sexe="F", annee_naissance=1988,
                   mois_naissance=4, jour_naissance=17, code_commune_naissance="24037")
FANTOME = Identity(nom_naissance="FANTOME", prenoms=("NOE",), sexe="M", annee_naissance=1995,
                   mois_naissance=1, jour_naissance=1, code_commune_naissance="33063")
INES = Identity(nom_naissance="LOUVEL", prenoms=("INES",), sexe="F", annee_naissance=2013,
                mois_naissance=2, jour_naissance=11)


@pytest.fixture
def fake() -> FakeApiParticulier:
    return FakeApiParticulier()


def client(fake: FakeApiParticulier, scopes: tuple[str, ...] | None = None, **kw: Any) -> ApiParticulier:
    token = fake.issue_token() if scopes is None else fake.issue_token(scopes)
    return ApiParticulier(token=token, recipient=SIRET, base_url="local", transport=fake_transport(fake), **kw)


# ------------------------------------------------------------------ (a) against the fake server


def test_ok_against_fake(fake: FakeApiParticulier) -> None:
    result = client(fake).get(QF_PATH, CAMILLE)
    assert result.status == "ok" and result.request_id
    assert result.data is not None and result.data["quotient_familial"]["valeur"] == 650


def test_men_and_france_travail_against_fake(fake: FakeApiParticulier) -> None:
    api = client(fake)
    men = api.get(MEN_PATH, INES, anneeScolaire="2025-2026", codeEtablissement="0240012X")
    assert men.status == "ok", men
    assert men.data is not None and men.data["echelon_bourse"] == 2
    ft = api.get(FT_PATH, identifiant="demandeur.cat1")
    assert ft.status == "ok" and ft.data is not None


def test_404_is_unknown_person_not_found(fake: FakeApiParticulier) -> None:
    result = client(fake).get(QF_PATH, FANTOME)
    assert (result.status, result.reason, result.code) == ("unknown", "personne non trouvée", "23003")


def test_422_names_the_parameter(fake: FakeApiParticulier) -> None:
    result = client(fake).get(FT_PATH)
    assert (result.status, result.code, result.parameter) == ("error", "00380", "identifiant")
    assert result.parameter is not None and result.parameter in (result.reason or "")


def test_401_bad_token(fake: FakeApiParticulier) -> None:
    api = ApiParticulier(token="not-issued", recipient=SIRET, base_url="local", transport=fake_transport(fake))
    result = api.get(QF_PATH, CAMILLE)
    assert result.status == "error" and result.code == "00101" and "jeton ou scope" in (result.reason or "")


def test_403_names_missing_scope(fake: FakeApiParticulier) -> None:
    api = client(fake, scopes=("pole_emploi_identifiant",))
    result = api.get(QF_PATH, CAMILLE, scopes=["cnaf_quotient_familial"])
    assert result.status == "error" and result.code == "00100"
    assert "jeton ou scope" in (result.reason or "") and "cnaf_quotient_familial" in (result.reason or "")


def test_async_client_agrees(fake: FakeApiParticulier) -> None:
    handler = fake_transport(fake).handler  # type: ignore[attr-defined]

    async def run() -> tuple[str, str]:
        async with AsyncApiParticulier(token=fake.issue_token(), recipient=SIRET, base_url="local",
                                       transport=httpx.MockTransport(handler)) as api:
            ok = await api.get(QF_PATH, CAMILLE)
            missing = await api.get(QF_PATH, FANTOME)
        return ok.status, missing.status

    assert asyncio.run(run()) == ("ok", "unknown")


# ------------------------------------------------------------------ (b) hand-made responses


def scripted(*steps: httpx.Response | type[Exception]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = queue.pop(0)
        if isinstance(step, httpx.Response):
            return step
        raise step("simulated", request=request)  # type: ignore[call-arg]

    return httpx.MockTransport(handler), seen


def ok(data: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.Response(200, json={"data": data or {"x": 1}, "links": {}, "meta": {}},
                          headers={"X-Request-ID": "rid-ok"})


def err(status: int, code: str, headers: dict[str, str] | None = None, **meta: Any) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "title": "t", "detail": "d", "meta": meta}]},
                          headers=headers or {})


def scripted_client(transport: httpx.MockTransport, sleeps: list[float]) -> ApiParticulier:
    # no pacing here: these tests count the retry delays alone (pacing is tested below)
    return ApiParticulier(token="t0ken-secret", recipient=SIRET, transport=transport, sleep=sleeps.append,
                          rate_limit=None)


def test_429_waits_retry_after_then_succeeds() -> None:
    transport, seen = scripted(err(429, "00429", {"Retry-After": "3"}), ok())
    sleeps: list[float] = []
    result = scripted_client(transport, sleeps).get(QF_PATH, CAMILLE)
    assert result.status == "ok" and result.request_id == "rid-ok"
    assert sleeps == [3.0] and len(seen) == 2


def test_503_three_times_then_unknown() -> None:
    transport, seen = scripted(err(503, "37020"), err(502, "37999"), err(504, "37002"))
    sleeps: list[float] = []
    result = scripted_client(transport, sleeps).get(QF_PATH, CAMILLE)
    assert (result.status, result.reason, result.code) == ("unknown", "service indisponible", "37002")
    assert len(seen) == 3 and sleeps == [0.5, 1.0]


def test_maintenance_retry_in_is_honoured() -> None:
    transport, _ = scripted(err(503, "30020", retry_in=7), ok())
    sleeps: list[float] = []
    assert scripted_client(transport, sleeps).get(QF_PATH, CAMILLE).status == "ok"
    assert sleeps == [7.0]


def test_timeouts_retry_then_unknown() -> None:
    transport, seen = scripted(httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ReadTimeout)
    sleeps: list[float] = []
    result = scripted_client(transport, sleeps).get(QF_PATH, CAMILLE)
    assert result.status == "unknown" and (result.reason or "").startswith("service indisponible")
    assert len(seen) == 3


def test_timeout_then_ok() -> None:
    transport, _ = scripted(httpx.ReadTimeout, ok())
    assert scripted_client(transport, []).get(QF_PATH, CAMILLE).status == "ok"


def test_async_retries_with_injected_sleep() -> None:
    transport, seen = scripted(err(429, "00429", {"Retry-After": "2"}), err(503, "37020"), ok())
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    async def run() -> str:
        api = AsyncApiParticulier(token="tok", recipient=SIRET, transport=transport, sleep=sleep, rate_limit=None)
        result = await api.get(QF_PATH, CAMILLE)
        await api.aclose()
        return result.status

    assert asyncio.run(run()) == "ok" and sleeps == [2.0, 0.5] and len(seen) == 3


def test_request_shape() -> None:
    request = build_request(QF_PATH, Identity(nom_naissance="A", prenoms=("JEAN", "PIERRE"), sexe="M",
                                              code_commune_naissance="75056"),
                            recipient=SIRET, token="tok", params={"annee": 2025, "mois": 10})
    assert request.headers["Authorization"] == "Bearer tok"
    assert request.url.host == "particulier.api.gouv.fr"
    pairs = httpx.QueryParams(request.url.query.decode()).multi_items()
    assert ("prenoms[]", "JEAN") in pairs and ("prenoms[]", "PIERRE") in pairs
    assert ("recipient", SIRET) in pairs and ("annee", "2025") in pairs
    assert all(name != "nomUsage" for name, _ in pairs)


def test_france_connect_mode_sends_user_token_and_no_identity() -> None:
    transport, seen = scripted(ok())
    api = ApiParticulier(token="api-token", recipient=SIRET, transport=transport)
    assert api.get("/v3/dss/quotient_familial/france_connect", access_token="fc-token").status == "ok"
    request = seen[0]
    assert request.headers["Authorization"] == "Bearer fc-token"
    assert [name for name, _ in request.url.params.multi_items()] == ["recipient"]
    with pytest.raises(TarifError):
        build_request("/v3/dss/quotient_familial/france_connect", CAMILLE, recipient=SIRET, token="fc")
    with pytest.raises(TarifError):
        api.get("/v3/dss/quotient_familial/france_connect")


def test_token_and_recipient_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_PARTICULIER_TOKEN", "env-token")
    monkeypatch.setenv("API_PARTICULIER_RECIPIENT", SIRET)
    transport, seen = scripted(ok())
    ApiParticulier(transport=transport).get(QF_PATH, CAMILLE)
    assert seen[0].headers["Authorization"] == "Bearer env-token"
    monkeypatch.delenv("API_PARTICULIER_TOKEN")
    with pytest.raises(TarifError) as info:
        ApiParticulier()
    assert info.value.diagnostics[0].code == "A003"


def test_unknown_environment() -> None:
    with pytest.raises(TarifError):
        ApiParticulier(token="t", recipient=SIRET, base_url="prod")


# ------------------------------------------------------------------ (c) SIRET


@pytest.mark.parametrize("siret", ["13002526500013", "130 025 265 00013", "35600000000048", "35600000012345"])
def test_valid_sirets(siret: str) -> None:
    assert len(validate_siret(siret)) == 14


@pytest.mark.parametrize("siret", ["13002526500014", "1300252650001", "1300252650001A", "", "35600001234567"])
def test_invalid_sirets(siret: str) -> None:
    with pytest.raises(TarifError) as info:
        validate_siret(siret)
    assert info.value.diagnostics[0].code == "A001" and info.value.diagnostics[0].hint


def test_invalid_recipient_raises_before_any_call() -> None:
    transport, seen = scripted()
    with pytest.raises(TarifError):
        ApiParticulier(token="t", recipient="12345678901234", transport=transport)
    assert seen == []


# ------------------------------------------------------------------ (d) identity rules


def make(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"nom_naissance": "DURAND", "prenoms": ["ANNE"], "sexe": "F", "annee_naissance": 1990,
                            "mois_naissance": 5, "jour_naissance": 3, "code_commune_naissance": "24037"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("changes", [
    {"prenoms": []}, {"prenoms": ["A", "B", "C", "D"]}, {"sexe": "X"}, {"mois_naissance": 13},
    {"jour_naissance": 0}, {"code_pays_naissance": "99134"},  # abroad with a commune
    {"code_commune_naissance": "2C123"}, {"nom_usage": "durand"}, {"prenoms": ["AN1NE"]},
    {"annee_naissance": None, "mois_naissance": None},  # day without month
])
def test_identity_rejects(changes: dict[str, Any]) -> None:
    with pytest.raises(TarifError) as info:
        Identity.parse(make(**changes))
    assert info.value.diagnostics[0].code == "A002"


def test_identity_accepts_lowercase_sex_and_abroad_country_only() -> None:
    assert Identity.parse(make(sexe="m")).sexe == "M"
    abroad = Identity.parse(make(code_commune_naissance=None, code_pays_naissance="99134"))
    check_identity(QF_PATH, abroad)


def test_born_in_france_needs_commune_code_or_name_department_year() -> None:
    no_place = Identity.parse(make(code_commune_naissance=None))
    with pytest.raises(TarifError):
        check_identity(QF_PATH, no_place)
    triplet = Identity.parse(make(code_commune_naissance=None, nom_commune_naissance="Périgueux",
                                  code_departement_naissance="24"))
    check_identity(QF_PATH, triplet)
    check_identity(MEN_PATH, no_place)  # MEN takes no birthplace


def test_mesri_exactly_one_first_name_and_full_date() -> None:
    two = Identity.parse(make(prenoms=["ANNE", "MARIE"]))
    check_identity("/v3/cnous/etudiant_boursier/identite", two)
    with pytest.raises(TarifError):
        check_identity("/v3/mesri/statut_etudiant/identite", two)
    no_day = Identity.parse(make(jour_naissance=None))
    with pytest.raises(TarifError):
        check_identity("/v3/mesri/statut_etudiant/identite", no_day)
    with pytest.raises(TarifError):
        check_identity(MEN_PATH, no_day)
    check_identity(QF_PATH, no_day)


def test_identity_checked_before_sending() -> None:
    transport, seen = scripted()
    api = ApiParticulier(token="t", recipient=SIRET, transport=transport)
    with pytest.raises(TarifError):
        api.get("/v3/mesri/statut_etudiant/identite", Identity.parse(make(prenoms=["A", "B"])))
    assert seen == []


# ------------------------------------------------------------------ (e) nothing leaks


SECRETS = ("t0ken-secret", "DURAND", "ZEPHYRINE", "1990", "0503", "24037", "Périgueux", "650", "CONFIDENTIEL")


def _identity() -> dict[str, Any]:
    return make(prenoms=["ZEPHYRINE"], code_commune_naissance="24037")


def _texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    out = []
    for record in caplog.records:
        out.append(record.getMessage())
        out.append(str(record.args))
    return out


def test_nothing_secret_in_logs_or_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    payload = {"quotient_familial": {"valeur": 650}, "adresse": {"numero_libelle_voie": "CONFIDENTIEL"}}
    transport, seen = scripted(err(429, "00429", {"Retry-After": "0"}), err(503, "37020"), httpx.ReadTimeout,
                               ok(payload), err(404, "23003"), err(422, "00366"), err(401, "00101"),
                               err(403, "00100"))
    api = ApiParticulier(token="t0ken-secret", recipient=SIRET, transport=transport, sleep=lambda _: None)
    identity = Identity.parse(_identity())
    results = [api.get(QF_PATH, identity, annee=2025) for _ in range(5)]
    assert [r.status for r in results] == ["ok", "unknown", "error", "error", "error"]
    assert len(seen) == 8
    errors: list[str] = [repr(api), repr(identity), str(identity)]
    bad_calls: list[Callable[[], object]] = [
        lambda: Identity.parse({**_identity(), "sexe": "DURAND"}),
        lambda: Identity.parse({**_identity(), "code_pays_naissance": "99134"}),
        lambda: Identity.parse({**_identity(), "prenoms": ["ZEPHYRINE"] * 4}),
        lambda: check_identity("/v3/mesri/statut_etudiant/identite",
                               Identity.parse({**_identity(), "prenoms": ["ZEPHYRINE", "DURAND"]})),
        lambda: ApiParticulier(token="t0ken-secret", recipient="24037"),
        lambda: build_request(QF_PATH, identity, recipient=SIRET, token="t0ken-secret", base_url="DURAND"),
    ]
    for call in bad_calls:
        with pytest.raises(TarifError) as info:
            call()
        errors.append(str(info.value))
        errors.extend(f"{d.message} {d.hint}" for d in info.value.diagnostics)
    with pytest.raises(ValidationError) as direct:
        Identity(**{**_identity(), "sexe": "DURAND", "code_pays_naissance": "99134"})
    errors.append(str(direct.value))
    texts = _texts(caplog) + errors
    assert any("identifiant de requête" in t for t in texts)  # the client did log, at DEBUG
    assert any("HTTP Request" in t for t in texts)  # and httpx logged the URL, without its query
    for secret in SECRETS:
        leaks = [t for t in texts if secret in t]
        assert not leaks, (secret, leaks[:2])
