"""The `statut` column read back as a diagnostic, for a caller that reports rows in error.

A row the evaluator would refuse gets `erreur CODE : message` in `statut` (see
`query._checks` and the division and no-rule cases of `compiler`): this turns it into the
project's `Diagnostic`, with the hint `tarifrules eval` would give, so that a batch
command prints SQL errors like every other one.
"""

from __future__ import annotations

import re

from ..diagnostics import Diagnostic, error

_ROW_ERROR = re.compile(r"^erreur ([A-Z][0-9]{3}) : (.+)$", re.S)

HINTS = {
    "D003": "une donnée d'un foyer respecte les limites déclarées dans « données » (au minimum 0 par défaut)",
    "D004": "arrondissez la donnée comme le fait sa source (montant entier, nombre, ou au centime)",
    "D007": "la valeur doit être une de celles écrites dans « parmi (…) »",
    "E002": "prévoyez ce cas par une condition « si … », ou déclarez la donnée « au minimum 1 »",
    "E006": "ajoutez une définition sans condition (le cas général) ou une ligne « sinon »",
    "Q006": "la requête SQL lit les données décimales avec 6 décimales : arrondissez la donnée à sa source",
}


def status_diagnostic(status: str | None) -> Diagnostic | None:
    """`erreur Q006 : « x » a plus de 6 chiffres après la virgule` → its diagnostic; None otherwise."""
    if status is None:
        return None
    found = _ROW_ERROR.match(status)
    if found is None:
        return None
    code, message = found.groups()
    return error(code, message, hint=HINTS.get(code))


__all__ = ["HINTS", "status_diagnostic"]
