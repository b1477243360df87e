"""API Particulier client core (issue 5 items 1 and 3): request building and error mapping.

One request-building core (`build_request`) and one response interpreter (`interpret`)
are shared by the sync `ApiParticulier` and the async `AsyncApiParticulier`. Errors become
an `ApiResult` with a status (`ok`, `unknown`, `error`), a French reason and the API error
code; they never raise. Bad local configuration (SIRET, token, identity) raises
`TarifError` before any call. Tokens, identity values and payloads are never logged and
never put in exception text (REFERENCE §1, §3, §7).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..diagnostics import TarifError, error
from .limits import (
    DEFAULT_DEADLINE,
    MAX_BODY,
    MAX_WAIT,
    Budget,
    Refused,
    aexchange,
    exchange,
    guard_transports,
    retry_after,
    server_number,
    spell_delay,
    too_long,
)
from .ratelimit import DEFAULT_RATE, RateLimiter

__all__ = [
    "BASE_URLS",
    "ApiParticulier",
    "ApiResult",
    "AsyncApiParticulier",
    "Identity",
    "build_request",
    "check_identity",
    "interpret",
    "validate_siret",
]

log = logging.getLogger("tarifrules.api_particulier")
_M = TypeVar("_M", bound=BaseModel)

BASE_URLS = {
    "production": "https://particulier.api.gouv.fr",
    "staging": "https://staging.particulier.api.gouv.fr",
    "local": "http://127.0.0.1:8080",
}
FRANCE = "99100"
DEFAULT_TIMEOUT = 10.0  # API Particulier answers 504 after 10 s (REFERENCE §1.6)
TOKEN_ENV = "API_PARTICULIER_TOKEN"
RECIPIENT_ENV = "API_PARTICULIER_RECIPIENT"


# ------------------------------------------------------------------ log redaction


_SPI_IN_PATH = re.compile(r"/spi/[^/]+")


class _RedactQuery(logging.Filter):
    """httpx logs the request URL at INFO; drop its query string (identity values) and the
    numéro fiscal of API Impôt particulier paths."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_redacted(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


def _redacted(url: httpx.URL) -> httpx.URL:
    return url.copy_with(query=None, path=_SPI_IN_PATH.sub("/spi/{spi}", url.path))


def _install_redaction() -> None:
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactQuery) for f in logger.filters):
            logger.addFilter(_RedactQuery())


_install_redaction()


# ------------------------------------------------------------------ SIRET


def _fail(code: str, message: str, hint: str | None = None) -> TarifError:
    return TarifError([error(code, message, hint=hint)])


_SIRET = re.compile(r"[0-9]{14}")


def siret_problem(value: str) -> str | None:
    """Why `value` (spaces and dots already removed) is not a SIRET, in French; None if it is.

    Only ASCII digits: `str.isdigit` and `int` also take Arabic-Indic, fullwidth or
    superscript digits, which no registry uses. A SIREN of zeros names no one, though its
    Luhn key is valid."""
    if not _SIRET.fullmatch(value):
        if len(value) == 14 and value.isdigit():
            return "le SIRET du destinataire doit s'écrire avec les chiffres 0 à 9 (pas d'autre écriture)"
        return "le SIRET du destinataire doit compter exactement 14 chiffres"
    if value.startswith("000000000"):
        return "le SIRET du destinataire ne peut pas commencer par un SIREN nul (000000000)"
    if value.startswith("356000000"):
        return None  # La Poste: its establishments do not follow the Luhn key (REFERENCE §1.4)
    total = 0
    for index, char in enumerate(reversed(value)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return "le SIRET du destinataire n'a pas une clé de Luhn valide" if total % 10 else None


def validate_siret(text: str) -> str:
    """The SIRET, digits only; `TarifError` A001 unless 14 ASCII digits, a SIREN that is not
    zero, and a Luhn key (or La Poste)."""
    value = re.sub(r"[\s.]", "", str(text))
    hint = ("le destinataire (recipient) est le SIRET à 14 chiffres de l'organisme public qui reçoit "
            "les données (celui de votre client, pas celui de l'éditeur)")
    problem = siret_problem(value)
    if problem is not None:
        raise _fail("A001", problem, hint)
    return value


# ------------------------------------------------------------------ identity

_COMMUNE = re.compile(r"([013-9][0-9]|2[AB1-9])[0-9]{3}")
_NAME = re.compile(r"^[a-zA-ZÀ-ÖØ-öø-ÿ' -]+$")


class Identity(BaseModel):
    """"Identité pivot" of one person (REFERENCE §3.1). Errors never echo the values."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True, extra="forbid")

    nom_naissance: str = Field(min_length=1)
    nom_usage: str | None = None
    prenoms: tuple[str, ...] = Field(min_length=1, max_length=3)
    sexe: Literal["M", "F"]
    annee_naissance: int | None = Field(default=None, ge=1900, le=2100)
    mois_naissance: int | None = Field(default=None, ge=1, le=12)
    jour_naissance: int | None = Field(default=None, ge=1, le=31)
    code_pays_naissance: str = Field(default=FRANCE, pattern=r"^[0-9]{5}$")
    code_commune_naissance: str | None = None
    nom_commune_naissance: str | None = None
    code_departement_naissance: str | None = Field(default=None, pattern=r"^[0-9][0-9AB][0-9]?$")

    @field_validator("sexe", mode="before")
    @classmethod
    def _upper_sex(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("prenoms")
    @classmethod
    def _first_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not _NAME.match(p) for p in value):
            raise ValueError("prénom vide ou avec des caractères non admis")
        return value

    @field_validator("code_commune_naissance")
    @classmethod
    def _commune(cls, value: str | None) -> str | None:
        if value is not None and not _COMMUNE.fullmatch(value):
            raise ValueError("code COG de commune mal formé (5 caractères)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Identity:
        if self.nom_usage is not None and self.nom_usage.strip().upper() == self.nom_naissance.strip().upper():
            raise ValueError("le nom d'usage ne doit pas répéter le nom de naissance")
        if self.code_pays_naissance != FRANCE and (
                self.code_commune_naissance or self.nom_commune_naissance or self.code_departement_naissance):
            raise ValueError("né(e) à l'étranger : seul le code pays de naissance est admis, pas de commune")
        if self.jour_naissance is not None and self.mois_naissance is None:
            raise ValueError("jour de naissance sans mois")
        if self.mois_naissance is not None and self.annee_naissance is None:
            raise ValueError("mois de naissance sans année")
        return self

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Identity:
        """Build from a mapping; a bad identity raises `TarifError` A002 naming fields, not values."""
        return parse_identity_model(cls, data, "voir docs/erreurs.md, A002 : les règles de l'identité pivot")

    def __repr__(self) -> str:  # never show identity values in tracebacks or logs
        return "Identity(…)"

    __str__ = __repr__


def parse_identity_model(model: type[_M], data: object, hint: str) -> _M:
    """Validate `data` as `model`; errors become `TarifError` A002 naming the fields, never the values."""
    if not isinstance(data, Mapping):
        raise _fail("A002", "identité invalide : un objet JSON est attendu", hint)
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise _fail("A002", "identité invalide : " + _fields(exc), hint) from None


_MESSAGES = {
    "missing": "obligatoire", "literal_error": "valeur non admise", "too_short": "trop peu d'éléments",
    "too_long": "trop d'éléments", "greater_than_equal": "trop petit", "less_than_equal": "trop grand",
    "string_pattern_mismatch": "format invalide", "string_too_short": "vide", "extra_forbidden": "champ inconnu",
    "int_parsing": "nombre entier attendu", "int_type": "nombre entier attendu", "string_type": "texte attendu",
}


def _fields(exc: ValidationError) -> str:
    parts = []
    for item in exc.errors(include_input=False, include_url=False, include_context=False):
        where = ".".join(str(p) for p in item["loc"]) or "identité"
        message = str(item["msg"]).removeprefix("Value error, ") if item["type"] == "value_error" else (
            _MESSAGES.get(item["type"], "valeur invalide"))
        parts.append(f"{where} ({message})")
    return " ; ".join(parts)


def _full_date(identity: Identity) -> list[str]:
    if None in (identity.annee_naissance, identity.mois_naissance, identity.jour_naissance):
        return ["date de naissance complète (année, mois, jour) obligatoire"]
    return []


def _dss(identity: Identity) -> list[str]:
    if identity.code_pays_naissance == FRANCE and not identity.code_commune_naissance and not (
            identity.nom_commune_naissance and identity.code_departement_naissance and identity.annee_naissance):
        return ["né(e) en France : code COG de la commune, ou nom de la commune + département + année de naissance"]
    return []


def _mesri(identity: Identity) -> list[str]:
    problems = _full_date(identity)
    if len(identity.prenoms) != 1:
        problems.append("exactement un prénom pour le MESRI")
    return problems


CHECKS: tuple[tuple[str, Callable[[Identity], list[str]]], ...] = (
    ("/dss/", _dss),
    ("/mesri/", _mesri),
    ("/cnous/", _full_date),
    ("/men/", _full_date),
)

# identity params each family accepts (REFERENCE §3.1)
_ALL_PARAMS = ("nomNaissance", "nomUsage", "prenoms[]", "anneeDateNaissance", "moisDateNaissance",
               "jourDateNaissance", "sexeEtatCivil", "codeCogInseePaysNaissance", "codeCogInseeCommuneNaissance",
               "nomCommuneNaissance", "codeCogInseeDepartementNaissance")
_ACCEPTED: dict[str, tuple[str, ...]] = {
    "/dss/": _ALL_PARAMS,
    "/cnous/": tuple(p for p in _ALL_PARAMS if p not in ("nomUsage", "codeCogInseePaysNaissance")),
    "/mesri/": tuple(p for p in _ALL_PARAMS if p not in ("nomUsage", "codeCogInseePaysNaissance")),
    "/men/": ("nomNaissance", "prenoms[]", "anneeDateNaissance", "moisDateNaissance", "jourDateNaissance",
              "sexeEtatCivil"),
}


def check_identity(endpoint_path: str, identity: Identity) -> None:
    """Per-endpoint identity rules; `TarifError` A002 listing what is missing (no values)."""
    problems = [p for marker, check in CHECKS if marker in endpoint_path for p in check(identity)]
    if problems:
        raise _fail("A002", f"identité incomplète pour {endpoint_path} : " + " ; ".join(problems),
                    "complétez l'identité pivot selon les règles de cette API (docs/erreurs.md, A002)")


def identity_params(endpoint_path: str, identity: Identity) -> list[tuple[str, str]]:
    values: dict[str, Any] = {
        "nomNaissance": identity.nom_naissance, "nomUsage": identity.nom_usage, "prenoms[]": identity.prenoms,
        "anneeDateNaissance": identity.annee_naissance, "moisDateNaissance": identity.mois_naissance,
        "jourDateNaissance": identity.jour_naissance, "sexeEtatCivil": identity.sexe,
        "codeCogInseePaysNaissance": identity.code_pays_naissance,
        "codeCogInseeCommuneNaissance": identity.code_commune_naissance,
        "nomCommuneNaissance": identity.nom_commune_naissance,
        "codeCogInseeDepartementNaissance": identity.code_departement_naissance,
    }
    accepted = next((names for marker, names in _ACCEPTED.items() if marker in endpoint_path), _ALL_PARAMS)
    return _pairs({name: values[name] for name in accepted})


def _pairs(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            key = name if name.endswith("[]") else f"{name}[]"
            out.extend((key, str(v)) for v in value)
        else:
            out.append((name, str(value)))
    return out


# ------------------------------------------------------------------ request core


def resolve_base_url(base_url: str) -> str:
    url = BASE_URLS.get(base_url, base_url)
    if not url.startswith(("http://", "https://")):
        raise _fail("A004", "environnement API Particulier inconnu",
                    "production, staging, local ou une URL http(s)://")
    return url.rstrip("/")


def build_request(endpoint_path: str, identity: Identity | None, *, recipient: str, token: str,
                  params: Mapping[str, Any] | None = None, base_url: str = "production") -> httpx.Request:
    """The GET request for one call. On a `/france_connect` route `token` is the user's
    FranceConnect access token and no identity params are sent."""
    if not endpoint_path.startswith("/"):
        endpoint_path = "/" + endpoint_path
    query: list[tuple[str, str]] = [("recipient", validate_siret(recipient))]
    if endpoint_path.rstrip("/").endswith("/france_connect"):
        if identity is not None:
            raise _fail("A002", "mode FranceConnect : l'identité ne doit pas être envoyée",
                        "le jeton FranceConnect de l'usager identifie la personne")
    elif identity is not None:
        check_identity(endpoint_path, identity)
        query.extend(identity_params(endpoint_path, identity))
    query.extend(_pairs(params or {}))
    if not token:
        raise _fail("A003", "jeton API Particulier absent",
                    f"passez token=… ou définissez la variable d'environnement {TOKEN_ENV}")
    return httpx.Request("GET", resolve_base_url(base_url) + endpoint_path, params=tuple(query),
                         headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})


# ------------------------------------------------------------------ response → result


@dataclass(frozen=True, slots=True)
class ApiResult:
    status: Literal["ok", "unknown", "error"]
    data: dict[str, Any] | None = None
    reason: str | None = None
    code: str | None = None
    request_id: str | None = None
    http_status: int | None = None
    parameter: str | None = None
    cached: bool | None = None  # `X-Response-Cached`: served from API Particulier's cache (DSS routes)


@dataclass(frozen=True, slots=True)
class Retry:
    """`interpret` says: wait `delay` seconds and try again (if attempts remain)."""
    delay: float
    result: ApiResult  # what to report if no attempt remains


UNAVAILABLE = "service indisponible"


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except (ValueError, RecursionError):  # (an answer nested thousands deep)
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]+")


def shown(value: object, limit: int = 300) -> str | None:
    """A text from the server as it may be shown in a reason or a log: no control, bidi or
    line-break characters (which could forge a line or repaint a terminal), at most `limit`
    characters."""
    if value is None:
        return None
    text = _CONTROL.sub(" ", str(value)).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def announced(delay: float) -> str:
    """The end of a reason when the server asks to wait longer than a client ever sleeps."""
    return f"nouvel essai annoncé dans {spell_delay(delay)}, au-delà de l'attente maximale de {MAX_WAIT:g} s"


def interpret(response: httpx.Response, attempt: int, *, backoff: float = 0.5,
              scopes: Sequence[str] = ()) -> ApiResult | Retry:
    """Map one response to a result, or to a `Retry` (429, 502/503/504). A delay the server
    asks for is honoured up to `limits.MAX_WAIT`; beyond it the result is unknown at once."""
    status = response.status_code
    request_id = shown(response.headers.get("X-Request-ID"), 128)
    errors = _errors(response)
    first = errors[0] if errors else {}
    code = shown(first.get("code"), 32)
    detail = shown(first.get("detail") or first.get("title")) or ""
    parameter = next((shown(s.get("parameter"), 100) for e in errors
                      if isinstance(s := e.get("source"), dict) and s.get("parameter")), None)

    cached_header = response.headers.get("X-Response-Cached")
    cached = None if cached_header is None else cached_header.strip().lower() == "true"

    def result(kind: Literal["ok", "unknown", "error"], reason: str | None,
               data: dict[str, Any] | None = None) -> ApiResult:
        return ApiResult(kind, data, reason, code, request_id, status, parameter, cached)

    if status == 200:
        try:
            body = response.json()
        except (ValueError, RecursionError):  # (an answer nested thousands deep)
            return result("error", "réponse illisible (JSON attendu)")
        data = body.get("data", body) if isinstance(body, dict) else None
        return result("ok", None, data if isinstance(data, dict) else None)
    if status == 404:
        if code is not None and code.startswith("00"):
            return result("error", f"route ou version inconnue de l'API : {detail}")
        return result("unknown", "personne non trouvée")
    if status == 422:
        where = f"paramètre {parameter}" if parameter else "paramètre non précisé"
        return result("error", f"erreur de configuration, {where} refusé : {detail}".rstrip(" :"))
    if status == 401:
        return result("error", "jeton ou scope : jeton invalide, expiré, révoqué ou absent")
    if status == 403:
        if code == "00107":
            return result("error", "jeton ou scope : adresse IP non autorisée")
        missing = ", ".join(scopes) if scopes else "non précisé par l'API (voir /api/introspect)"
        return result("error", f"jeton ou scope : scope manquant : {missing}")
    if status == 429:
        delay = retry_after(response.headers.get("Retry-After"), response.headers.get("Date"))
        if delay is not None and too_long(delay):
            return result("unknown", f"{UNAVAILABLE} (trop de requêtes, {announced(delay)})")
        return Retry(1.0 if delay is None else delay, result("unknown", f"{UNAVAILABLE} (trop de requêtes)"))
    if status in (502, 503, 504):
        meta = first.get("meta")
        retry_in = server_number(meta.get("retry_in")) if isinstance(meta, dict) else None
        if retry_in is not None and too_long(retry_in):
            return result("unknown", f"{UNAVAILABLE} ({announced(retry_in)})")
        delay = min(backoff * (2 ** attempt), MAX_WAIT)
        if retry_in is not None:
            delay = max(delay, retry_in)
        return Retry(delay, result("unknown", UNAVAILABLE))
    if status == 410:
        return result("error", "route retirée par l'API (410)")
    return result("error", f"réponse inattendue de l'API (HTTP {status}) : {detail}".rstrip(" :"))


def _timeout_result(attempt: int, backoff: float) -> Retry:
    return Retry(min(backoff * (2 ** attempt), MAX_WAIT), ApiResult("unknown", None, f"{UNAVAILABLE} (délai dépassé)"))


def _transport_result(attempt: int, backoff: float) -> Retry:
    return Retry(min(backoff * (2 ** attempt), MAX_WAIT), ApiResult("unknown", None, f"{UNAVAILABLE} (erreur réseau)"))


# ------------------------------------------------------------------ clients


class _Base:
    def __init__(self, token: str | None = None, recipient: str | None = None, base_url: str = "production",
                 timeout: float = DEFAULT_TIMEOUT, *, retries: int = 2, max_rate_retries: int = 5,
                 backoff: float = 0.5, rate_limit: float | RateLimiter | None = DEFAULT_RATE,
                 deadline: float = DEFAULT_DEADLINE, max_bytes: int = MAX_BODY,
                 clock: Callable[[], float] = time.monotonic):
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        recipient = recipient if recipient is not None else os.environ.get(RECIPIENT_ENV)
        if not token:
            raise _fail("A003", "jeton API Particulier absent",
                        f"passez token=… ou définissez la variable d'environnement {TOKEN_ENV}")
        if not recipient:
            raise _fail("A001", "le SIRET du destinataire est absent",
                        f"passez recipient=… ou définissez la variable d'environnement {RECIPIENT_ENV}")
        self._token = token
        self.recipient = validate_siret(recipient)
        self.base_url = resolve_base_url(base_url)
        self.timeout = timeout
        self.retries = retries
        self.max_rate_retries = max_rate_retries
        self.backoff = backoff
        self.deadline, self.max_bytes, self.clock = _positive(deadline, "deadline"), max_bytes, clock
        # one limiter per client, i.e. per token; pass the same RateLimiter to clients sharing a token
        self.limiter = rate_limit if isinstance(rate_limit, RateLimiter) or rate_limit is None else (
            RateLimiter(rate_limit))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def _reader(self, scopes: tuple[str, ...]) -> Interpreter:
        return lambda response, failures: interpret(response, failures, backoff=self.backoff, scopes=scopes)

    def _request(self, endpoint_path: str, identity: Identity | None, access_token: str | None,
                 params: Mapping[str, Any]) -> httpx.Request:
        france_connect = endpoint_path.rstrip("/").endswith("/france_connect")
        if france_connect and not access_token:
            raise _fail("A003", "mode FranceConnect : jeton d'accès FranceConnect de l'usager absent",
                        "passez access_token=…")
        token = access_token if france_connect and access_token else self._token
        return build_request(endpoint_path, identity, recipient=self.recipient, token=token, params=params,
                             base_url=self.base_url)


def _positive(seconds: float, name: str) -> float:
    if not (isinstance(seconds, (int, float)) and 0 < seconds < float("inf")):
        raise _fail("A004", f"{name} doit être un nombre de secondes positif et fini", f"{name}=30")
    return float(seconds)


class RetryPolicy(Protocol):
    """What `Attempts` needs from a client: its retry bounds, backoff, rate limiter, and the
    budget of one call (`deadline` seconds in all, `max_bytes` of body, `clock` monotonic)."""

    retries: int
    max_rate_retries: int
    backoff: float
    limiter: RateLimiter | None
    deadline: float
    max_bytes: int

    @property
    def clock(self) -> Callable[[], float]: ...


Interpreter = Callable[[httpx.Response, int], "ApiResult | Retry"]


class Attempts:
    """The retry state of one call, shared by every client (API Particulier sync and async,
    API Impôt particulier): they only differ in how they send, sleep and read answers.
    The call's `Budget` starts here: no wait goes past it. Logs carry the route, the
    attempt, the status and the request id: never a value."""

    def __init__(self, policy: RetryPolicy, endpoint_path: str, read: Interpreter, api: str = "API Particulier",
                 budget: Budget | None = None):
        self.policy, self.endpoint_path, self.read, self.api = policy, endpoint_path, read, api
        self.rate_hits = self.failures = self.attempt = 0
        self.budget = budget or Budget(policy.deadline, policy.max_bytes, clock=policy.clock)

    def pace(self) -> ApiResult | float:
        """Seconds to wait before sending the next attempt (the token's rate limit), or the
        result when that wait would go past the call's deadline."""
        if self.budget.remaining() <= 0:
            return ApiResult("unknown", None, self.budget.late().reason)
        wait = self.policy.limiter.reserve() if self.policy.limiter is not None else 0.0
        return wait if self.budget.allows(wait) else self._beyond(
            ApiResult("unknown", None, f"{UNAVAILABLE} (débit limité)"), wait)

    def _beyond(self, result: ApiResult, wait: float) -> ApiResult:
        """`result`, unknown, because waiting `wait` more seconds would exceed the deadline."""
        reason = (f"{result.reason or UNAVAILABLE}, nouvel essai dans {spell_delay(wait)} : "
                  f"au-delà du {self.budget.limit()}")
        return ApiResult("unknown", None, reason, result.code, result.request_id, result.http_status,
                         result.parameter, result.cached)

    def settle(self, answer: httpx.Response | httpx.TransportError | Refused) -> ApiResult | float:
        """The final result, or the delay (seconds) to wait before the next attempt."""
        outcome: ApiResult | Retry
        if isinstance(answer, httpx.Response) and self.policy.limiter is not None:
            self.policy.limiter.observe(answer.headers)
        if isinstance(answer, Refused):
            outcome = ApiResult("unknown", None, answer.reason)
        elif isinstance(answer, httpx.TimeoutException):
            outcome = _timeout_result(self.failures, self.policy.backoff)
        elif isinstance(answer, httpx.TransportError):
            outcome = _transport_result(self.failures, self.policy.backoff)
        else:
            outcome = self.read(answer, self.failures)
        result = outcome.result if isinstance(outcome, Retry) else outcome
        log.debug("%s %s tentative %d : HTTP %s, statut %s, code %s, identifiant de requête %s", self.api,
                  self.endpoint_path, self.attempt + 1, result.http_status, result.status, result.code,
                  result.request_id)
        self.attempt += 1
        if isinstance(outcome, ApiResult):
            return outcome
        if outcome.result.http_status == 429:
            self.rate_hits += 1
            done = self.rate_hits > self.policy.max_rate_retries
        else:
            self.failures += 1
            done = self.failures > self.policy.retries
        if done:
            return outcome.result
        return outcome.delay if self.budget.allows(outcome.delay) else self._beyond(outcome.result, outcome.delay)


def send(client: httpx.Client, request: httpx.Request, attempts: Attempts, sleep: Callable[[float], None]
         ) -> ApiResult:
    """Send `request` until `attempts` settles it: paced, retried, within the call's budget,
    never raising for an answer."""
    while True:
        wait = attempts.pace()
        if isinstance(wait, ApiResult):
            return wait
        if wait:
            sleep(wait)
        step = attempts.settle(exchange(client, request, attempts.budget))
        if isinstance(step, ApiResult):
            return step
        sleep(step)


class ApiParticulier(_Base):
    """Synchronous client. `get` never raises for API answers; see `ApiResult`.

    Each `get` is one call with its own budget: `deadline` seconds in all (attempts, waits
    and reading; `timeout` bounds each network read), `max_bytes` of body; `clock` (monotonic)
    and `sleep` are injectable for tests."""

    def __init__(self, token: str | None = None, recipient: str | None = None, base_url: str = "production",
                 timeout: float = DEFAULT_TIMEOUT, transport: httpx.BaseTransport | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, retries: int = 2, max_rate_retries: int = 5,
                 backoff: float = 0.5,
                 rate_limit: float | RateLimiter | None = DEFAULT_RATE, deadline: float = DEFAULT_DEADLINE,
                 max_bytes: int = MAX_BODY, clock: Callable[[], float] = time.monotonic):
        super().__init__(token, recipient, base_url, timeout, retries=retries,
                         max_rate_retries=max_rate_retries, backoff=backoff, rate_limit=rate_limit,
                         deadline=deadline, max_bytes=max_bytes, clock=clock)
        self._sleep = sleep
        self._client = httpx.Client(transport=transport, timeout=timeout)
        guard_transports(self._client)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiParticulier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, endpoint_path: str, identity: Identity | None = None, *, access_token: str | None = None,
            scopes: Sequence[str] = (), **params: Any) -> ApiResult:
        request = self._request(endpoint_path, identity, access_token, params)
        return send(self._client, request, Attempts(self, endpoint_path, self._reader(tuple(scopes))), self._sleep)


class AsyncApiParticulier(_Base):
    """Asynchronous client, same core and same results as `ApiParticulier`."""

    def __init__(self, token: str | None = None, recipient: str | None = None, base_url: str = "production",
                 timeout: float = DEFAULT_TIMEOUT, transport: httpx.AsyncBaseTransport | None = None, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, retries: int = 2,
                 max_rate_retries: int = 5, backoff: float = 0.5,
                 rate_limit: float | RateLimiter | None = DEFAULT_RATE, deadline: float = DEFAULT_DEADLINE,
                 max_bytes: int = MAX_BODY, clock: Callable[[], float] = time.monotonic):
        super().__init__(token, recipient, base_url, timeout, retries=retries,
                         max_rate_retries=max_rate_retries, backoff=backoff, rate_limit=rate_limit,
                         deadline=deadline, max_bytes=max_bytes, clock=clock)
        self._sleep = sleep
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> AsyncApiParticulier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def get(self, endpoint_path: str, identity: Identity | None = None, *, access_token: str | None = None,
                  scopes: Sequence[str] = (), **params: Any) -> ApiResult:
        request = self._request(endpoint_path, identity, access_token, params)
        attempts = Attempts(self, endpoint_path, self._reader(tuple(scopes)))
        while True:
            wait = attempts.pace()
            if isinstance(wait, ApiResult):
                return wait
            if wait:
                await self._sleep(wait)
            step = attempts.settle(await aexchange(self._client, request, attempts.budget))
            if isinstance(step, ApiResult):
                return step
            await self._sleep(step)
