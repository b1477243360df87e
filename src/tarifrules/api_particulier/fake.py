"""A local fake API Particulier (v3+ routes), stdlib only.

`handle(method, path, query, headers) -> (status, headers, body)` is a pure-ish
request → response function (state: issued tokens, rate-limit windows, the DSS cache and
the call counts of transiently failing fixtures) usable in process, e.g. behind
`httpx.MockTransport`; `serve()` wraps it in a `ThreadingHTTPServer`.

Routes (REFERENCE §2.1): the DSS benefits (QF, C2S, RSA, prime d'activité, AAH, ASF, AEEH,
EAJE) in `identite` and `france_connect` modes, CNOUS v4 and MESRI v3 (`identite`, `ine`,
`france_connect`), France Travail statut and indemnités (`identifiant`), MEN v5, plus
`/api/ping`, `/api/introspect` and 410 on the QF v1 routes. Responses are
`{"data", "links", "meta"}` with the keys of the token's scopes only; errors are the real
`{"errors": [...]}` bodies (REFERENCE §7). The fixture households (`fixtures.py`) and the
synthetic population (`population.py`) are invented.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..dgfip.fake import FakeImpotParticulier
from . import routes as r
from .fixtures import (
    FT_FAILURES,
    FT_FIXTURES,
    FT_PAYMENTS,
    NOT_FOUND,
    PEOPLE,
    Answer,
    Person,
    failure_answer,
    not_beneficiary,
)
from .population import population_people

Query = Mapping[str, list[str]]
Response = tuple[int, dict[str, str], bytes]

_REQUEST_IDS = uuid.UUID("6c1f4a52-0e5e-4d3b-9a53-7461726966ff")  # namespace of the fake's X-Request-IDs
RATE_LIMIT = 20  # requests per 1-second window and per token (REFERENCE §8)
JSON_API = "application/vnd.api+json"
QF_V1_GONE = ("L'API Quotient Familial v1 n'est plus disponible depuis le 31/10/2025. "
              "Utilisez l'API Quotient Familial v3 : /v3/dss/quotient_familial/identite.")

QF_PATH = "/v3/dss/quotient_familial/identite"
FT_PATH = "/v3/france_travail/statut/identifiant"
MEN_PATH = "/v5/men/scolarites/identite"
GONE_PATHS = ("/api/v2/composition-familiale", "/api/caf/famille")

ROUTES = r.ROUTES
# path → top-level key of `data` → the scope that governs it (REFERENCE §4)
ENDPOINT_SCOPES: dict[str, dict[str, str]] = {path: dict(route.keys) for path, route in ROUTES.items()}
ALL_SCOPES: tuple[str, ...] = tuple(sorted({s for route in ROUTES.values() for s in route.gate}))


def _error(code: str, title: str, detail: str, parameter: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "title": title, "detail": detail}
    if parameter is not None:
        error["source"] = {"parameter": parameter}
    error["meta"] = {}
    return error


def _siret_ok(value: str) -> bool:
    if len(value) != 14 or not (value.isascii() and value.isdigit()):
        return False  # ASCII digits only: `int` would take other scripts' digits, or fail on « ² »
    if value.startswith("356000000"):
        return True  # La Poste
    total = 0
    for index, char in enumerate(reversed(value)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


_DATE_PARTS = ("anneeDateNaissance", "moisDateNaissance", "jourDateNaissance")


def _normal(name: str, value: str) -> str:
    value = value.strip().lower()
    return str(int(value)) if name in _DATE_PARTS and value.isascii() and value.isdigit() else value


def _key(query: Query, names: Iterable[str]) -> str:
    """Staging-like matching key: the identity params present, values lower-cased, sorted."""
    parts = []
    for name in sorted(names):
        found = r.values(query, name)
        if found:
            parts.append(f"{name}={'|'.join(_normal(name, v) for v in found)}")
    return "&".join(parts)


def _fixture_key(params: Mapping[str, Any], names: Iterable[str]) -> str:
    query = {k: (list(v) if isinstance(v, (list, tuple)) else [str(v)]) for k, v in params.items()}
    return _key(query, names)


@dataclass(frozen=True)
class FranceConnectGrant:
    """What a fake FranceConnect access token stands for: one person, some scopes."""
    person: str
    scopes: frozenset[str]
    identity_claims: bool = True


class FakeApiParticulier:
    """The fake server's state: fixtures, issued tokens, rate-limit windows, DSS cache.

    `population=N` also registers N synthetic households (`population.py`, seeded by `seed`)."""

    def __init__(self, clock: Callable[[], float] = time.time, rate_limit: int = RATE_LIMIT, *,
                 population: int = 0, seed: int = 0):
        self.clock = clock
        self.rate_limit = rate_limit
        self.tokens: dict[str, frozenset[str]] = {}
        self.france_connect_tokens: dict[str, FranceConnectGrant] = {}
        self._ids: dict[str, str] = {}
        self._windows: dict[str, tuple[int, int]] = {}
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._calls: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._served = 0
        self.people: dict[str, Person] = {}
        self._by_identity: dict[str, dict[str, Person]] = {family: {} for family in r.IDENTITY}
        self._by_ine: dict[str, Person] = {}
        self.france_travail: dict[str, dict[str, Any]] = copy.deepcopy(FT_FIXTURES)
        self.payments: dict[str, list[dict[str, Any]]] = copy.deepcopy(FT_PAYMENTS)
        for person in PEOPLE:
            self.add_person(person)
        if population:
            people, statuses, payments = population_people(population, seed)
            for person in people:
                self.add_person(person)
            self.france_travail.update(statuses)
            self.payments.update(payments)

    def add_person(self, person: Person) -> None:
        """Register a fixture person (matched on its identity, its INE, or FranceConnect tokens)."""
        self.people[person.key] = person
        for family, names in r.IDENTITY.items():
            self._by_identity[family][_fixture_key(person.identity, names)] = person
        if person.ine:
            self._by_ine[person.ine.lower()] = person

    def _request_id(self) -> str:
        """A UUID like the real ones, but reproducible: the n-th request of a fresh server
        always gets the same one (documentation sessions and tests compare outputs)."""
        with self._lock:
            self._served += 1
            number = self._served
        return str(uuid.uuid5(_REQUEST_IDS, str(number)))

    def issue_token(self, scopes: Iterable[str] = ALL_SCOPES) -> str:
        """An API Particulier token holding these scopes."""
        token = "fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = frozenset(scopes)
            self._ids[token] = str(uuid.uuid4())
        return token

    def issue_france_connect_token(self, person: str, scopes: Iterable[str] = ALL_SCOPES, *,
                                   identity_claims: bool = True) -> str:
        """A FranceConnect access token of fixture `person` (its key, e.g. "lavandier") with these
        API Particulier scopes; `identity_claims=False` mimics a login without the identity pivot
        scopes (→ 401 50003). Only `/france_connect` routes accept it."""
        if person not in self.people:
            raise KeyError(f"personne inconnue du faux serveur : {person}")
        token = "fake-fc-" + secrets.token_urlsafe(24)
        with self._lock:
            self.france_connect_tokens[token] = FranceConnectGrant(person, frozenset(scopes), identity_claims)
        return token

    # -------------------------------------------------------------- request → response

    def handle(self, method: str, path: str, query: Query | None = None,
               headers: Mapping[str, str] | None = None) -> Response:
        query = query or {}
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        out = {"X-Request-ID": self._request_id()}
        path = path.rstrip("/") or "/"
        if method.upper() not in ("GET", "HEAD"):
            return self._json(405, {"errors": [_error("00405", "Méthode non autorisée",
                                                       "Seule la méthode GET est acceptée")]}, out)
        if path == "/api/ping":
            out["Content-Type"] = "text/plain; charset=utf-8"
            return 200, out, b"pong"
        if path in GONE_PATHS:
            out["Content-Type"] = "text/plain; charset=utf-8"
            return 410, out, QF_V1_GONE.encode()
        if path == "/api/introspect":
            return self._introspect(query, lowered, out)
        route = ROUTES.get(path)
        if route is None:
            return self._json(404, {"errors": [_error("00404", "Route introuvable",
                                                      f"La route {path} n'existe pas sur ce serveur")]}, out)
        authorization = lowered.get("authorization", "")
        token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        grant: FranceConnectGrant | None = None
        if route.mode == "france_connect" and token:
            grant = self.france_connect_tokens.get(token)
            if grant is None:
                return self._json(401, {"errors": [_error("50002", "Accès non autorisé", "Le jeton d'accès n'a "
                                                          "pas été trouvé ou est expiré.", "token")]}, out)
            # v3+: the FranceConnect scopes minus every `_identite` scope (REFERENCE §6.1)
            scopes: frozenset[str] | None = frozenset(s for s in grant.scopes if "_identite" not in s)
        else:
            scopes = self.tokens.get(token)
        if scopes is None:
            return self._json(401, {"errors": [_error("00101", "Interdit",
                                                      "Votre token n'est pas valide ou n'est pas renseigné",
                                                      "token")]}, out)
        if self._rate(token, out):
            return self._json(429, {"errors": [_error("00429", "Trop de requêtes",
                                                      "Vous avez effectué trop de requêtes")]}, out)
        if grant is not None and not grant.identity_claims:
            return self._json(401, {"errors": [_error("50003", "Accès non autorisé", "Le jeton d'accès ne possède "
                                                      "pas les données pivot requises pour effectuer cet appel.",
                                                      "token")]}, out)
        if not scopes & route.gate:
            return self._json(403, {"errors": [_error("00100", "Privilèges insuffisants",
                                                      "Votre token est valide mais vos privilèges sont "
                                                      "insuffisants. Listez vos privilèges sur /api/introspect",
                                                      "token")]}, out)
        recipient = r.first(query, "recipient")
        if recipient is None:
            return self._errors(422, r.unprocessable("00203", "Le paramètre recipient est obligatoire",
                                                     "recipient"), out)
        if not _siret_ok(recipient):
            return self._errors(422, r.unprocessable("00210", "Le paramètre recipient n'est pas un siret valide",
                                                     "recipient"), out)
        status, body = self._answer(route, query, grant, lowered, out)
        if status == 200:
            body = {"data": _mask(body, route, scopes), "links": {}, "meta": {}}
            return self._json(200, body, out)
        return self._errors(status, body, out)

    def _errors(self, status: int, error: dict[str, Any], out: dict[str, str]) -> Response:
        return self._json(status, {"errors": [error]}, out)

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
        headers["Content-Type"] = JSON_API
        return status, headers, json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _rate(self, token: str, headers: dict[str, str]) -> bool:
        now = self.clock()
        window = math.floor(now)
        with self._lock:
            start, count = self._windows.get(token, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._windows[token] = (start, count)
        reset = start + 1
        headers["RateLimit-Limit"] = str(self.rate_limit)
        headers["RateLimit-Remaining"] = str(max(self.rate_limit - count, 0))
        headers["RateLimit-Reset"] = str(reset)
        if count > self.rate_limit:
            headers["Retry-After"] = str(max(math.ceil(reset - now), 1))
            return True
        return False

    def _introspect(self, query: Query, headers: Mapping[str, str], out: dict[str, str]) -> Response:
        """`/api/introspect?token=…` (or `X-Api-Key`, or Bearer): `{_id, name, scopes}` (REFERENCE §1.3)."""
        authorization = headers.get("authorization", "")
        token = (r.first(query, "token") or headers.get("x-api-key", "")
                 or (authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""))
        scopes = self.tokens.get(token)
        out["Content-Type"] = "application/json"
        if scopes is None:
            body = {"error": "access_denied", "reason": "Token not found or inactive",
                    "message": "Votre jeton d'API n'a pas été trouvé ou n'est pas actif"}
            return 401, out, json.dumps(body, ensure_ascii=False).encode("utf-8")
        introspection: dict[str, Any] = {"_id": self._ids[token], "name": "", "scopes": sorted(scopes)}
        return 200, out, json.dumps(introspection).encode("utf-8")

    # -------------------------------------------------------------- providers

    def _today(self) -> dt.date:
        return dt.date.fromtimestamp(self.clock())

    def _answer(self, route: r.Route, query: Query, grant: FranceConnectGrant | None,
                headers: Mapping[str, str], out: dict[str, str]) -> Answer:
        today = self._today()
        if route.family == "france_travail":
            return self._france_travail(route, query)
        problem: dict[str, Any] | None = None
        if route.mode == "identite":
            problem = r.check_identity(route.family, query, today)
        elif route.mode == "ine":
            problem = r.check_ine(query)
        if problem is None and route.family == "cnous":
            problem = r.check_campaign_year(query, today)
        if problem is None and route.family == "men":
            problem = r.check_men_search(query)
        period: tuple[int, int] | None = None
        if problem is None and route.resource == "quotient_familial":
            checked = r.check_qf_period(query, today)
            problem, period = (checked, None) if isinstance(checked, dict) else (None, checked)
        if problem is not None:
            return 422, problem
        person = self._subject(route, query, grant)
        if route.cache_ttl is None:
            return self._provider(route, person, query, period)
        # DSS: the API caches answers (QF 24 h, others 1 h); `Cache-Control: no-cache` bypasses it (REFERENCE §9)
        subject = f"fc:{grant.person}" if grant else _key(query, r.DSS_IDENTITY)
        cache_key = (route.path, f"{subject}|{period}")
        now = self.clock()
        fresh = "no-cache" in headers.get("cache-control", "").lower()
        with self._lock:
            cached = self._cache.get(cache_key)
        if cached and not fresh and now < cached[0]:
            out["X-Response-Cached"] = "true"
            out["X-Cache-Expires-in"] = str(math.ceil(cached[0] - now))
            return 200, copy.deepcopy(cached[1])
        status, body = self._provider(route, person, query, period)
        out["X-Response-Cached"] = "false"
        out["X-Cache-Expires-in"] = ""
        if status == 200:
            with self._lock:
                self._cache[cache_key] = (now + route.cache_ttl, copy.deepcopy(body))
        return status, body

    def _subject(self, route: r.Route, query: Query, grant: FranceConnectGrant | None) -> Person | None:
        if grant is not None:
            return self.people[grant.person]
        if route.mode == "ine":
            return self._by_ine.get((r.first(query, "ine") or "").lower())
        return self._by_identity[route.family].get(_key(query, r.IDENTITY[route.family]))

    def _failing(self, person: Person, route: r.Route) -> bool:
        if person.failure is None:
            return False
        if person.failures is None:
            return True
        with self._lock:
            count = self._calls.get((person.key, route.path), 0) + 1
            self._calls[(person.key, route.path)] = count
        return count <= person.failures

    def _provider(self, route: r.Route, person: Person | None, query: Query,
                  period: tuple[int, int] | None) -> Answer:
        not_found = 404, copy.deepcopy(NOT_FOUND[route.resource])
        if person is None:
            return not_found
        if person.failure is not None and self._failing(person, route):
            return failure_answer(person.failure, route.family)
        if route.family == "cnous":
            return self._cnous(person, query) or not_found
        answer = person.answers.get(route.resource)
        if answer is None and person.caf and route.resource in r.DSS_KEYS:
            answer = not_beneficiary(route.resource)
        if answer is None:
            return not_found
        status, body = answer[0], copy.deepcopy(answer[1])
        if status != 200:
            return status, body
        if route.resource == "quotient_familial" and period is not None:
            body["quotient_familial"] = self._qf(body["quotient_familial"], period)
        if route.family == "men":
            uai = r.first(query, "codeEtablissement")
            if uai and uai.lower() != body["etablissement"]["code_uai"].lower():
                return not_found
            start = int((r.first(query, "anneeScolaire") or "0")[:4])
            body["annee_scolaire"] = f"{start}-{start + 1}"
        return 200, body

    def _qf(self, qf: dict[str, Any], period: tuple[int, int]) -> dict[str, Any]:
        today = self._today()
        year, month = qf["annee_calcul"], qf["mois_calcul"]
        if year is None:  # MSA: computed now (REFERENCE §10.1)
            year, month = today.year, today.month
        return {"fournisseur": qf["fournisseur"], "valeur": qf["valeur"], "annee": period[0], "mois": period[1],
                "annee_calcul": year, "mois_calcul": month}

    def _cnous(self, person: Person, query: Query) -> Answer | None:
        if not person.campaigns:
            return None
        wanted = r.first(query, "campaignYear")
        year = int(wanted) if wanted else max(person.campaigns)
        data = person.campaigns.get(year)
        return (200, copy.deepcopy(data)) if data is not None else None

    def _france_travail(self, route: r.Route, query: Query) -> Answer:
        identifiant = r.first(query, "identifiant")
        if identifiant is None:
            return 422, r.unprocessable("00380", "L'identifiant est manquant", "identifiant")
        failure = FT_FAILURES.get(identifiant)
        if failure is not None:
            return failure_answer(failure, "france_travail")
        if route.resource == "statut":
            found = self.france_travail.get(identifiant)
            if found is None:
                return 404, copy.deepcopy(NOT_FOUND["statut"])
            return 200, {"identifiant": identifiant, **copy.deepcopy(found)}
        paid = self.payments.get(identifiant)
        if not paid:
            return 404, copy.deepcopy(NOT_FOUND["indemnites"])
        return 200, {"identifiant": identifiant, "paiements": copy.deepcopy(paid)}


def _mask(data: dict[str, Any], route: r.Route, scopes: frozenset[str]) -> dict[str, Any]:
    """Keys whose scope is not held are absent, not null (REFERENCE §4, §6.1)."""
    out: dict[str, Any] = {}
    for key, scope in route.keys.items():
        if key not in data or (scope and scope not in scopes):
            continue
        value = data[key]
        inner = route.nested.get(key)
        if inner is not None and isinstance(value, list):
            value = [{k: v for k, v in item.items() if inner.get(k, "") in scopes} for item in value]
        out[key] = value
    return out


DEFAULT = FakeApiParticulier()


def issue_token(scopes: Iterable[str] = ALL_SCOPES) -> str:
    """A token of the default fake server for these scopes."""
    return DEFAULT.issue_token(scopes)


def issue_france_connect_token(person: str, scopes: Iterable[str] = ALL_SCOPES) -> str:
    """A FranceConnect access token of the default fake server for fixture `person`."""
    return DEFAULT.issue_france_connect_token(person, scopes)


def handle(method: str, path: str, query: Query | None = None, headers: Mapping[str, str] | None = None) -> Response:
    """Answer one request with the default fake server."""
    return DEFAULT.handle(method, path, query, headers)


# ------------------------------------------------------------------ HTTP wrapper


def make_server(host: str = "127.0.0.1", port: int = 0, fake: FakeApiParticulier | None = None,
                dgfip: FakeImpotParticulier | None = None) -> ThreadingHTTPServer:
    """A `ThreadingHTTPServer` answering with `fake` (default: the module's server), and with
    `dgfip` for the API Impôt particulier paths (`/token`, `/impotparticulier/…`); port 0 = ephemeral."""
    app = fake or DEFAULT

    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeApiParticulier"

        def _answer(self, send_body: bool) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            if dgfip is not None and dgfip.handles(parts.path):
                sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, body = dgfip.handle(self.command, parts.path, query, dict(self.headers.items()), sent)
            else:
                status, headers, body = app.handle(self.command, parts.path, query, dict(self.headers.items()))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

        def do_POST(self) -> None:
            self._answer(True)

        def log_message(self, format: str, *args: Any) -> None:  # never log tokens or identities
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(host: str = "127.0.0.1", port: int = 8080, fake: FakeApiParticulier | None = None) -> None:
    """Serve until interrupted."""
    server = make_server(host, port, fake)
    try:
        server.serve_forever()
    finally:
        server.server_close()
