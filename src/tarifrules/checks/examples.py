"""Example checks: the data and results an example names exist, and its values fit their type."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from .. import nodes as n
from ..diagnostics import Diagnostic, error
from ..examples import expectations, raw_value
from ..situation import InvalidValue, converter_for
from .context import Context
from .types import KIND_WORDS, literal_kind, same_family, unit_hint


def check_examples(context: Context) -> Iterator[Diagnostic]:
    symbols = context.symbols
    for example in context.program.examples:
        seen: set[str] = set()
        for line in example.lines:
            if not isinstance(line, n.ExampleData):
                continue
            for assignment in line.assignments:
                if assignment.name in seen:
                    yield error("T052", f"« {assignment.name} » est donné deux fois dans l'exemple", assignment.span,
                                "gardez une seule valeur ; pour un autre cas, écrivez un autre exemple")
                seen.add(assignment.name)
                declaration = symbols.data.get(assignment.name)
                if declaration is None:
                    if assignment.name in symbols.pieces:
                        article = symbols.pieces[assignment.name][0].article.number
                        yield error("T050", f"« {assignment.name} » est calculé par l'article {article} : "
                                    "un exemple ne le donne pas", assignment.span,
                                    "un exemple ne donne que des données du foyer (section « données ») ; "
                                    "retirez-le de cette ligne")
                        continue
                    close = difflib.get_close_matches(assignment.name, list(symbols.data), n=1)
                    hint = (f"vouliez-vous dire « {close[0]} » ?" if close else
                            "déclarez-la dans « données », ou retirez-la de l'exemple")
                    yield error("T050", f"« {assignment.name} » n'est pas une donnée déclarée", assignment.span, hint)
                    continue
                yield from _value_fits(declaration, assignment.value)
        if not expectations(example):
            yield error("T053", f"l'exemple « {example.title} » n'attend aucun résultat : il ne vérifie rien",
                        example.span, "ajoutez une ligne « attendu nom = valeur »")
        for expectation in expectations(example):
            if expectation.name not in symbols.pieces:
                close = difflib.get_close_matches(expectation.name, list(symbols.outputs), n=1)
                yield error("T051", f"« {expectation.name} » n'est défini dans aucun article", expectation.span,
                            f"vouliez-vous dire « {close[0]} » ?" if close else
                            "résultats du fichier : " + (", ".join(symbols.outputs) or "aucun"))
            elif expectation.value is not None:
                kind = context.kinds.get(expectation.name)
                value = expectation.value
                if isinstance(value, n.Number) and kind is not None and not same_family(literal_kind(value), kind):
                    yield error("T052", f"« {expectation.name} » est {KIND_WORDS[kind]} : la valeur attendue "
                                f"est {KIND_WORDS[literal_kind(value)]}", value.span,
                                unit_hint(kind) or "vérifiez l'unité de la valeur attendue")


def _value_fits(declaration: n.Declaration, value: n.ExampleValue) -> Iterator[Diagnostic]:
    kind = declaration.type.kind
    if isinstance(value, n.Number) and kind in (n.Kind.MONTANT, n.Kind.TAUX, n.Kind.NOMBRE, n.Kind.DECIMAL):
        written = literal_kind(value)
        if written in (n.Kind.MONTANT, n.Kind.TAUX) and written is not kind:
            yield error("T052", f"« {declaration.name} » est {KIND_WORDS[kind]} : la valeur donnée est "
                        f"{KIND_WORDS[written]}", value.span, unit_hint(kind) or "vérifiez l'unité de la valeur")
            return
    if isinstance(value, n.UnknownValue):
        return
    try:
        converter_for(declaration.type)(raw_value(value))
    except InvalidValue as exc:
        yield error("T052", f"« {declaration.name} » {exc.message}", value.span, exc.hint)
