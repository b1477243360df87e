"""API Impôt particulier (DGFiP) client: one year and one foyer fiscal per call (issue 9 item 4).

OAuth2 client credentials (`POST /token`, HTTP Basic with the client id and secret given
by the DGFiP API portal) give a bearer token, kept until it expires. Each call sends a new
`X-Correlation-ID` (UUID), the `ID_Teleservice` of the use case and, in FranceConnect mode,
the user's FranceConnect access token in `X-FranceConnect-OAuth` (no numéro fiscal);
otherwise the numéro fiscal (SPI) is in the path (DGFiP REFERENCE §3.1–3.2). Answers are
mapped like API Particulier's (`ApiResult`): errors never raise, a foyer or a year the
DGFiP does not know is unknown with its reason, retries, rate limiting and logging are the
API Particulier client's (`Attempts`). Secrets, numéros fiscaux and payloads are never
logged.
"""

from __future__ import annotations

import base64
import os
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

import httpx

from ..api_particulier.client import (
    UNAVAILABLE,
    ApiResult,
    Attempts,
    Retry,
    _fail,
    _positive,
    announced,
    send,
    shown,
)
from ..api_particulier.limits import (
    DEFAULT_DEADLINE,
    MAX_BODY,
    MAX_WAIT,
    Budget,
    exchange,
    guard_transports,
    retry_after,
    server_number,
    too_long,
)
from ..api_particulier.ratelimit import RateLimiter

__all__ = ["BASE_URLS", "ImpotParticulier", "interpret_dgfip", "resource_path"]

BASE_URLS = {"local": "http://127.0.0.1:8080"}  # the real hosts are given by the DGFiP API portal
CLIENT_ID_ENV, CLIENT_SECRET_ENV, TELESERVICE_ENV, URL_ENV = (
    "DGFIP_CLIENT_ID", "DGFIP_CLIENT_SECRET", "DGFIP_ID_TELESERVICE", "DGFIP_API_URL")
PREFIX = "/impotparticulier/1.0"
OAUTH_SCOPES = {"ir": "RessourceIR", "deuxans": "RessourceIRDerniere2"}
DEFAULT_RATE = 5.0  # calls per second: the DGFiP sets a quota per subscriber; configure the one you were given
_SPI = re.compile(r"[0-9]{13}")  # ASCII only: `\d` also matches other scripts' digits
TOKEN_LIFETIME = (300.0, 86400.0)  # default and longest lifetime kept for an OAuth2 token (seconds)
Resource = Literal["ir", "deuxans"]


def resource_path(resource: Resource, year: int | None, spi: str | None) -> str:
    """`/impotparticulier/1.0/[spi/{spi}/]situations/ir/assiettes/annrev/{year}` or the « deux ans » route."""
    owner = f"/spi/{spi}" if spi else ""
    if resource == "deuxans":
        return f"{PREFIX}{owner}/dernieresituation/ir/assiettes/deuxans"
    return f"{PREFIX}{owner}/situations/ir/assiettes/annrev/{year}"


def _codeapp(response: httpx.Response) -> tuple[str | None, str]:
    """(codeapp, message) from an error body; its exact shape is not public (REFERENCE §4)."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # (an answer nested thousands deep)
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    nested = body.get("erreur")
    inner: dict[str, Any] = nested if isinstance(nested, dict) else body
    code = inner.get("codeapp", inner.get("code"))
    message = inner.get("message") or inner.get("libelle") or (body["erreur"] if isinstance(body.get("erreur"), str)
                                                                else "")
    return shown(code, 32), shown(message) or ""


def interpret_dgfip(response: httpx.Response, attempt: int, *, backoff: float = 0.5) -> ApiResult | Retry:
    """Map one DGFiP answer to a result, or to a `Retry` (429, 5xx)."""
    status = response.status_code
    request_id = shown(response.headers.get("X-Correlation-ID"), 128)
    code, message = _codeapp(response)

    def result(kind: Literal["ok", "unknown", "error"], reason: str | None,
               data: dict[str, Any] | None = None) -> ApiResult:
        return ApiResult(kind, data, reason, code, request_id, status)

    if status == 200:
        try:
            body = response.json()
        except (ValueError, RecursionError):  # (an answer nested thousands deep)
            return result("error", "réponse illisible (JSON attendu)")
        return result("ok", None, body if isinstance(body, dict) else None)
    if status in (404, 410):
        if code == "4102":
            return result("unknown", "numéro fiscal inconnu de la DGFiP")
        return result("unknown", "aucun avis d'impôt pour cette année (pas encore établi, ou foyer absent)")
    if status == 400:
        what = {"4001": "numéro fiscal mal formé", "4002": "année mal formée"}.get(code or "",
                                                                               message or "requête refusée")
        return result("error", f"erreur de configuration : {what}")
    if status == 401:
        return result("error", "jeton DGFiP invalide ou expiré (identifiants du portail des API ?)")
    if status == 403:
        return result("error", "accès refusé à la ressource : habilitation ou abonnement DGFiP à vérifier")
    if status == 429:
        wait = retry_after(response.headers.get("Retry-After"), response.headers.get("Date"))
        if wait is not None and too_long(wait):
            return result("unknown", f"{UNAVAILABLE} (trop de requêtes, {announced(wait)})")
        return Retry(1.0 if wait is None else wait, result("unknown", f"{UNAVAILABLE} (trop de requêtes)"))
    if status >= 500:
        wait = retry_after(response.headers.get("Retry-After"), response.headers.get("Date"))
        if wait is not None and too_long(wait):
            return result("unknown", f"{UNAVAILABLE} ({announced(wait)})")
        return Retry(max(min(backoff * (2 ** attempt), MAX_WAIT), wait or 0.0), result("unknown", UNAVAILABLE))
    return result("error", f"réponse inattendue de la DGFiP (HTTP {status})")


class ImpotParticulier:
    """Synchronous client of API Impôt particulier. `get` never raises for API answers.

    Like `ApiParticulier`, each `get` has a budget (`deadline` seconds in all, token request
    included; `max_bytes` of body), measured by `clock`."""

    def __init__(self, client_id: str | None = None, client_secret: str | None = None,
                 teleservice: str | None = None, base_url: str | None = None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None, *, sleep: Callable[[float], None] = time.sleep,
                 retries: int = 2, max_rate_retries: int = 5, backoff: float = 0.5,
                 rate_limit: float | RateLimiter | None = DEFAULT_RATE, clock: Callable[[], float] = time.monotonic,
                 deadline: float = DEFAULT_DEADLINE, max_bytes: int = MAX_BODY):
        self._client_id = client_id or os.environ.get(CLIENT_ID_ENV)
        self._client_secret = client_secret or os.environ.get(CLIENT_SECRET_ENV)
        self.teleservice = teleservice or os.environ.get(TELESERVICE_ENV)
        url = base_url or os.environ.get(URL_ENV)
        if not (self._client_id and self._client_secret):
            raise _fail("A003", "identifiants de l'API Impôt particulier absents",
                        f"passez client_id=… et client_secret=…, ou définissez {CLIENT_ID_ENV} et "
                        f"{CLIENT_SECRET_ENV}")
        if not self.teleservice:
            raise _fail("A003", "ID_Teleservice de l'API Impôt particulier absent",
                        f"passez teleservice=… ou définissez {TELESERVICE_ENV} (un par cas d'usage)")
        if not url:
            raise _fail("A004", "adresse de l'API Impôt particulier absente",
                        f"passez base_url=… (local, ou l'URL donnée par le portail des API DGFiP) "
                        f"ou définissez {URL_ENV}")
        self.base_url = BASE_URLS.get(url, url).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise _fail("A004", "adresse de l'API Impôt particulier inconnue", "local ou une URL http(s)://")
        self.retries, self.max_rate_retries, self.backoff = retries, max_rate_retries, backoff
        self.limiter = rate_limit if isinstance(rate_limit, RateLimiter) or rate_limit is None else (
            RateLimiter(rate_limit))
        self._sleep, self.clock = sleep, clock
        self.deadline, self.max_bytes = _positive(deadline, "deadline"), max_bytes
        self._client = httpx.Client(transport=transport, timeout=timeout)
        guard_transports(self._client)
        self._token: tuple[str, float] | None = None  # (access token, monotonic expiry)

    def __repr__(self) -> str:
        return f"ImpotParticulier(base_url={self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ImpotParticulier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _access_token(self, budget: Budget) -> str | ApiResult:
        """The OAuth2 token (asked once, within the call's budget, then kept until it expires)."""
        if self._token is not None and self._token[1] > self.clock():
            return self._token[0]
        basic = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
        request = self._client.build_request("POST", f"{self.base_url}/token",
                                             headers={"Authorization": f"Basic {basic}"},
                                             data={"grant_type": "client_credentials",
                                                   "scope": " ".join(OAUTH_SCOPES.values())})
        response = exchange(self._client, request, budget)
        if isinstance(response, httpx.TransportError):
            return ApiResult("unknown", None, f"{UNAVAILABLE} (jeton DGFiP)")
        if not isinstance(response, httpx.Response):
            return ApiResult("unknown", None, f"jeton DGFiP : {response.reason}")
        if response.status_code != 200:
            return ApiResult("error", None, "identifiants DGFiP refusés par /token", None, None, response.status_code)
        try:
            body = response.json()
        except (ValueError, RecursionError):  # (an answer nested thousands deep)
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not token.isascii() or not token.isprintable():
            return ApiResult("error", None, "réponse illisible de /token (jeton d'accès attendu)", None, None, 200)
        lifetime = server_number(body.get("expires_in")) if isinstance(body, dict) else None
        lifetime = min(TOKEN_LIFETIME[0] if lifetime is None else lifetime, TOKEN_LIFETIME[1])
        self._token = (token, self.clock() + max(lifetime - 30.0, 0.0))
        return token

    def get(self, resource: Resource, year: int | None = None, *, spi: str | None = None,
            france_connect: str | None = None) -> ApiResult:
        """One foyer, one year (`resource="ir"`), or the last available notice (`"deuxans"`)."""
        if (spi is None) == (france_connect is None):
            raise _fail("A002", "API Impôt particulier : donnez soit le numéro fiscal, soit le jeton FranceConnect",
                        "le numéro fiscal (SPI) compte 13 chiffres ; le NIR n'est pas accepté")
        if spi is not None and (not isinstance(spi, str) or not _SPI.fullmatch(spi) or not spi.strip("0")):
            raise _fail("A002", "numéro fiscal (SPI) mal formé : 13 chiffres de 0 à 9 attendus, pas tous nuls",
                        "c'est le numéro fiscal de l'un des déclarants, sur l'avis d'impôt (le NIR n'est pas accepté)")
        if resource == "ir" and year is None:
            raise _fail("A002", "API Impôt particulier : l'année des revenus est obligatoire", "year=2025")
        path = resource_path(resource, year, spi)
        budget = Budget(self.deadline, self.max_bytes, clock=self.clock)
        token = self._access_token(budget)
        if isinstance(token, ApiResult):
            return token
        headers = {"Authorization": f"Bearer {token}", "X-Correlation-ID": str(uuid.uuid4()),
                   "ID_Teleservice": str(self.teleservice), "Accept": "application/json"}
        if france_connect is not None:
            headers["X-FranceConnect-OAuth"] = france_connect
        request = self._client.build_request("GET", self.base_url + path, headers=headers)
        shown = resource_path(resource, year, "{spi}" if spi else None)  # never the numéro fiscal in logs
        attempts = Attempts(self, shown, lambda response, failures: interpret_dgfip(
            response, failures, backoff=self.backoff), api="API Impôt particulier", budget=budget)
        return send(self._client, request, attempts, self._sleep)
