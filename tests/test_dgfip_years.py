"""Which income year a DGFiP datum reads, and when it can be served (issue 9)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tarifrules.dgfip.years import CHOICES, first_unserved_day, income_year_choice

DAYS = st.dates(min_value=datetime.date(2024, 1, 1), max_value=datetime.date(2030, 12, 31))


@pytest.mark.parametrize(("text", "key"), [
    ("revenu fiscal de référence, revenus N-1", "n-1"),
    ("nombre de parts fiscales, revenus n−2", "n-2"),
    ("rfr, année N - 3", "n-3"),
    ("rfr, dernier avis d'imposition disponible", "dernier"),
    ("rfr, dernière année disponible", "dernier"),
    ("revenu fiscal de référence", None),
    (None, None),
])
def test_income_year_is_read_from_the_description(text: str | None, key: str | None) -> None:
    choice = income_year_choice(text)
    assert (choice.key if choice else None) == key


def test_years_read_on_both_sides_of_the_taxation_date() -> None:
    last = income_year_choice("dernier avis disponible")
    n_1 = income_year_choice("revenus N-1")
    assert last is not None and n_1 is not None
    assert last.year(datetime.date(2026, 3, 1)) == 2024 and last.year(datetime.date(2026, 10, 1)) == 2025
    assert n_1.year(datetime.date(2026, 3, 1)) == 2025 and not n_1.served_on(datetime.date(2026, 3, 1))
    assert n_1.served_on(datetime.date(2026, 7, 22))


@given(start=DAYS, length=st.integers(min_value=0, max_value=800) | st.none(), probe=st.integers(0, 800))
def test_first_unserved_day_is_the_first_day_that_cannot_be_served(start: datetime.date, length: int | None,
                                                                 probe: int) -> None:
    until = None if length is None else start + datetime.timedelta(days=length)
    for choice in CHOICES:
        first = first_unserved_day(choice, start, until)
        day = start + datetime.timedelta(days=probe)
        if until is not None and day > until:
            continue
        if not choice.served_on(day):
            assert first is not None and first <= day
        if first is not None:
            assert not choice.served_on(first) and first >= start and (until is None or first <= until)
            if day < first:
                assert choice.served_on(day)
