"""Hostile API servers and identifiers (issue 15 item 8): nothing raises, nothing sleeps long.

The misbehaviours are described in `tests/hostile/api/misbehaviours.py`; each is answered
through `httpx.MockTransport` with an injected `sleep` (and, for slowness, an injected clock),
or by a real server on 127.0.0.1 that drips its answer. Whatever the server does, `get`
returns an `ApiResult` within bounded time; only bad input from the caller (a SIRET, a
numéro fiscal) raises, and only `TarifError`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tarifrules.api_particulier.client import ApiParticulier, ApiResult, AsyncApiParticulier, Identity
from tarifrules.api_particulier.fake import QF_PATH
from tarifrules.api_particulier.limits import MAX_WAIT, server_number
from tarifrules.api_particulier.ratelimit import MARGIN, RateLimiter
from tarifrules.dgfip.client import ImpotParticulier

from .hostile.api.misbehaviours import RATE_LIMIT, RETRY_AFTER, RETRY_IN, SIZE, DripServer, Misbehaviour, slow_answer
from .hostile_support import assert_handled, library_error, messages, run_cli

SIRET = "13002526500013"
CAMILLE = Identity(nom_naissance="LAVANDIER", prenoms=("CAMILLE",), sexe="F", annee_naissance=1988,
                   mois_naissance=4, jour_naissance=17, code_commune_naissance="24037")
SECRETS = ("t0ken-secret", "LAVANDIER", "CAMILLE", "24037", "1988", "650")
ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif"


def answer(case: Misbehaviour) -> httpx.Response:
    headers = {name: value.encode() for name, value in case.headers.items()}  # UTF-8 bytes, as sent
    if case.streamed:
        return httpx.Response(case.status, headers=headers, content=case.chunks())
    return httpx.Response(case.status, headers=headers, content=case.content())


def always(case: Misbehaviour) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(case)

    return httpx.MockTransport(handler), seen


def api(transport: httpx.BaseTransport, sleeps: list[float], **kw: Any) -> ApiParticulier:
    kw.setdefault("rate_limit", None)
    return ApiParticulier(token="t0ken-secret", recipient=SIRET, transport=transport, sleep=sleeps.append, **kw)


def no_secret(result: ApiResult) -> None:
    text = repr(result)
    assert not [s for s in SECRETS if s in (result.reason or "")], text


# ------------------------------------------------------------------ delays announced by the server


@pytest.mark.parametrize("case", RETRY_AFTER + RETRY_IN, ids=lambda c: c.name)
def test_announced_delays_never_raise_and_never_sleep_long(case: Misbehaviour) -> None:
    transport, seen = always(case)
    sleeps: list[float] = []
    result = api(transport, sleeps).get(QF_PATH, CAMILLE)
    assert result.status == "unknown", result
    for words in case.says:
        assert words in (result.reason or ""), (result.reason, words)
    assert all(0 <= s <= MAX_WAIT for s in sleeps), sleeps
    assert sum(sleeps) <= case.max_sleep, sleeps
    if case.max_sleep == 0:  # beyond the longest wait: one attempt, no sleep
        assert len(seen) == 1 and sleeps == []
    no_secret(result)


@pytest.mark.parametrize("case", RETRY_AFTER + RETRY_IN, ids=lambda c: c.name)
def test_the_async_client_agrees(case: Misbehaviour) -> None:
    transport, _ = always(case)
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    async def run() -> ApiResult:
        async with AsyncApiParticulier(token="t0ken-secret", recipient=SIRET, transport=transport, sleep=sleep,
                                       rate_limit=None) as client:
            return await client.get(QF_PATH, CAMILLE)

    result = asyncio.run(run())
    assert result.status == "unknown" and all(w in (result.reason or "") for w in case.says), result
    assert sum(sleeps) <= case.max_sleep and all(s <= MAX_WAIT for s in sleeps)


def test_a_delay_within_the_cap_is_honoured_even_as_an_http_date() -> None:
    date = "Wed, 21 Oct 2026 07:28:00 GMT"
    steps = iter([httpx.Response(429, headers={"Date": date, "Retry-After": "Wed, 21 Oct 2026 07:28:20 GMT"}),
                  httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),  # past: now
                  httpx.Response(200, json={"data": {"x": 1}})])
    sleeps: list[float] = []
    result = api(httpx.MockTransport(lambda _: next(steps)), sleeps).get(QF_PATH, CAMILLE)
    assert result.status == "ok" and sleeps == [20.0, 0.0]


def test_real_sleep_is_never_given_a_bad_number() -> None:
    """With the default `time.sleep`, inf, nan or 1e309 would raise out of `get` (the bug)."""
    calls = iter([httpx.Response(429, headers={"Retry-After": v}) for v in ("nan", "inf", "1e309")])
    started = time.monotonic()
    client = ApiParticulier(token="t0ken-secret", recipient=SIRET, rate_limit=None, max_rate_retries=1,
                            transport=httpx.MockTransport(lambda _: next(calls)))
    first = client.get(QF_PATH, CAMILLE)  # nan → 1 s, then inf → 1 s… max_rate_retries=1: unknown
    second = client.get(QF_PATH, CAMILLE)  # 1e309 → beyond the cap, at once
    assert (first.status, second.status) == ("unknown", "unknown")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "NaN", "Infinity", "-5", "+5", "1_000", "٣", "３",
                                  "0x10", "", " ", "1e", "5.", ".5"])
def test_server_numbers_are_finite_non_negative_ascii(text: str) -> None:
    assert server_number(text) is None


@pytest.mark.parametrize(("value", "expected"), [("0", 0.0), ("3", 3.0), (" 2.5 ", 2.5), ("1e3", 1000.0),
                                                 (7, 7.0), (0.5, 0.5)])
def test_server_numbers_read(value: object, expected: float) -> None:
    assert server_number(value) == expected


@pytest.mark.parametrize("value", ["1e309", "9" * 350, 10 ** 400])
def test_huge_server_numbers_are_finite_and_beyond_every_cap(value: object) -> None:
    number = server_number(value)
    assert number is not None and number > 1e12 and number != float("inf")


def test_texts_from_the_server_cannot_forge_lines_nor_fill_the_screen() -> None:
    """Error details, codes and request ids are shown in reasons, logs and the CLI: no control
    or bidi characters, bounded length."""
    detail = "ligne 1\r\nerreur: faux\x1b[2J\u202e" + "x" * 10_000
    body = {"errors": [{"code": "00366\n", "detail": detail, "source": {"parameter": "a\nb"}}]}
    transport = httpx.MockTransport(lambda _: httpx.Response(422, json=body, headers={"X-Request-ID": "r" * 5000}))
    result = api(transport, []).get(QF_PATH, CAMILLE)
    texts = [result.reason or "", result.code or "", result.parameter or "", result.request_id or ""]
    assert result.status == "error" and all(not any(c in t for c in "\r\n\x1b\u202e") for t in texts), texts
    assert len(result.reason or "") < 400 and len(result.request_id or "") <= 128
    assert result.code == "00366" and result.parameter == "a b"


# ------------------------------------------------------------------ rate headers


@pytest.mark.parametrize("case", RATE_LIMIT, ids=lambda c: c.name)
def test_rate_headers_never_stall_nor_raise(case: Misbehaviour) -> None:
    now = [1_800_000_000.0]
    limiter = RateLimiter(20, clock=lambda: now[0], wall=lambda: now[0])
    transport, _ = always(Misbehaviour(case.name, 200, case.headers, body=b'{"data": {"x": 1}}'))
    sleeps: list[float] = []
    client = api(transport, sleeps, rate_limit=limiter)
    results = [client.get(QF_PATH, CAMILLE) for _ in range(3)]
    if case.says:  # a window said spent until after the deadline: unknown at once, no wait
        assert [r.status for r in results] == ["ok", "unknown", "unknown"]
        assert all(w in (results[1].reason or "") for w in case.says) and sleeps == []
    else:
        assert [r.status for r in results] == ["ok"] * 3
    assert limiter.rate == 20 and limiter.interval == pytest.approx(1 / (20 * MARGIN))
    assert all(0 <= s <= MAX_WAIT for s in sleeps), sleeps


def test_an_absurd_configured_rate_is_refused() -> None:
    for rate in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="positif"):
            RateLimiter(rate)


# ------------------------------------------------------------------ size


@pytest.mark.parametrize("case", SIZE, ids=lambda c: c.name)
def test_bodies_are_bounded(case: Misbehaviour) -> None:
    transport, seen = always(case)
    sleeps: list[float] = []
    result = api(transport, sleeps).get(QF_PATH, CAMILLE)
    assert result.status == "unknown", result
    assert all(w in (result.reason or "") for w in case.says), result.reason
    assert len(seen) == 1 and sleeps == []  # not asked again
    assert seen[0].headers["Accept-Encoding"] == "identity"


def test_the_streamed_body_stops_at_the_limit() -> None:
    """A body without Content-Length is read no further than the limit (plus one chunk)."""
    read = [0]

    def body() -> Iterator[bytes]:
        for _ in range(200):  # 200 × 64 kB = 13 MB if read to the end
            read[0] += 65_536
            yield b" " * 65_536

    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=body()))
    result = api(transport, []).get(QF_PATH, CAMILLE)
    assert result.status == "unknown" and read[0] <= 1_000_000 + 2 * 65_536


def test_a_body_within_the_limit_is_read() -> None:
    body = json.dumps({"data": {"pad": " " * 900_000, "x": 1}}).encode()
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    result = api(transport, []).get(QF_PATH, CAMILLE)
    assert result.status == "ok" and result.data is not None and result.data["x"] == 1


def test_the_size_limit_is_a_setting() -> None:
    transport, _ = always(Misbehaviour("small", 200, body=b'{"data": {"x": 1}}'))
    assert api(transport, [], max_bytes=5).get(QF_PATH, CAMILLE).status == "unknown"


# ------------------------------------------------------------------ one deadline per call


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_dripping_body_is_cut_at_the_deadline_on_an_injected_clock() -> None:
    clock = Clock()

    def drip() -> Iterator[bytes]:
        for byte in b'{"data": {"x": 1}}':
            clock.now += 5  # one byte every 5 s
            yield bytes([byte])

    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=drip()))
    client = ApiParticulier(token="t0ken-secret", recipient=SIRET, transport=transport, sleep=clock.sleep,
                            rate_limit=None, deadline=12, clock=clock)
    result = client.get(QF_PATH, CAMILLE)
    assert result.status == "unknown"
    assert result.reason == "service indisponible (pas de réponse complète en 12 s : délai total de l'appel dépassé)"
    assert clock.now - 100 <= 15


def test_retries_and_waits_stop_at_the_deadline() -> None:
    """Retries that would go past the deadline are not made: 3 × 503 with `retry_in: 20`."""
    clock = Clock()
    transport, seen = always(Misbehaviour("maintenance-20s", 503, retry_in=20))
    client = ApiParticulier(token="t0ken-secret", recipient=SIRET, transport=transport, sleep=clock.sleep,
                            rate_limit=None, deadline=30, clock=clock)
    result = client.get(QF_PATH, CAMILLE)
    assert result.status == "unknown" and len(seen) == 2 and clock.now - 100 == 20
    assert "nouvel essai dans 20 s : au-delà du délai total de l'appel (30 s)" in (result.reason or "")


def test_pacing_past_the_deadline_gives_up_without_waiting() -> None:
    clock = Clock()
    limiter = RateLimiter(20, clock=clock, wall=clock)
    limiter.observe({"RateLimit-Remaining": "0", "RateLimit-Reset": str(clock.now + 3600)})  # waits 60 s at most
    transport, seen = always(Misbehaviour("ok", 200, body=b'{"data": {"x": 1}}'))
    client = ApiParticulier(token="t0ken-secret", recipient=SIRET, transport=transport, sleep=clock.sleep,
                            rate_limit=limiter, deadline=30, clock=clock)
    result = client.get(QF_PATH, CAMILLE)
    assert result.status == "unknown" and seen == [] and clock.now == 100
    assert "débit limité" in (result.reason or "")


@pytest.mark.parametrize("head_first", [False, True], ids=["headers-dripped", "body-dripped"])
def test_a_real_dripping_server_is_cut_at_the_deadline(head_first: bool) -> None:
    """A server on 127.0.0.1 sends one byte a second: each read is quick, so only a deadline on
    the whole answer (here 2 s) ends the call."""
    with DripServer(slow_answer(), interval=1.0, head_first=head_first) as server:
        client = ApiParticulier(token="t0ken-secret", recipient=SIRET, base_url=server.url, rate_limit=None,
                                timeout=10, deadline=2)
        started = time.monotonic()
        result = client.get(QF_PATH, CAMILLE)
        elapsed = time.monotonic() - started
        client.close()
    assert result.status == "unknown", result
    assert "pas de réponse complète en 2 s" in (result.reason or "")
    assert elapsed < 5, elapsed


def test_a_real_dripping_server_and_the_async_client() -> None:
    with DripServer(slow_answer(), interval=1.0) as server:
        async def run() -> ApiResult:
            async with AsyncApiParticulier(token="t0ken-secret", recipient=SIRET, base_url=server.url,
                                           rate_limit=None, timeout=10, deadline=2) as client:
                return await client.get(QF_PATH, CAMILLE)

        started = time.monotonic()
        result = asyncio.run(run())
        elapsed = time.monotonic() - started
    assert result.status == "unknown" and "pas de réponse complète en 2 s" in (result.reason or "")
    assert elapsed < 5, elapsed


def test_a_fast_real_server_is_read_in_full() -> None:
    """The counter-test: the same server at full speed answers, the deadline does not cut it."""
    with DripServer(slow_answer(), interval=0.0) as server:
        client = ApiParticulier(token="t0ken-secret", recipient=SIRET, base_url=server.url, rate_limit=None,
                                deadline=5)
        result = client.get(QF_PATH, CAMILLE)
        client.close()
    assert result.status == "ok" and result.data == {"quotient_familial": {"valeur": 650}}


@pytest.mark.parametrize("deadline", [0, -1, float("nan"), float("inf")])
def test_the_deadline_must_be_positive(deadline: float) -> None:
    error = library_error(lambda: ApiParticulier(token="t", recipient=SIRET, deadline=deadline))
    assert "deadline" in messages(error)


# ------------------------------------------------------------------ SIRET of the recipient

BAD_SIRETS = {
    "arabic-indic": ("١٣٠٠٢٥٢٦٥٠٠٠١٣", "chiffres 0 à 9"),
    "fullwidth": ("１３００２５２６５０００１３", "chiffres 0 à 9"),
    "superscripts": ("¹³⁰⁰²⁵²⁶⁵⁰⁰⁰¹³", "chiffres 0 à 9"),
    "zeros": ("00000000000000", "SIREN nul"),
    "zero-siren": ("00000000000018", "SIREN nul"),
}


@pytest.mark.parametrize("name", BAD_SIRETS)
def test_bad_sirets_are_refused_by_the_library(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    siret, says = BAD_SIRETS[name]
    error = library_error(lambda: ApiParticulier(token="t", recipient=siret))
    assert error.diagnostics[0].code == "A001" and says in messages(error)
    monkeypatch.setenv("API_PARTICULIER_RECIPIENT", siret)
    error = library_error(lambda: ApiParticulier(token="t"))
    assert error.diagnostics[0].code == "A001" and says in messages(error)


def _identity_file(tmp_path: Path) -> Path:
    path = tmp_path / "identite.json"
    path.write_text(json.dumps({"allocataire": {"nom_naissance": "LAVANDIER", "prenoms": ["CAMILLE"], "sexe": "F",
                                                "annee_naissance": 1988, "mois_naissance": 4, "jour_naissance": 17,
                                                "code_commune_naissance": "24037"}}), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["arabic-indic", "fullwidth", "zeros"])
def test_bad_sirets_are_refused_by_the_cli(name: str, tmp_path: Path) -> None:
    siret, says = BAD_SIRETS[name]
    identity = _identity_file(tmp_path)
    env = {"API_PARTICULIER_TOKEN": "", "API_PARTICULIER_RECIPIENT": "", "DGFIP_CLIENT_ID": ""}
    by_option = run_cli(["fetch", RULES, "--identite", identity, "--destinataire", siret], env=env)
    assert_handled(by_option, 2, "A001", says)
    by_environment = run_cli(["fetch", RULES, "--identite", identity],
                             env={**env, "API_PARTICULIER_RECIPIENT": siret})
    assert_handled(by_environment, 2, "A001", says)


# ------------------------------------------------------------------ API Impôt particulier (DGFiP)


def dgfip(handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float], **kw: Any) -> ImpotParticulier:
    def routed(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "jeton", "expires_in": 3600})
        return handler(request)

    return ImpotParticulier("id", "secret", "tele", "local", transport=httpx.MockTransport(routed),
                            sleep=sleeps.append, rate_limit=None, **kw)


@pytest.mark.parametrize("case", [c for c in RETRY_AFTER if c.status == 429], ids=lambda c: c.name)
def test_dgfip_announced_delays(case: Misbehaviour) -> None:
    sleeps: list[float] = []
    result = dgfip(lambda _: answer(case), sleeps).get("ir", 2025, spi="1234567890123")
    assert result.status == "unknown" and all(w in (result.reason or "") for w in case.says), result.reason
    assert sum(sleeps) <= case.max_sleep and all(s <= MAX_WAIT for s in sleeps)


@pytest.mark.parametrize("case", SIZE, ids=lambda c: c.name)
def test_dgfip_bodies_are_bounded(case: Misbehaviour) -> None:
    result = dgfip(lambda _: answer(case), []).get("ir", 2025, spi="1234567890123")
    assert result.status == "unknown" and all(w in (result.reason or "") for w in case.says), result.reason


@pytest.mark.parametrize("body", [b"pas du json", b"[1, 2]", b'{"access_token": 12}', b'{"access_token": ""}',
                                  b'{"access_token": "a\\nb"}', b'{"access_token": "ok", "expires_in": "nan"}',
                                  b'{"access_token": "ok", "expires_in": 1e400}',
                                  b'{"access_token": "ok", "expires_in": -5}'])
def test_dgfip_token_answers_never_raise(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, content=body)
        return httpx.Response(200, json={"rfr": 1})

    client = ImpotParticulier("id", "secret", "tele", "local", transport=httpx.MockTransport(handler),
                              sleep=lambda _: None, rate_limit=None)
    result = client.get("ir", 2025, spi="1234567890123")
    assert result.status in ("ok", "error"), result


def test_dgfip_token_lifetime_is_bounded() -> None:
    now = [0.0]
    asked = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            asked[0] += 1
            return httpx.Response(200, content=b'{"access_token": "ok", "expires_in": 1' + b"0" * 400 + b"}")
        return httpx.Response(200, json={"rfr": 1})

    client = ImpotParticulier("id", "secret", "tele", "local", transport=httpx.MockTransport(handler),
                              sleep=lambda _: None, rate_limit=None, clock=lambda: now[0])
    client.get("ir", 2025, spi="1234567890123")
    now[0] = 2 * 86400
    client.get("ir", 2025, spi="1234567890123")
    assert asked[0] == 2  # a token « valid for 10^400 s » is asked for again after a day


@pytest.mark.parametrize("spi", ["١٢٣٤٥٦٧٨٩٠١٢٣", "１２３４５６７８９０１２３", "0000000000000", "1234567890123\n"])
def test_dgfip_bad_numeros_fiscaux_are_refused(spi: str) -> None:
    client = dgfip(lambda _: httpx.Response(200, json={}), [])
    error = library_error(lambda: client.get("ir", 2025, spi=spi))
    assert error.diagnostics[0].code == "A002" and "13 chiffres de 0 à 9" in messages(error)


# ------------------------------------------------------------------ one deadline per household


def test_a_slow_server_cannot_hold_a_household_past_its_deadline() -> None:
    """Every answer drips for 40 s (fake clock): the QF arrives within both deadlines, France
    Travail is cut when the household's 60 s are spent, though its own call had 100 s."""
    import datetime

    from tarifrules import load
    from tarifrules.api_particulier.fetch import fetch
    from tarifrules.api_particulier.household import Household

    clock = Clock()
    answers = {QF_PATH: {"data": {"quotient_familial": {"fournisseur": "CNAF", "valeur": 650, "annee": 2025,
                                                        "mois": 11, "annee_calcul": 2025, "mois_calcul": 10}}},
               "/v3/france_travail/statut/identifiant": {"data": {"identifiant": "x", "inscription": {
                   "date_debut": "2025-02-03", "date_fin": None, "categorie": {"code": 1}}}}}
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        whole = json.dumps(answers[request.url.path]).encode()

        def drip() -> Iterator[bytes]:  # 4 chunks, 10 s apart
            for i in range(4):
                clock.now += 10
                yield whole[i * len(whole) // 4:(i + 1) * len(whole) // 4]

        return httpx.Response(200, content=drip())

    client = ApiParticulier(token="t0ken-secret", recipient=SIRET, transport=httpx.MockTransport(handler),
                            sleep=clock.sleep, rate_limit=None, deadline=100, clock=clock)
    household = Household.parse({"allocataire": {"nom_naissance": "LAVANDIER", "prenoms": ["CAMILLE"], "sexe": "F",
                                                 "annee_naissance": 1988, "mois_naissance": 4, "jour_naissance": 17,
                                                 "code_commune_naissance": "24037"},
                                 "identifiant_france_travail": "demandeur.cat1"})
    result = fetch(load(RULES), household, datetime.date(2025, 11, 5), client, deadline=60, clock=clock)
    assert seen == [QF_PATH, "/v3/france_travail/statut/identifiant"], result.calls
    assert result.situation == {"quotient_familial": 650}
    assert clock.now - 100 <= 60 + 10  # one chunk past the deadline at most
    reasons = [call.reason for call in result.calls if call.reason]
    assert reasons == ["service indisponible (pas de réponse complète en 60 s (1 min) : délai total du foyer "
                       "dépassé)"], result.calls


# ------------------------------------------------------------------ identifiers of the household


@pytest.mark.parametrize(("key", "value"), [("numero_fiscal", "１２３４５６７８９０１２３"),
                                            ("numero_fiscal", "١٢٣٤٥٦٧٨٩٠١٢٣")])
def test_household_identifiers_in_other_digits_are_refused(key: str, value: str) -> None:
    from tarifrules.api_particulier.household import Household

    error = library_error(lambda: Household.parse({key: value}))
    assert key in messages(error) and value not in messages(error)


def test_a_pupil_school_code_in_other_digits_is_refused() -> None:
    from tarifrules.api_particulier.household import Household

    pupil = {"nom_naissance": "LOUVEL", "prenoms": ["INES"], "sexe": "F", "annee_naissance": 2013,
             "mois_naissance": 2, "jour_naissance": 11, "code_etablissement": "٠٢٤٠٠١٢X"}
    error = library_error(lambda: Household.parse({"eleve": pupil}))
    assert "code_etablissement" in messages(error)


@pytest.mark.parametrize("value", ["²", "١٩٨٨", "１９８８"])
def test_the_fake_server_reads_other_digits_as_a_format_error(value: str) -> None:
    """The built-in fake answers what the real API would (422), never a crash."""
    from tarifrules.api_particulier.fake import FakeApiParticulier

    fake = FakeApiParticulier()
    query = {"recipient": [SIRET], "nomNaissance": ["LAVANDIER"], "prenoms[]": ["CAMILLE"], "sexeEtatCivil": ["F"],
             "anneeDateNaissance": [value], "moisDateNaissance": ["4"], "jourDateNaissance": ["17"],
             "codeCogInseeCommuneNaissance": ["24037"], "codeCogInseePaysNaissance": ["99100"]}
    status, _, _ = fake.handle("GET", QF_PATH, query, {"Authorization": f"Bearer {fake.issue_token()}"})
    assert status == 422
    status, _, _ = fake.handle("GET", QF_PATH, {**query, "anneeDateNaissance": ["1988"], "recipient": [value * 14]},
                               {"Authorization": f"Bearer {fake.issue_token()}"})
    assert status == 422


# ------------------------------------------------------------------ through the command line


def test_the_cli_does_not_wait_an_hour_for_a_real_server(tmp_path: Path) -> None:
    """`tarifrules fetch` against a real server on 127.0.0.1 that answers 429 `Retry-After: 3600`."""
    from .hostile.api.misbehaviours import http_answer

    one_hour = next(c for c in RETRY_AFTER if c.name == "retry-after-one-hour")
    with DripServer(http_answer(one_hour), interval=0.0) as server:
        started = time.monotonic()
        result = run_cli(["fetch", RULES, "--identite", _identity_file(tmp_path), "--environnement", server.url,
                          "--destinataire", SIRET], env={"API_PARTICULIER_TOKEN": "t0ken-secret"}, timeout=30)
        elapsed = time.monotonic() - started
    assert_handled(result, 0, "nouvel essai annoncé dans 3 600 s (1 h)")
    assert elapsed < 15 and "t0ken-secret" not in result.stdout + result.stderr


_DEEP = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"  # 200 Ko: within the size limit


@pytest.mark.parametrize("status", [200, 400, 500])
def test_an_answer_nested_thousands_deep_is_unreadable_not_a_crash(status: int) -> None:
    # `response.json()` raised RecursionError out of `get` (exit 70 from `eval --fetch`).
    transport = httpx.MockTransport(lambda _: httpx.Response(status, content=_DEEP))
    result = api(transport, []).get(QF_PATH, CAMILLE)
    assert result.status in ("error", "unknown"), result
    dgfip_result = dgfip(lambda _: httpx.Response(status, content=_DEEP), []).get("ir", 2025, spi="1234567890123")
    assert dgfip_result.status in ("error", "unknown"), dgfip_result


def test_a_token_answer_nested_thousands_deep_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=_DEEP if request.url.path == "/token" else b'{"rfr": 1}')

    client = ImpotParticulier("id", "secret", "tele", "local", transport=httpx.MockTransport(handler),
                              sleep=lambda _: None, rate_limit=None)
    assert client.get("ir", 2025, spi="1234567890123").status in ("error", "unknown")
