"""Priority checks: two definitions that can apply together need a stated priority, and
every name must get a value whatever the (known) data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import nodes as n
from ..diagnostics import Diagnostic, error, warning
from ..symbols import Piece, priority_pairs
from .context import Context
from .solver import Undecided, describe, search


def check_priorities(context: Context) -> Iterator[Diagnostic]:
    for name, pieces in context.symbols.pieces.items():
        yield from _conflicts(context, name, pieces)
        yield from _without_value(context, name, pieces)
        for piece in pieces:
            body = piece.definition.body
            if isinstance(body, n.Cases) and body.cases[-1].condition is not None:
                conditions = [c.condition for c in body.cases if c.condition is not None]
                household = search(context, conditions, lambda values: all(v is False for v in values))
                if household is not None:
                    yield error("T042", _no_value_message(context, name, household),
                                body.cases[-1].span, "ajoutez une dernière ligne « sinon : … »")


def _conflicts(context: Context, name: str, pieces: tuple[Piece, ...]) -> Iterator[Diagnostic]:
    beats = priority_pairs(pieces)
    for i, piece in enumerate(pieces):
        circular = any((i, j) in beats and (j, i) in beats for j in range(len(pieces)))
        if circular or piece.article.number in piece.definition.derogates:
            yield error("T048", f"les priorités entre les définitions de « {name} » tournent en rond : l'article "
                        f"{piece.article.number} finit par déroger à lui-même", piece.definition.name_span,
                        "une seule des deux définitions doit déroger à l'autre : retirez l'une des "
                        "lignes « par dérogation »")
    for i, a in enumerate(pieces):
        for j in range(i + 1, len(pieces)):
            b = pieces[j]
            if (i, j) in beats and (j, i) in beats:
                continue  # reported above as a cycle
            if (i, j) in beats or (j, i) in beats:
                if not a.conditional and not b.conditional:
                    loser = b if (i, j) in beats else a
                    yield warning("T047", f"la définition de « {name} » à l'article {loser.article.number} "
                                  "n'est jamais utilisée : une dérogation sans condition la remplace toujours",
                                  loser.definition.name_span, "ajoutez une condition « si … » à la dérogation")
                continue
            where = f"articles {a.article.number} et {b.article.number}"
            hint = (f"si l'article {b.article.number} fait exception, ajoutez sous sa définition : "
                    f"« par dérogation à l'article {a.article.number} »")
            if not a.conditional and not b.conditional:
                yield error("T040", f"« {name} » est défini deux fois sans condition ({where})",
                            b.definition.name_span, hint)
                continue
            conditions = [p.definition.only_if for p in (a, b) if p.definition.only_if is not None]
            household = search(context, conditions, lambda values: all(v is True for v in values))
            if isinstance(household, Undecided):
                yield error("T040", f"deux définitions de « {name} » peuvent s'appliquer en même temps ({where}) : "
                            "rien ne prouve que leurs conditions s'excluent, et aucune ne l'emporte",
                            b.definition.name_span, hint)
            elif household is not None:
                yield error("T040", f"deux définitions de « {name} » s'appliquent en même temps ({where}), "
                            f"par exemple quand {describe(context, household)}, sans que l'une l'emporte",
                            b.definition.name_span, hint)


def _without_value(context: Context, name: str, pieces: tuple[Piece, ...]) -> Iterator[Diagnostic]:
    if any(not p.conditional for p in pieces):
        return
    conditions: list[Any] = [p.definition.only_if for p in pieces]
    household = search(context, conditions, lambda values: all(v is False for v in values))
    if household is not None:
        yield error("T042", _no_value_message(context, name, household), pieces[0].definition.name_span,
                    "ajoutez une définition sans condition (le cas général), ou complétez les conditions")


def _no_value_message(context: Context, name: str, household: dict[str, Any] | Undecided) -> str:
    if isinstance(household, Undecided):
        return (f"« {name} » peut rester sans valeur : rien ne prouve que ses conditions couvrent "
                "tous les cas")
    return f"« {name} » n'a aucune valeur quand {describe(context, household)}"
