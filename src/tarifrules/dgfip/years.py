"""Which income year a rule reads from the DGFiP, and when that year can be served.

A DGFiP datum says its income year in its description, after a comma:
`revenu_fiscal : montant entier, revenu fiscal de référence, revenus N-1`. N is the year
of the evaluation date. A year of income is available once its tax notices are established
(22 July in 2024 and 2025, DGFiP REFERENCE §4): before that day of year N, revenus N-1 do
not exist yet. « dernier avis disponible » reads revenus N-1 when they exist and N-2
otherwise (DataPass scope `dgfip_annee_n_moins_2_si_indispo_n_moins_1`, route « deux ans »).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

__all__ = ["AVAILABLE_FROM", "CHOICES", "IncomeYear", "first_unserved_day", "income_year_choice"]

AVAILABLE_FROM = (7, 22)  # (month, day) revenus N-1 become available in year N (taxation date, DGFiP §4)


@dataclass(frozen=True)
class IncomeYear:
    """One way of choosing the income year."""

    key: str  # "n-1", "n-2", "n-3", "dernier"
    label: str  # as a rule writes it
    scope: str  # the DataPass year scope
    back: int | None  # N − back; None: the last available notice

    def year(self, day: datetime.date) -> int:
        """The income year read for an evaluation on `day`."""
        if self.back is not None:
            return day.year - self.back
        return day.year - 1 if (day.month, day.day) >= AVAILABLE_FROM else day.year - 2

    def served_on(self, day: datetime.date) -> bool:
        """True when the year read on `day` has its notices established."""
        return self.back != 1 or (day.month, day.day) >= AVAILABLE_FROM


CHOICES = (
    IncomeYear("n-1", "revenus N-1", "dgfip_annee_n_moins_1", 1),
    IncomeYear("n-2", "revenus N-2", "dgfip_annee_n_moins_2", 2),
    IncomeYear("n-3", "revenus N-3", "dgfip_annee_n_moins_3", 3),
    IncomeYear("dernier", "dernier avis disponible", "dgfip_annee_n_moins_2_si_indispo_n_moins_1", None),
)
_BY_KEY = {choice.key: choice for choice in CHOICES}
_YEAR = re.compile(r"\b(?:revenus?|ann[ée]es?)\s+(?:de\s+l'ann[ée]e\s+)?n\s*[-−–]\s*([123])\b")
_LAST = re.compile(r"\bderni(?:er|ère)\s+(?:avis|ann[ée]e)(?:\s+d'imposition)?\s+disponible\b")


def income_year_choice(description: str | None) -> IncomeYear | None:
    """The income year a description names (`revenus N-1`, `dernier avis disponible`), if any."""
    if not description:
        return None
    text = description.casefold()
    if _LAST.search(text):
        return _BY_KEY["dernier"]
    match = _YEAR.search(text)
    return _BY_KEY[f"n-{match.group(1)}"] if match else None


def first_unserved_day(choice: IncomeYear, valid_from: datetime.date,
                       valid_until: datetime.date | None) -> datetime.date | None:
    """The first day of the validity period on which `choice` cannot be served, if any."""
    if choice.served_on(valid_from):
        next_january = datetime.date(valid_from.year + 1, 1, 1)
        day = next_january if choice.back == 1 else None
    else:
        day = valid_from
    if day is None or (valid_until is not None and day > valid_until):
        return None
    return day
