"""Negative answers evaluation may not trust: the MEN base of boursiers is purged each
August and filled again by mid-October, so a « non boursier » read in between may only
mean "not known yet" (catalogue entries with `negative_unreliable_before`).

`RuleSet.evaluate`, the columnar evaluation and the SQL query read such an answer as
unknown on those days (`Unreliable.on`); `checks.catalogue` warns (T064) when a rule
decides on it. An `Unreliable` holds no catalogue entry: a rule set read back from the
command line's cache (`rulecache`) evaluates without loading the catalogue.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, NamedTuple

from .. import nodes as n

if TYPE_CHECKING:
    from .entries import CatalogueEntry

NULL_WORDS = frozenset({"aucun", "aucune", "néant", "sans", "non_boursier", "non-boursier"})
"""Words a `parmi (…)` may add for an entry whose value can be null (`null_means`)."""

UNRELIABLE_FROM = (8, 1)
"""(month, day) the MEN base of boursiers is purged each year: a negative answer is unreliable
from this day to the entry's `negative_unreliable_before` (15/10)."""


def entry_of(declaration: n.Declaration) -> CatalogueEntry | None:
    """The catalogue entry a datum is bound to (None: no description, or no match)."""
    if not declaration.description:
        return None
    from .loading import load_catalogue

    return load_catalogue().lookup(declaration.description)


def unreliable_until(entry: CatalogueEntry) -> tuple[int, int] | None:
    """(month, day) until which a negative answer of the entry may mean "not known yet" (15/10)."""
    if entry.negative_unreliable_before is None:
        return None
    day, month = entry.negative_unreliable_before.split("/")
    return int(month), int(day)


def unreliable_on(entry: CatalogueEntry, day: datetime.date) -> bool:
    """True when a negative answer of the entry, read on `day`, may only mean "not known yet"."""
    until = unreliable_until(entry)
    return until is not None and UNRELIABLE_FROM <= (day.month, day.day) < until


def negative_values(declaration: n.Declaration, entry: CatalogueEntry) -> frozenset[object]:
    """The values of the datum that mean "no" for the entry: `non`, or the word for a null échelon."""
    if declaration.type.kind is n.Kind.BOOLEEN:
        return frozenset({False})
    if declaration.type.kind is n.Kind.ENUM and entry.null_means:
        return frozenset(c for c in declaration.type.choices if c in NULL_WORDS)
    return frozenset()


def unreliable_entries(program: n.Program) -> tuple[tuple[str, CatalogueEntry, frozenset[object]], ...]:
    """(datum, entry, negative values) for each datum whose negative answer is unreliable before a date."""
    found = []
    for declaration in program.data:
        entry = entry_of(declaration)
        if entry is not None and entry.negative_unreliable_before and entry.kind is not None:
            negatives = negative_values(declaration, entry)
            if negatives:
                found.append((declaration.name, entry, negatives))
    return tuple(found)


class Unreliable(NamedTuple):
    """A datum whose negative answers (`negatives`) may only mean "not known yet" from 1 August
    to `until` (month, day) of each year."""

    datum: str
    until: tuple[int, int]
    negatives: frozenset[object]

    def on(self, day: datetime.date) -> bool:
        """True when such an answer, read on `day`, may only mean "not known yet"."""
        return UNRELIABLE_FROM <= (day.month, day.day) < self.until


def unreliable_negatives(program: n.Program) -> tuple[Unreliable, ...]:
    """What evaluation reads as unknown on some days, for each datum of `program`."""
    return tuple(Unreliable(name, until, negatives) for name, entry, negatives in unreliable_entries(program)
                 if (until := unreliable_until(entry)) is not None)
