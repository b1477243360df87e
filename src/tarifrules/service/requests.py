"""From request bytes to a checked evaluation request, or a `ServiceError`.

The body is read up to a limit (413 beyond, whatever the body's size: the
`Content-Length` is checked before reading, a chunked body is counted while read);
JSON is parsed with exact decimals and without `NaN`/`Infinity`; the envelope
`{"file", "situation", "date"}` is checked; the situation is validated against the
file's JSON Schema, and a refused value is explained by the situation reader's own
diagnostic (D001–D009).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..diagnostics import Diagnostic, TarifError, error
from ..documents import DocumentError, load_json
from ..situation import MAX_REPORTED, more_problems
from .errors import (
    BAD_JSON,
    BAD_REQUEST,
    HUGE_NUMBER,
    SCHEMA_REFUSED,
    TOO_LARGE,
    ServiceError,
    did_you_mean,
    fail,
)
from .registry import Version

DEFAULT_LIMIT = 64 * 1024
FIELDS = ("file", "situation", "date")
_SYNONYMS = {"fichier": "file", "foyer": "situation", "donnees": "situation", "données": "situation",
             "jour": "date", "date_calcul": "date"}
_EXAMPLE = '{"file": "restauration-scolaire", "situation": {"quotient_familial": 650}, "date": "15/09/2025"}'


def _size(limit: int) -> str:
    return f"{limit // 1024} Kio" if limit % 1024 == 0 else f"{limit} octets"


def too_large(limit: int) -> ServiceError:
    return fail(413, TOO_LARGE, f"la requête dépasse la taille maximale ({_size(limit)})",
                "une situation de foyer tient en quelques centaines d'octets ; envoyez un foyer par requête")


async def read_body(headers: Mapping[str, str], stream: AsyncIterator[bytes], limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise fail(400, BAD_JSON, "en-tête Content-Length invalide", "laissez le client HTTP le calculer")
        if int(declared) > limit:
            raise too_large(limit)
    chunks: list[bytes] = []
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


MAX_DIGITS = 1000  # a JSON number longer than this once written out (1e999999999…) is refused


class _Huge(Exception):
    pass


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if value.is_finite() and value and abs(value.adjusted()) > MAX_DIGITS:
        raise _Huge  # its explanation would write it out in full: a few bytes must not cost a gigabyte
    return value


def _integer(text: str) -> int:
    if len(text) > MAX_DIGITS + 1:
        raise _Huge
    return int(text)


def parse_json(body: bytes) -> Any:
    hint = f"exemple : {_EXAMPLE}"
    if not body.strip():
        raise fail(400, BAD_JSON, "le corps de la requête est vide : un objet JSON est attendu", hint)
    try:
        text = body.decode("utf-8-sig")  # (a byte order mark, as the command line accepts in --situation)
    except UnicodeDecodeError:
        raise fail(400, BAD_JSON, "le corps de la requête n'est pas du texte UTF-8", hint) from None
    try:
        return load_json(text, parse_float=_decimal, parse_int=_integer)
    except DocumentError as exc:  # a key given twice, nesting too deep, NaN or Infinity…
        raise fail(400, BAD_JSON, f"le corps de la requête est refusé : {exc.message}", hint) from None
    except _Huge:
        raise fail(422, HUGE_NUMBER, f"le corps contient un nombre démesuré (plus de {MAX_DIGITS} chiffres une "
                                     "fois écrit)", "écrivez les nombres en chiffres, sans exposant") from None
    except json.JSONDecodeError as exc:
        raise fail(400, BAD_JSON, f"le corps de la requête n'est pas un JSON valide (ligne {exc.lineno}, "
                                  f"colonne {exc.colno} : {_french(exc.msg)})", hint) from None
    except (ValueError, InvalidOperation, RecursionError):
        raise fail(400, BAD_JSON, "le corps de la requête n'est pas un JSON valide (NaN, Infinity, nombre "
                                  "illisible ou imbrication trop profonde)", hint) from None


_JSON_WORDS = {
    "Expecting value": "valeur attendue",
    "Expecting property name enclosed in double quotes": "nom de clé entre guillemets attendu",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Extra data": "texte en trop après le JSON",
    "Unterminated string starting at": "chaîne non terminée",
    "Invalid control character at": "caractère de contrôle dans une chaîne",
    "Invalid \\escape": "échappement invalide",
}


def _french(message: str) -> str:
    return _JSON_WORDS.get(message, "syntaxe incorrecte")


@dataclass(frozen=True)
class EvaluationRequest:
    file: str
    situation: dict[str, Any]
    date: str | None


def evaluation_request(document: Any) -> EvaluationRequest:
    if not isinstance(document, dict):
        raise fail(422, BAD_REQUEST, "le corps de la requête doit être un objet JSON", f"exemple : {_EXAMPLE}")
    problems = [error(BAD_REQUEST, f"champ inconnu « {str(key)[:40]} »", hint=did_you_mean(key, FIELDS, _SYNONYMS))
                for key in document if key not in FIELDS]
    file, situation, date = document.get("file"), document.get("situation", {}), document.get("date")
    if not isinstance(file, str) or not file:
        problems.append(error(BAD_REQUEST, "« file » est obligatoire : le nom d'un fichier servi",
                              hint="la liste des fichiers : GET /fichiers"))
    if situation is None:
        situation = {}
    if not isinstance(situation, dict):
        problems.append(error(BAD_REQUEST, "« situation » doit être un objet JSON (nom de donnée → valeur)",
                              hint='exemple : {"quotient_familial": 650, "demandeur_emploi": "oui"}'))
    if date is not None and not isinstance(date, str):
        problems.append(error(BAD_REQUEST, "« date » doit être une chaîne JJ/MM/AAAA ou AAAA-MM-JJ",
                              hint='exemple : "15/09/2025" ; sans date, le calcul se fait à la date du jour'))
    if problems:
        raise ServiceError(422, problems)
    assert isinstance(file, str) and isinstance(situation, dict)
    return EvaluationRequest(file, situation, date)


def check_situation(version: Version, situation: dict[str, Any]) -> None:
    """Validate against the file's JSON Schema; explain refusals with the reader's diagnostics."""
    if version.accepts(situation):
        return
    properties = version.schema["properties"]
    refused: set[str] = set()
    for problem in version.validator.iter_errors(situation):
        refused.update([str(problem.path[0])] if problem.path else [k for k in situation if k not in properties])
    diagnostics: list[Diagnostic] = []
    keys = [k for k in situation if k in refused]
    for key in keys[:MAX_REPORTED]:  # the others are counted (D009), as the situation reader does
        try:
            version.reader.read({key: situation[key]})
        except TarifError as exc:
            diagnostics += exc.diagnostics
            continue
        diagnostics.append(error(SCHEMA_REFUSED, f"« {key} » : valeur refusée par le schéma JSON du fichier",
                                 hint="écrivez les nombres et les dates avec les chiffres 0 à 9 "
                                      "(schéma : GET /schema/{fichier})"))
    if len(keys) > MAX_REPORTED:
        diagnostics.append(more_problems(len(keys) - MAX_REPORTED))
    raise ServiceError(422, diagnostics or [error(BAD_REQUEST, "situation refusée par le schéma JSON du fichier",
                                                  hint="schéma : GET /schema/{fichier}")])
