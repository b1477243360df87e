"""How a rule file spells literals and grid bounds (`1 234,50 €`, `01/09/2025`, `de 400 € à 700 €
exclu`): the formatter writes them so, and `batch` names a grid's rows with them."""

from __future__ import annotations

import datetime
from decimal import Decimal

from . import nodes as n


def bounds_text(row: n.GridRow) -> str:
    """A grid row's bounds as the file writes them: « de 400 € à 700 € exclu », « à défaut »."""
    match row.form, row.lower, row.upper:
        case n.BoundForm.RANGE, n.Bound() as lower, n.Bound() as upper:
            return f"de {bound_text(lower)} à {bound_text(upper)}"
        case n.BoundForm.UP_TO, _, n.Bound() as upper:
            return f"jusqu'à {bound_text(upper)}"
        case n.BoundForm.BELOW, _, n.Bound() as upper:
            return f"moins de {literal_text(upper.value)}"
        case n.BoundForm.DEFAULT, _, _:
            return "à défaut"
        case form, n.Bound() as lower, _:  # à partir de, plus de, au-delà de
            return f"{form.value} {literal_text(lower.value)}"
    raise ValueError(f"ligne de grille inattendue : {row!r}")


def bound_text(bound: n.Bound) -> str:
    """A bound, with « inclus » or « exclu » when the file wrote it."""
    if not bound.written:
        return literal_text(bound.value)
    return f"{literal_text(bound.value)} {'inclus' if bound.included else 'exclu'}"


def literal_text(literal: n.Expr) -> str:
    """A number (with its unit), a boolean or a date, as written in a rule file."""
    match literal:
        case n.Number(value, unit):
            return f"{number_text(value)} {unit.value}" if unit.value else number_text(value)
        case n.Bool(value):
            return "oui" if value else "non"
        case n.DateLiteral(day):
            return date_text(day)
    raise ValueError(f"littéral inattendu : {literal!r}")


def number_text(value: Decimal) -> str:
    """French spelling with the written decimal places: 1234.50 → `1 234,50`."""
    whole, _, fraction = format(value, "f").partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}".replace(",", " ")
    return f"{sign}{grouped},{fraction}" if fraction else f"{sign}{grouped}"


def date_text(day: datetime.date) -> str:
    """JJ/MM/AAAA."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
