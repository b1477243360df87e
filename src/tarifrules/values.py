"""Runtime values: the unknown marker, French number and date spelling.

Values at run time are plain Python objects chosen for exactness and speed:
`Decimal` for montant, décimal and taux (a taux is held as a fraction: 50 % is
`Decimal("0.5")`), `int` for nombre, `bool`, `datetime.date`, `str` for enumerations.
`UNKNOWN` stands for a datum the situation does not give, and for anything computed
from it.
"""

from __future__ import annotations

import datetime
import re
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation
from typing import Final


class _Unknown:
    """The single unknown value (three-valued logic)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "inconnu"

    def __bool__(self) -> bool:  # pragma: no cover - a bug guard, never meant to be used
        raise TypeError("inconnu n'est ni vrai ni faux")


UNKNOWN: Final = _Unknown()

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

# Quantizing to a number's own places (or two) never rounds: it must not fail either,
# whatever the number's size (the ambient context stops at 28 digits).
WIDE = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)

_FRENCH_NUMBER = re.compile(r"^[+-]?(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[,.](\d+))?$")
_FRENCH_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_french_number(text: str) -> Decimal | None:
    """`1 234,56` → Decimal('1234.56'); also accepts a dot. None if not a number."""
    cleaned = text.strip()
    match = _FRENCH_NUMBER.match(cleaned)
    if not match:
        return None
    digits = re.sub(r"[ \u00a0\u202f]", "", cleaned).replace(",", ".")
    try:
        return Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
        return None


def parse_date(text: str) -> datetime.date | None:
    """`JJ/MM/AAAA` or ISO `AAAA-MM-JJ`; None if not a real date."""
    cleaned = text.strip()
    match = _FRENCH_DATE.match(cleaned)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return datetime.date(year, month, day)
        match = _ISO_DATE.match(cleaned)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return datetime.date(year, month, day)
    except ValueError:
        return None
    return None


def format_decimal(value: Decimal, *, min_places: int = 0) -> str:
    """French spelling of an exact decimal: `1234.5` → `1 234,5`; at least `min_places` places.

    The digits are the value's own (`format(…, "f")` never rounds): trailing zeros of the
    fraction are dropped, then zeros added up to `min_places`."""
    if not value.is_finite():
        raise InvalidOperation(f"{value} n'est pas un nombre fini")
    whole, _, fraction = format(value.copy_abs(), "f").partition(".")
    fraction = fraction.rstrip("0").ljust(min_places, "0")
    if len(whole) > 3:
        head = len(whole) % 3 or 3
        whole = " ".join([whole[:head], *(whole[i:i + 3] for i in range(head, len(whole), 3))])
    sign = "-" if value < 0 else ""
    return f"{sign}{whole},{fraction}" if fraction else f"{sign}{whole}"


def spell_written(value: Decimal) -> str:
    """French spelling keeping the written decimal places: `Decimal('1.00')` → `1,00`."""
    exponent = _exponent(value)
    return format_decimal(value, min_places=-exponent if exponent < 0 else 0)


def decimal_places(value: Decimal) -> int:
    """Significant digits after the decimal point (1.50 → 1, 3 → 0), exact whatever its size."""
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0 or not any(digits):  # 0,00 is a whole number
        return 0
    end = len(digits)
    while end and digits[end - 1] == 0:  # no slicing: linear even for a million trailing zeros
        end -= 1
    return max(0, -exponent - (len(digits) - end))


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def format_money(value: Decimal) -> str:
    """`Decimal('1.05')` → `1,05 €`; more places are kept when the value has them."""
    return f"{format_decimal(value, min_places=2)} €"


def format_rate(fraction: Decimal) -> str:
    """A taux held as a fraction: `Decimal('0.0045')` → `0,45 %`."""
    return f"{format_decimal(percent(fraction))} %"


def no_negative_zero(value: Decimal) -> Decimal:
    """`-0` (from `-0` given, or `0 × −1`) as `0`: every evaluation path spells zero alike."""
    return value.copy_abs() if value.is_zero() else value


def money_value(value: Decimal) -> Decimal:
    """Canonical Decimal for an amount: exact cents shown with two places (1.0500 → 1.05)."""
    value = no_negative_zero(value)
    quantized = value.quantize(CENT, context=WIDE)
    return quantized if quantized == value else value.normalize(WIDE)


def percent(fraction: Decimal) -> Decimal:
    """A taux held as a fraction, in percent, exactly: `Decimal('0.0045')` → `Decimal('0.45')`."""
    return no_negative_zero(WIDE.multiply(fraction, HUNDRED).normalize(WIDE))


def decimal_string(value: Decimal) -> str:
    """JSON spelling of an exact decimal: plain digits, dot, no exponent."""
    return format(value, "f")


def spell(value: object, unit: str | None = None, *, whole_euros: bool = False) -> str:
    """A runtime value in French: `1,05 €`, `700 €` (a datum in whole euros), `0,45 %` (a taux
    held as a fraction), `oui`, `01/09/2025`; `unit` is "€", "%" or None."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        if unit == "€":
            return f"{format_decimal(value)} €" if whole_euros and decimal_places(value) == 0 else format_money(value)
        if unit == "%":
            return format_rate(value)
        return format_decimal(value)
    return str(value)
