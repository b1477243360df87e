"""Routes of the service, its error handlers and its access log.

The access log writes the method, the path, the status and the duration of each request:
never a body, a query string or a header (a situation is personal data), and the path with
its control characters escaped (`%0D%0A` in a path cannot forge a line). A client gone
before its answer is logged with status 499, not as an internal error.

Every evaluation answer carries the version of the file that computed it (`version`: the
sha256 of its text and its period of validity), so that a billing system can keep which
text gave a price.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..characters import printable
from ..diagnostics import TarifError, error
from ..ruleset import Evaluation
from .errors import (
    BAD_METHOD,
    BAD_REQUEST,
    INTERNAL,
    TIMEOUT,
    UNKNOWN_PATH,
    UNSUPPORTED_MEDIA,
    ServiceError,
    document,
    fail,
)
from .models import ERROR_RESPONSES, EvaluationRequestModel, ExplanationModel, FilesModel, ServedEvaluationModel
from .registry import SETTLE, Entry, Registry, Version
from .requests import DEFAULT_LIMIT, check_situation, evaluation_request, parse_json, read_body

ACCESS = logging.getLogger("tarifrules.service.access")
LOG = logging.getLogger("tarifrules.service")

_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": EvaluationRequestModel.model_json_schema()}}}}


# FastAPI's own OpenTelemetry (FastAPI ≥ 0.16x) stays off: where a provider is configured, its
# spans and logs would carry query strings and exception messages, that is values of a
# situation. Off, it is not looked for on every request either.
_WITHOUT_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}
    if "telemetry" in inspect.signature(FastAPI).parameters else {})


class AccessLog:
    """ASGI middleware: one line per request (`POST /evaluer 200 1.3 ms`), and the last resort.

    An exception no handler took becomes a French 500 (H010) here, logged with its type
    only: its message could hold a value of the situation.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # until the response starts

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except ClientDisconnect:  # gone before its answer: nothing to answer, nothing wrong here
            status = 499
        except Exception as exc:
            LOG.error("erreur interne (%s) sur %s %s", type(exc).__name__, printable(scope["method"]),
                      printable(scope["path"]))
            if status == 500:  # nothing sent yet
                problem = error(INTERNAL, f"erreur interne ({type(exc).__name__}) : merci de la signaler",
                                hint="un défaut de tarifrules, pas de la requête : signalez-le avec l'heure de l'appel")
                await _answer(document([problem]), 500)(scope, receive, sending)
        finally:
            ACCESS.info("%s %s %d %.1f ms", printable(scope["method"]), printable(scope["path"]), status,
                        (time.perf_counter() - start) * 1000)


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class RequestRoute(APIRoute):
    """A documented route whose endpoint takes the request and answers it itself.

    FastAPI's per-request work (solving parameters, none here; handling the returned value)
    is skipped: the endpoint reads and checks its own body (`requests`). Its OpenAPI
    description is the same as any route's.
    """

    def get_route_handler(self) -> Endpoint:
        endpoint: Endpoint = self.endpoint
        return endpoint


def _post(app: FastAPI, path: str, **documented: Any) -> Callable[[Endpoint], Endpoint]:
    def register(endpoint: Endpoint) -> Endpoint:
        app.router.add_api_route(path, endpoint, methods=["POST"], route_class_override=RequestRoute, **documented)
        return endpoint

    return register


def _answer(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=headers)


def _file_json(entry: Entry) -> dict[str, Any]:
    version = entry.version
    ruleset = version.ruleset if version else None
    return {
        "name": entry.name,
        "file": entry.path.name,
        "status": "ok" if entry.checks else "erreur",
        "served": version is not None,
        "version": version.json if version else None,
        "reason": entry.reason,
        "title": ruleset.title if ruleset else None,
        "valid_from": ruleset.valid_from.isoformat() if ruleset else None,
        "valid_until": ruleset.valid_until.isoformat() if ruleset and ruleset.valid_until else None,
        "data": list(ruleset.data_names) if ruleset else [],
        "outputs": list(ruleset.output_names) if ruleset else [],
        "diagnostics": [d.to_json() for d in entry.diagnostics],
    }


_JSON_TYPES = ("application/json", "")  # a body without Content-Type is read as JSON


def check_media_type(content_type: str | None) -> None:
    """415 for a body declared as something else than JSON in UTF-8 (a form, text, XML…)."""
    media, _, parameters = (content_type or "").partition(";")
    charset = next((v.strip().strip('"').lower() for k, _, v in (p.partition("=") for p in parameters.split(";"))
                    if k.strip().lower() == "charset"), "utf-8")
    if media.strip().lower() not in _JSON_TYPES or charset not in ("utf-8", "utf8"):
        shown = printable((content_type or "").strip(), 60)
        raise fail(415, UNSUPPORTED_MEDIA, f"type de contenu non pris en charge (« {shown} ») : un corps JSON "
                                           "en UTF-8 est attendu", "envoyez l'en-tête Content-Type: application/json")


def create_app(folder: str | Path, *, limit: int = DEFAULT_LIMIT, reload_interval: float = 1.0,
               settle: float = SETTLE, timeout: float = 10.0) -> FastAPI:
    """The service for the rule files of `folder`: scanned now, then at most every `reload_interval`
    seconds in a worker thread; a changed file is read once unchanged for `settle` seconds. A request
    body not received within `timeout` seconds gets a 408."""
    registry = Registry(Path(folder), reload_interval, settle)
    registry.refresh()
    app = FastAPI(
        **_WITHOUT_TELEMETRY,
        title="tarifrules",
        summary="Délibérations tarifaires évaluées et expliquées",
        description="Les fichiers .tarif d'un dossier : liste, évaluation d'un foyer, explication, scopes API "
                    "Particulier, schéma JSON des situations. Erreurs en français, codes stables "
                    "(docs/erreurs.md).",
        docs_url=None, redoc_url=None,  # their pages load scripts from a CDN: /openapi.json is served offline
    )
    app.state.registry = registry

    async def evaluate(request: Request) -> tuple[Version, Evaluation]:
        check_media_type(request.headers.get("content-type"))
        try:
            async with asyncio.timeout(timeout):
                body = await read_body(request.headers, request.stream(), limit)
        except TimeoutError:
            raise fail(408, TIMEOUT, f"corps de la requête non reçu en {timeout:g} s",
                       "envoyez la requête d'un coup : une situation de foyer tient en quelques centaines "
                       "d'octets") from None
        asked = evaluation_request(parse_json(body))
        registry.poke()
        version = registry.get(asked.file).served()  # this version computes, whatever a reload swaps in
        check_situation(version, asked.situation)
        return version, version.ruleset.evaluate(asked.situation, date=asked.date)

    def answered(version: Version, evaluation: Evaluation) -> dict[str, Any]:
        computed = evaluation.to_json()
        return {"file": computed["file"], "version": version.json, **computed}

    @app.get("/fichiers", response_model=FilesModel, summary="Les fichiers servis")
    async def files() -> JSONResponse:
        registry.poke()
        return _answer({"files": [_file_json(e) for e in registry.entries.values()]})

    @_post(app, "/evaluer", summary="Évaluer un foyer", openapi_extra=_BODY,
           responses={200: {"model": ServedEvaluationModel}, **ERROR_RESPONSES})
    async def evaluer(request: Request) -> JSONResponse:
        version, evaluation = await evaluate(request)
        return _answer(answered(version, evaluation))

    @_post(app, "/expliquer", summary="Évaluer un foyer et expliquer chaque résultat", openapi_extra=_BODY,
           responses={200: {"model": ExplanationModel}, **ERROR_RESPONSES})
    async def expliquer(request: Request) -> JSONResponse:
        version, evaluation = await evaluate(request)
        text = f"{version.ruleset.title} — au {evaluation.date:%d/%m/%Y}\n{evaluation.explain()}"
        return _answer({**answered(version, evaluation), "text": text})

    @app.get("/portees", summary="Scopes API Particulier lus par les règles",
             responses={200: {"description": "le document de `tarifrules scopes --json`"}, **ERROR_RESPONSES})
    async def portees(fichier: Annotated[list[str] | None, Query(description="fichiers (défaut : tous)")] = None,
                      ) -> JSONResponse:
        from ..scopes import analyse

        registry.poke()
        if fichier:
            rulesets = [registry.get(name).served().ruleset for name in fichier]
        else:
            rulesets = [e.version.ruleset for e in registry.entries.values() if e.version is not None]
        return _answer(analyse(rulesets).to_json())

    @app.get("/schema/{fichier}", summary="Schéma JSON de la situation d'un foyer pour un fichier",
             responses={200: {"description": "JSON Schema (draft 2020-12)"}, **ERROR_RESPONSES})
    async def schema(fichier: str) -> JSONResponse:
        registry.poke()
        return _answer(registry.get(fichier).served().schema)

    _handlers(app)
    app.add_middleware(AccessLog)
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        closing = {"connection": "close"} if exc.status == 408 else None  # the rest of the body may still come
        return _answer(document(exc.diagnostics), exc.status, closing)

    @app.exception_handler(TarifError)
    async def tarif_error(_request: Request, exc: TarifError) -> JSONResponse:
        # a situation, a date or a computation this situation makes impossible: the request's
        said = [replace(d, hint=d.hint.replace("--date", "champ « date »")) if d.hint else d for d in exc.diagnostics]
        return _answer(document(said), 422)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            problem = fail(404, UNKNOWN_PATH, "adresse inconnue",
                           "adresses : GET /fichiers, POST /evaluer, POST /expliquer, GET /portees, "
                           "GET /schema/{fichier}, GET /openapi.json")
        elif exc.status_code == 405:
            problem = fail(405, BAD_METHOD, "méthode non permise pour cette adresse",
                           "POST pour /evaluer et /expliquer, GET pour les autres adresses")
        else:
            problem = fail(exc.status_code, BAD_REQUEST, "requête refusée", "voir GET /openapi.json")
        return _answer(document(problem.diagnostics), exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, _exc: RequestValidationError) -> JSONResponse:
        return _answer(document([error(BAD_REQUEST, "paramètres de la requête invalides",
                                       hint="voir GET /openapi.json")]), 422)
