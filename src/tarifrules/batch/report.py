"""The French summary of a batch run, and the impact of another rule file on the same population.

Pure functions from results to lines of text; the CLI prints them. Totals are exact
(integer sums of scaled amounts), never float sums.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from .. import nodes as n
from ..columnar import ERROR, OK, UNDETERMINED
from ..literals import bounds_text
from ..values import format_decimal, spell
from .run import Amounts, BatchResult

DISTINCT_SHOWN = 12  # results with at most this many distinct values are listed value by value


def count(value: int) -> str:
    return format_decimal(Decimal(value))


def exact_sum(values: npt.NDArray[np.int64]) -> int:
    if not len(values):
        return 0
    largest = int(np.abs(values).max())
    if largest * len(values) < 2**62:
        return int(values.sum())
    return sum(int(v) for v in values.tolist())


def grouped_sums(group: npt.NDArray[np.integer], values: npt.NDArray[np.int64], known: npt.NDArray[np.bool_],
                 groups: int) -> tuple[list[int], list[int], list[int]]:
    """For each group 0…groups−1 (rows whose `group` is negative belong to none): its rows, its
    known rows, and the exact total of its known values. One pass per figure (np.bincount); the
    totals go through float64 only when every partial sum is an integer below 2**53, else exactly
    group by group."""
    bins = np.maximum(group, -1).astype(np.intp) + 1  # bin 0: no group (intp: what bincount counts in)
    sizes = np.bincount(bins, minlength=groups + 1)[1:].tolist()
    bins[~known] = 0  # from here on, known rows only
    known_sizes = np.bincount(bins, minlength=groups + 1)[1:].tolist()
    largest = max(int(values.max()), -int(values.min())) if len(values) else 0
    if largest * len(values) < 2**53:  # (unknown rows are in bin 0: their values count nowhere)
        totals = [round(t) for t in np.bincount(bins, weights=values, minlength=groups + 1)[1:].tolist()]
    else:
        totals = [exact_sum(values[known & (group == g)]) for g in range(groups)]
    return sizes, known_sizes, totals


def _spell(result: BatchResult, name: str, scaled: int, scale: int) -> str:
    kind = result.ruleset.symbols.outputs[name].type.kind
    return spell(Decimal(scaled).scaleb(-scale), n.UNIT_OF_KIND.get(kind))


def _foyers(number: int) -> str:
    return f"{count(number)} foyer{'s' if number > 1 else ''}"


def summary(result: BatchResult, reading: str | None = None) -> list[str]:
    """The summary; `reading` (how the file was read: separator, columns) comes second."""
    lines = [f"{result.ruleset.title} — au {result.date:%d/%m/%Y}", *([reading] if reading else []),
             f"{_foyers(result.size + len(result.unreadable))} : {count(result.count(OK))} calculé(s), "
             f"{count(result.count(UNDETERMINED))} indéterminé(s), "
             f"{count(result.count(ERROR) + len(result.unreadable))} en erreur"]
    if result.missing_counts:
        lines.append("Foyers indéterminés, par donnée manquante :")
        width = max(len(d) for d in result.missing_counts)
        lines += [f"  {datum.ljust(width)} : {_foyers(c)}" for datum, c in result.missing_counts.items()]
    for name in result.ruleset.output_names:
        lines += _distribution(result, name)
    if result.error_count:
        lines.append(f"Lignes en erreur ({count(result.error_count)}), non calculées :")
        listed = result.listed_errors()
        lines += [f"  ligne {line} : {message}" for line, message in listed]
        if result.error_count > len(listed):
            lines.append(f"  … et {count(result.error_count - len(listed))} autre(s) ligne(s)")
    return lines


def _tranche_label(row: n.GridRow) -> str:
    return bounds_text(row)  # as the rule file writes it


def _distribution(result: BatchResult, name: str) -> list[str]:
    amounts = result.amounts.get(name)
    array = result.arrays[name]
    if name in result.tranches and amounts is not None:
        rows, default, index = result.tranches[name]
        labels = [_tranche_label(row) for row in rows]
        labels.append("à défaut" if default is not None else "donnée inconnue")
        # index: i for the grid's row i, -2 the « à défaut » row, -1 no row, -3 a row in error
        group = np.where(index == -2, len(rows), index)
        sizes, known_sizes, totals = grouped_sums(group, amounts.values, amounts.known, len(labels))
        lines = [f"{name}, par tranche :"]
        width = max(len(label) for label in labels)
        for label, size, known, total in zip(labels, sizes, known_sizes, totals, strict=True):
            if not size:
                continue
            lines.append(f"  {label.ljust(width)} : {_foyers(size)}"
                         + (f" (dont {count(size - known)} indéterminé(s))" if size - known else "")
                         + f", total {_spell(result, name, total, amounts.scale)}")
        return lines
    if amounts is not None:
        return _numbers(result, name, amounts)
    values = [v for v in array.to_pylist() if v is not None]
    distinct: dict[str, int] = {}
    for value in values:
        key = spell(value)
        distinct[key] = distinct.get(key, 0) + 1
    if not distinct:
        return []
    shown = sorted(distinct.items())[:DISTINCT_SHOWN]
    return [f"{name} :", *(f"  {key} : {_foyers(c)}" for key, c in shown)]


def _numbers(result: BatchResult, name: str, amounts: Amounts) -> list[str]:
    known = amounts.values[amounts.known]
    if not len(known):
        return [f"{name} : aucun foyer calculé"]
    distinct, counts = np.unique(known, return_counts=True)
    if len(distinct) <= DISTINCT_SHOWN:
        lines = [f"{name}, par valeur :"]
        texts = [_spell(result, name, int(v), amounts.scale) for v in distinct]
        width = max(len(t) for t in texts)
        lines += [f"  {t.rjust(width)} : {_foyers(int(c))}" for t, c in zip(texts, counts, strict=True)]
        return lines
    total = exact_sum(known)
    middle = int(np.sort(known)[len(known) // 2])
    return [f"{name} : de {_spell(result, name, int(distinct[0]), amounts.scale)} à "
            f"{_spell(result, name, int(distinct[-1]), amounts.scale)}, médiane "
            f"{_spell(result, name, middle, amounts.scale)}, total {_spell(result, name, total, amounts.scale)} "
            f"({count(len(distinct))} valeurs différentes)"]


def comparison(current: BatchResult, other: BatchResult, other_file: str) -> list[str]:
    """Impact of `other` (another rule file, same population) on each amount both files compute."""
    names = [name for name in current.ruleset.output_names
             if name in current.amounts and name in other.amounts]
    lines = [f"Comparaison avec {other_file} (« {other.ruleset.title} ») :"]
    if not names:
        return [*lines, "  aucun résultat chiffré commun aux deux fichiers (mêmes noms dans « résultats »)"]
    for name in names:
        lines += _impact(current, other, name)
    return lines


def _impact(current: BatchResult, other: BatchResult, name: str) -> list[str]:
    a, b = current.amounts[name], other.amounts[name]
    scale = max(a.scale, b.scale)
    before, after = a.at_scale(scale), b.at_scale(scale)
    both = a.known & b.known
    diff = after - before
    more, less = both & (diff > 0), both & (diff < 0)
    same = both & (diff == 0)
    old_total, new_total = exact_sum(before[both]), exact_sum(after[both])
    change = new_total - old_total
    sign = "+" if change > 0 else ""
    share = f", soit {sign}{format_decimal((Decimal(change) * 100 / Decimal(old_total)).quantize(Decimal('0.1')))} %" \
        if old_total else ""
    lines = [f"  {name} :",
             f"    paient plus : {_foyers(int(more.sum()))} ; paient moins : {_foyers(int(less.sum()))} ; "
             f"même montant : {_foyers(int(same.sum()))} ; non comparables : {_foyers(int((~both).sum()))}",
             f"    total : {_spell(current, name, old_total, scale)} → {_spell(current, name, new_total, scale)} "
             f"(écart {sign}{_spell(current, name, change, scale)}{share})"]
    if name in current.tranches:
        rows, default, index = current.tranches[name]
        labels = [(_tranche_label(row), index == i) for i, row in enumerate(rows)]
        labels.append(("à défaut" if default is not None else "donnée inconnue", index == -2))
        width = max(len(label) for label, _ in labels)
        lines.append(f"    par tranche de {current.ruleset.file} :")
        for label, rows_in in labels:
            inside = rows_in & both
            if not rows_in.any():
                continue
            delta = exact_sum(diff[inside])
            lines.append(f"      {label.ljust(width)} : {count(int((inside & (diff > 0)).sum()))} plus, "
                         f"{count(int((inside & (diff < 0)).sum()))} moins, {count(int((inside & (diff == 0)).sum()))} "
                         f"même, écart {'+' if delta > 0 else ''}{_spell(current, name, delta, scale)}")
    return lines
