"""Name checks: unknown or duplicated names, derogations, undefined outputs, unused data."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from .. import nodes as n
from ..diagnostics import Diagnostic, error, warning
from ..symbols import definition_references
from .context import Context


def _did_you_mean(name: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"vouliez-vous dire « {close[0]} » ?" if close else None


def check_names(context: Context) -> Iterator[Diagnostic]:
    program, symbols = context.program, context.symbols
    yield from _duplicates(program)
    known = [*symbols.data, *symbols.pieces]
    used: set[str] = set()
    for article in program.articles:
        for definition in article.definitions:
            if definition.name in symbols.data:
                yield error("T011", f"« {definition.name} » est une donnée : elle ne peut pas être définie "
                            "par une règle", definition.name_span,
                            "donnez un autre nom au résultat calculé")
            for ref in definition_references(definition):
                used.add(ref.name)
                if ref.name not in symbols.data and ref.name not in symbols.pieces:
                    hint = _did_you_mean(ref.name, known) or "déclarez-le dans « données » ou définissez-le dans un article"
                    yield error("T010", f"« {ref.name} » n'est ni une donnée déclarée ni un nom défini",
                                ref.span, hint)
            for number in definition.derogates:
                target = symbols.articles.get(number)
                if target is None:
                    yield error("T041", f"la dérogation vise l'article {number}, qui n'existe pas",
                                definition.span, _did_you_mean(number, list(symbols.articles)))
                elif not any(d.name == definition.name for d in target.definitions):
                    yield error("T041", f"l'article {number} ne définit pas « {definition.name} » : "
                                "la dérogation ne vise rien", definition.span,
                                "indiquez l'article qui définit la règle à laquelle celle-ci déroge")
    for output in program.outputs:
        if output.name in symbols.data:
            yield error("T011", f"« {output.name} » est déclaré à la fois comme donnée et comme résultat",
                        output.span, "un résultat est calculé par les règles ; une donnée est fournie")
        elif output.name not in symbols.pieces:
            yield error("T043", f"le résultat « {output.name} » n'est défini dans aucun article", output.span,
                        _did_you_mean(output.name, list(symbols.pieces)) or
                        f"ajoutez dans un article : {output.name} : …")
    if not program.outputs:
        yield error("T043", "le fichier ne déclare aucun résultat", program.header.span,
                    "ajoutez une section « résultats » avec le nom du tarif calculé")
    outputs = set(symbols.outputs)
    for declaration in program.data:
        if declaration.name not in used:
            yield warning("T044", f"donnée déclarée mais jamais utilisée : « {declaration.name} »",
                          declaration.span, "ne la demandez pas : retirez-la de « données »")
    for name, pieces in symbols.pieces.items():
        if name not in used and name not in outputs and name not in symbols.data:
            definition = pieces[0].definition
            yield warning("T046", f"« {name} » est défini mais n'est utilisé par aucun résultat",
                          definition.name_span, "utilisez-le, déclarez-le dans « résultats », ou retirez-le")


def _duplicates(program: n.Program) -> Iterator[Diagnostic]:
    for section, declarations in (("données", program.data), ("résultats", program.outputs)):
        seen: set[str] = set()
        for declaration in declarations:
            if declaration.name in seen:
                yield error("T011", f"« {declaration.name} » est déclaré deux fois dans « {section} »",
                            declaration.span, "gardez une seule déclaration")
            seen.add(declaration.name)
    numbers: set[str] = set()
    for article in program.articles:
        if article.number in numbers:
            yield error("T045", f"deux articles portent le numéro {article.number}", article.span,
                        "numérotez les articles comme la délibération (1, 2, 2 bis…)")
        numbers.add(article.number)
        names: set[str] = set()
        for definition in article.definitions:
            if definition.name in names:
                yield error("T011", f"« {definition.name} » est défini deux fois dans l'article {article.number}",
                            definition.name_span,
                            "regroupez les cas dans une seule définition (si … / sinon si … / sinon)")
            names.add(definition.name)
