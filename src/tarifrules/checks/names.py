"""Name checks: unknown or duplicated names, derogations, undefined outputs, unused data."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from .. import nodes as n
from ..characters import difference, skeleton
from ..diagnostics import Diagnostic, error, warning
from ..symbols import definition_references
from .context import Context


def _closest(name: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _did_you_mean(name: str, candidates: list[str]) -> str | None:
    close = _closest(name, candidates)
    return f"vouliez-vous dire « {close} » ?" if close else None


def _lookalike(name: str, close: str | None) -> str:
    """How `name` differs from `close` when both look the same on screen (a Cyrillic `а` for an `a`)."""
    if close is None or (name.isascii() and close.isascii()) or skeleton(name) != skeleton(close):
        return ""
    return difference(name, close)


def check_names(context: Context) -> Iterator[Diagnostic]:
    program, symbols = context.program, context.symbols
    yield from _duplicates(program)
    known = [*symbols.data, *symbols.pieces]
    used: set[str] = set()
    for article in program.articles:
        for definition in article.definitions:
            if definition.name in symbols.data and definition.name not in symbols.outputs:
                yield error("T011", f"« {definition.name} » est une donnée : elle ne peut pas être définie "
                            "par une règle", definition.name_span,
                            "donnez un autre nom au résultat calculé")
            for ref in definition_references(definition):
                used.add(ref.name)
                if ref.name not in symbols.data and ref.name not in symbols.pieces:
                    close = _closest(ref.name, known)
                    if close is not None:
                        used.add(close)  # a misspelt use is still a use: no « jamais utilisée » on top
                    hint = (f"vouliez-vous dire « {close} » ?" if close else
                            "déclarez-le dans « données » ou définissez-le dans un article")
                    lookalike = _lookalike(ref.name, close)
                    if lookalike:
                        hint = (f"« {close} » est déclaré, mais ici le nom s'écrit avec {lookalike} : "
                                "retapez-le au clavier")
                    lists = [d.name for d in symbols.data.values() if ref.name in d.type.choices]
                    if lists:
                        hint = (f"« {ref.name} » est une valeur possible de « {lists[0]} » : "
                                f"écrivez « {lists[0]} est {ref.name} »")
                    yield error("T010", f"« {ref.name} » n'est ni une donnée déclarée ni un nom défini",
                                ref.span, hint)
            for number in definition.derogates:
                target = symbols.articles.get(number)
                where = definition.derogation_span if definition.derogation_span.line else definition.span
                defining = [p.article.number for p in symbols.pieces.get(definition.name, ())
                            if p.article.number != article.number]
                suggestion = (
                    f"« {definition.name} » est défini à l'article {defining[0]} : écrivez « par dérogation à "
                    f"l'article {defining[0]} »" if len(defining) == 1 else
                    f"« {definition.name} » est défini aux articles {', '.join(defining)}" if defining else
                    f"« {definition.name} » n'est défini dans aucun autre article : retirez la dérogation")
                if target is None:
                    yield error("T041", f"la dérogation vise l'article {number}, qui n'existe pas", where, suggestion)
                elif not any(d.name == definition.name for d in target.definitions):
                    yield error("T041", f"l'article {number} ne définit pas « {definition.name} » : "
                                "la dérogation ne vise rien", where, suggestion)
    for output in program.outputs:
        if output.name in symbols.data:
            yield error("T011", f"« {output.name} » est déclaré à la fois comme donnée et comme résultat",
                        output.span, "un résultat est calculé par les règles ; une donnée est fournie")
        elif output.name not in symbols.pieces:
            yield error("T043", f"le résultat « {output.name} » n'est défini dans aucun article", output.span,
                        _did_you_mean(output.name, [p for p in symbols.pieces if p not in symbols.outputs]) or
                        f"ajoutez dans un article : {output.name} : …")
    if not program.outputs:
        final = [name for name in symbols.pieces if name not in used and name not in symbols.data]
        example = f"« {final[0]} : montant »" if final else "« tarif_repas : montant »"
        yield error("T043", "le fichier ne déclare aucun résultat", program.header.span,
                    f"ajoutez une section « résultats » qui nomme le tarif calculé, par exemple {example}")
    outputs = set(symbols.outputs)
    for declaration in program.data:
        if declaration.name not in used and declaration.name not in outputs:
            yield warning("T044", f"donnée déclarée mais jamais utilisée : « {declaration.name} »",
                          declaration.span, "ne la demandez pas : retirez-la de « données »")
    for name, pieces in symbols.pieces.items():
        if name not in used and name not in outputs and name not in symbols.data and program.outputs:
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
