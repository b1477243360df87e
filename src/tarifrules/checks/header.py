"""Header checks: the validity period is required and well ordered; items appear once."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, error
from .context import Context


def check_header(context: Context) -> Iterator[Diagnostic]:
    header = context.program.header
    seen: set[str] = set()
    for item in header.items:
        if item.key in seen:
            yield error("T003", f"« {item.key} » est écrit deux fois dans l'en-tête", item.span,
                        "gardez une seule ligne ; une autre version du tarif s'écrit dans un autre fichier")
        seen.add(item.key)
    validity = header.get("applicable")
    if validity is None:
        yield error("T001", "la période d'application n'est pas indiquée", header.span,
                    "ajoutez dans l'en-tête : applicable à partir du JJ/MM/AAAA (ou applicable du … au …)")
    elif isinstance(validity.value, tuple) and validity.value[1] is not None:
        start, end = validity.value
        if end is not None and end < start:
            yield error("T002", f"la fin de la période d'application ({end:%d/%m/%Y}) précède son début "
                        f"({start:%d/%m/%Y})", validity.span, "vérifiez l'ordre des deux dates")
