"""A local fake of API Impôt particulier (DGFiP), with invented foyers fiscaux (issue 9 item 5).

`handle(method, path, query, headers, body)` answers `POST /token` (OAuth2 client
credentials, HTTP Basic) and the IR assiette routes in numéro fiscal (`/spi/{spi}/…`) and
FranceConnect (`X-FranceConnect-OAuth`) modes, for one year (`annrev/{year}`) or the last
available notice (`deuxans`). A year of income is served once its notices are established,
on 22 July of the next year (REFERENCE §4); before, and for an unknown year, 410 `4101`; an
unknown numéro fiscal, 410 `4102`; a bad SPI, 400 `4001`. The error body's shape is not
public: this fake answers `{"erreur": {"codeapp": …, "message": …}}`. Nothing here
describes a real person.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .years import AVAILABLE_FROM

Response = tuple[int, dict[str, str], bytes]

_ROUTE = re.compile(r"^/impotparticulier/1\.0(?:/spi/(?P<spi>[^/]+))?/(?:situations/ir/assiettes/annrev/(?P<year>[^/]+)"
                    r"|dernieresituation/ir/assiettes/(?P<deuxans>deuxans))$")
MEDIA = "application/prs.dgfip.part.situations.ir.assiettes.v1+json"


@dataclass(frozen=True)
class Foyer:
    """An invented foyer fiscal: its numéro fiscal and its notices per year of income."""

    key: str
    spi: str
    years: dict[int, dict[str, Any]] = field(default_factory=dict)


def _notice(rfr: int, parts: float, sitfam: str, pac: int, isolated: bool) -> dict[str, Any]:
    return {"rfr": rfr, "nbPart": parts, "sitFam": sitfam, "pac": {"nbPac": pac},
            "sitParIso": "T" if isolated else None}


FOYERS: tuple[Foyer, ...] = (
    # couple marié, deux enfants : avis 2024 et 2025
    Foyer("dupre", "1234567890123", {2023: _notice(30150, 3.0, "M", 2, False),
                                     2024: _notice(31200, 3.0, "M", 2, False),
                                     2025: _notice(32400, 3.0, "M", 2, False)}),
    # parent isolé (case T), un enfant : seul l'avis des revenus 2024 existe
    Foyer("solenne", "2345678901234", {2024: _notice(14800, 2.0, "C", 1, True)}),
)


class FakeImpotParticulier:
    """State: the OAuth2 clients it knows, the tokens it issued, FranceConnect tokens."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self.clients: dict[str, str] = {}
        self.tokens: set[str] = set()
        self.france_connect: dict[str, Foyer] = {}
        self.foyers = {foyer.spi: foyer for foyer in FOYERS}
        self._keys = {foyer.key: foyer for foyer in FOYERS}
        self._lock = threading.Lock()

    def issue_client(self) -> tuple[str, str]:
        """(client id, client secret) that `POST /token` accepts."""
        client_id, secret = "fake-dgfip-" + secrets.token_hex(6), secrets.token_urlsafe(18)
        with self._lock:
            self.clients[client_id] = secret
        return client_id, secret

    def issue_france_connect_token(self, foyer: str) -> str:
        """The FranceConnect access token of a fixture foyer's déclarant (its key, e.g. "dupre")."""
        token = "fc-dgfip-" + secrets.token_urlsafe(18)
        with self._lock:
            self.france_connect[token] = self._keys[foyer]
        return token

    def handles(self, path: str) -> bool:
        return path == "/token" or path.startswith("/impotparticulier/")

    def handle(self, method: str, path: str, query: Mapping[str, list[str]] | None = None,
               headers: Mapping[str, str] | None = None, body: bytes = b"") -> Response:
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        correlation = lowered.get("x-correlation-id", "")
        out = {"X-Correlation-ID": correlation} if correlation else {}
        if path == "/token":
            return self._token(method, lowered, body, out)
        match = _ROUTE.match(path.rstrip("/"))
        if method.upper() != "GET" or match is None:
            return _error(404, "4040", "Ressource inconnue", out)
        if lowered.get("authorization", "").removeprefix("Bearer ").strip() not in self.tokens:
            return _error(401, "4010", "Jeton absent ou invalide", out)
        if not re.fullmatch(r"[0-9a-f-]{36}", correlation):
            return _error(400, "4003", "X-Correlation-ID absent ou mal formé", out)
        if not lowered.get("id_teleservice"):
            return _error(400, "4004", "ID_Teleservice absent", out)
        spi = match.group("spi")
        if spi is None:
            foyer = self.france_connect.get(lowered.get("x-franceconnect-oauth", ""))
            if foyer is None:
                return _error(401, "4011", "Jeton FranceConnect absent ou invalide", out)
        else:
            if not re.fullmatch(r"[0-9]{13}", spi):
                return _error(400, "4001", "Le spi est dans un format incorrect", out)
            found = self.foyers.get(spi)
            if found is None:
                return _error(410, "4102", "Le spi envoyé ne correspond à aucun usager", out)
            foyer = found
        available = [year for year in foyer.years if self._established(year)]
        if match.group("deuxans"):
            last = [year for year in sorted(available, reverse=True)[:1]]
            if not last:
                return _error(410, "4101", "La requête avec le spi et l'année ne renvoie aucun résultat", out)
            return self._notice(foyer, last[0], out, with_year=True)
        year_text = match.group("year") or ""
        if not re.fullmatch(r"[0-9]{4}", year_text):
            return _error(400, "4002", "L'année est dans un format incorrect", out)
        if int(year_text) not in available:
            return _error(410, "4101", "La requête avec le spi et l'année ne renvoie aucun résultat", out)
        return self._notice(foyer, int(year_text), out, with_year=False)

    def _established(self, year: int) -> bool:
        today = datetime.date.fromtimestamp(self.clock())
        month, day = AVAILABLE_FROM
        return today >= datetime.date(year + 1, month, day)

    def _notice(self, foyer: Foyer, year: int, out: dict[str, str], *, with_year: bool) -> Response:
        data = dict(foyer.years[year])
        if with_year:
            data["annRevenu"] = year
        out["Content-Type"] = MEDIA
        return 200, out, json.dumps(data).encode()

    def _token(self, method: str, headers: Mapping[str, str], body: bytes, out: dict[str, str]) -> Response:
        if method.upper() != "POST":
            return _error(405, "4050", "POST attendu", out)
        try:
            client_id, _, secret = base64.b64decode(headers.get("authorization", "").removeprefix("Basic ")
                                                    ).decode().partition(":")
        except ValueError:
            client_id, secret = "", ""
        if not client_id or self.clients.get(client_id) != secret or b"grant_type=client_credentials" not in body:
            return 401, {"Content-Type": "application/json"}, b'{"error": "invalid_client"}'
        token = "fake-dgfip-token-" + secrets.token_urlsafe(18)
        with self._lock:
            self.tokens.add(token)
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"access_token": token, "token_type": "Bearer", "expires_in": 3600}).encode()


def _error(status: int, code: str, message: str, out: dict[str, str]) -> Response:
    out["Content-Type"] = "application/json"
    return status, out, json.dumps({"erreur": {"codeapp": code, "message": message}}, ensure_ascii=False).encode()
