"""The batch summary's per-tranche figures: counts and exact totals, whatever the size of the amounts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tarifrules.batch.report import grouped_sums

ROWS = st.lists(st.tuples(st.integers(-3, 4), st.integers(-(2**62), 2**62), st.booleans()), max_size=60)


def _naive(rows: list[tuple[int, int, bool]], groups: int) -> tuple[list[int], list[int], list[int]]:
    sizes = [sum(1 for g, _, _ in rows if g == k) for k in range(groups)]
    known = [sum(1 for g, _, ok in rows if g == k and ok) for k in range(groups)]
    totals = [sum(v for g, v, ok in rows if g == k and ok) for k in range(groups)]
    return sizes, known, totals


@settings(max_examples=200, deadline=None)
@given(ROWS, st.sampled_from([1, 2**20, 2**40, 2**62]))
def test_grouped_sums_are_exact(rows: list[tuple[int, int, bool]], divisor: int) -> None:
    # small amounts take the one-pass path, huge ones the exact group-by-group path
    rows = [(g, v // divisor, ok) for g, v, ok in rows]
    group = np.array([g for g, _, _ in rows], dtype=np.intp)
    values = np.array([v for _, v, _ in rows], dtype=np.int64)
    known = np.array([ok for _, _, ok in rows], dtype=np.bool_)
    assert grouped_sums(group, values, known, 5) == _naive(rows, 5)


def test_a_total_beyond_float_precision_stays_exact() -> None:
    values = np.array([2**52 + 1, 2**52 + 1, 3], dtype=np.int64)
    group = np.zeros(3, dtype=np.intp)
    assert grouped_sums(group, values, np.ones(3, dtype=np.bool_), 1)[2] == [2**53 + 5]
