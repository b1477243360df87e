"""French spelling of exact decimals (`values.format_decimal`), used by every explanation."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tarifrules.values import WIDE, format_decimal


def _by_quantizing(value: Decimal, min_places: int) -> str:
    """The definition: quantize to the places the value needs (at least `min_places`), group by three."""
    normalized = value.normalize(WIDE)
    exponent = normalized.as_tuple().exponent
    places = max(min_places, -exponent if isinstance(exponent, int) else 0)
    value = value.quantize(Decimal(1).scaleb(-places), context=WIDE)
    whole, _, fraction = format(value.copy_abs(), "f").partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    spelled = " ".join([whole, *groups])
    sign = "-" if value < 0 else ""
    return f"{sign}{spelled},{fraction}" if fraction else f"{sign}{spelled}"


@pytest.mark.parametrize(("value", "min_places", "spelled"), [
    ("1234.5", 0, "1 234,5"),
    ("1.00", 0, "1"),
    ("1.00", 2, "1,00"),
    ("1.5", 2, "1,50"),
    ("0.0045", 2, "0,0045"),
    ("-1234567.8910", 0, "-1 234 567,891"),
    ("1E+3", 0, "1 000"),
    ("100", 0, "100"),
    ("0.000", 0, "0"),
    ("-0.0", 2, "0,00"),
])
def test_examples(value: str, min_places: int, spelled: str) -> None:
    assert format_decimal(Decimal(value), min_places=min_places) == spelled


@given(value=st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**15, max_value=10**15)
       | st.builds(lambda digits, exponent: Decimal(digits).scaleb(exponent), st.integers(-10**12, 10**12),
                   st.integers(-20, 20)),
       min_places=st.integers(0, 4))
def test_spelling_is_the_quantized_value_grouped_by_three(value: Decimal, min_places: int) -> None:
    assert format_decimal(value, min_places=min_places) == _by_quantizing(value, min_places)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_only_finite_numbers_are_spelled(value: str) -> None:
    with pytest.raises(InvalidOperation):
        format_decimal(Decimal(value))
