"""A household's situation: caller values → typed runtime values, or diagnostics.

Accepted spellings (the JSON contract): numbers as JSON numbers or strings (`"650"`,
`"650,50"`, `"1 234,56 €"`), booleans or `"oui"`/`"non"`, dates `"JJ/MM/AAAA"` or ISO,
enumeration values as strings (or integers). A key absent or `null` is unknown. A key
that is not declared in `données` is an error: nothing is silently ignored. Values are
never echoed in messages beyond what the caller gave for that key.

Whoever calls (`--set`, a JSON or YAML file, `RuleSet.evaluate`, the service), a number is
read by the same rules: digits 0 to 9 only (not Arabic-Indic `٦٥٠` nor fullwidth `６５０`,
which the JSON Schema of the service would refuse), at most `MAX_DIGITS` before the
decimal point and as many after (D008, checked before any arithmetic: `1e999999999` is a
few bytes, its explanation would be a gigabyte). A situation with many problems reports
the first `MAX_REPORTED`, then how many more (D009).
"""

from __future__ import annotations

import datetime
import difflib
import math
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from . import nodes as n
from .characters import difference, printable, skeleton
from .diagnostics import Diagnostic, TarifError, error
from .values import HUNDRED, WIDE, decimal_places, parse_date, parse_french_number

Converter = Callable[[Any], Any]


class InvalidValue(Exception):
    """A value that does not fit its datum: `code`, French `message` and `hint`."""

    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


_TRUE = {"oui", "vrai", "true", "o", "1"}
_FALSE = {"non", "faux", "false", "n", "0"}
_UNKNOWN_WORDS = {"", "inconnu", "inconnue", "null", "none"}


_NUMBER_HINT = "écrivez un nombre en chiffres, par exemple 650 ou 650,50"
_ASCII_HINT = "écrivez les nombres et les dates avec les chiffres 0 à 9, par exemple 650 ou 01/09/2025"

MAX_DIGITS = 30  # before the decimal point, and after it: a household's data use a dozen at most
MAX_REPORTED = 20  # problems detailed for one situation; the others are counted (D009)
_TOO_LARGE = Decimal(10) ** MAX_DIGITS
_SMALLEST = Decimal(1).scaleb(-MAX_DIGITS)


def _sized(value: Decimal) -> Decimal:
    """`value` if it has at most `MAX_DIGITS` digits before the point and `MAX_DIGITS` significant
    places after it, else D008; trailing zeros beyond are dropped (650,000…0 is 650), so that no
    later step writes out or multiplies a million digits."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if value.is_zero():
        return value if -MAX_DIGITS <= exponent <= 0 else Decimal(0).copy_sign(value)
    if value.adjusted() >= MAX_DIGITS or (exponent < -MAX_DIGITS and decimal_places(value) > MAX_DIGITS):
        raise InvalidValue("D008", f"a trop de chiffres : au plus {MAX_DIGITS} avant la virgule et "
                                   f"{MAX_DIGITS} après",
                           "aucune donnée d'un foyer n'a cette taille : vérifiez la valeur transmise "
                           "(un nombre s'écrit en chiffres, par exemple 650 ou 650,50)")
    return value.quantize(_SMALLEST, context=WIDE) if exponent < -MAX_DIGITS else value


def _only_ascii_digits(text: str) -> None:
    """D002 for digits other than 0 to 9 (`٦٥٠`, `６５０`): the reader's patterns use `\\d`, which
    would read them, and the JSON Schema (`[0-9]`) does not."""
    if not text.isascii() and any(c.isdigit() and not c.isascii() for c in text):
        raise InvalidValue("D002", "contient des chiffres autres que 0 à 9", _ASCII_HINT)


def _as_decimal(raw: Any, unit: str) -> Decimal:
    if type(raw) is int:
        return _sized(Decimal(raw))
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise InvalidValue("D002", "n'est pas un nombre", _NUMBER_HINT)
        return _sized(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise InvalidValue("D002", "n'est pas un nombre", _NUMBER_HINT)
        return _sized(Decimal(repr(raw)))
    if isinstance(raw, str):
        text = raw.strip()
        if unit and text.endswith(unit):
            text = text[: -len(unit)].strip()
        _only_ascii_digits(text)
        value = parse_french_number(text)
        if value is not None:
            return _sized(value)
    raise InvalidValue("D002", "n'est pas un nombre", _NUMBER_HINT)


def _numeric(spec: n.TypeSpec) -> Converter:
    unit = {n.Kind.MONTANT: "€", n.Kind.TAUX: "%"}.get(spec.kind, "")
    whole = spec.granularity is n.Granularity.ENTIER
    cents = spec.granularity is n.Granularity.CENTIME
    low = spec.minimum.value if spec.minimum else Decimal(0)
    high = spec.maximum.value if spec.maximum else None
    accepted = (f"le fichier accepte de {_plain(low, unit)} à {_plain(high, unit)}" if high is not None else
                f"le fichier accepte à partir de {_plain(low, unit)}")

    # the fast path takes the ints that `_sized` accepts (fewer than MAX_DIGITS + 1 digits)
    int_low = max(math.ceil(low), 1 - 10 ** MAX_DIGITS)
    int_high = 10 ** MAX_DIGITS - 1 if high is None else min(math.floor(high), 10 ** MAX_DIGITS - 1)

    def convert(raw: Any) -> Decimal:
        if type(raw) is int and int_low <= raw <= int_high:
            # the common case, as the general path below would read it: an int has no decimal places
            return WIDE.divide(Decimal(raw), HUNDRED) if unit == "%" else Decimal(raw)
        if type(raw) is bool:
            raise InvalidValue("D002", "n'est pas un nombre (oui/non donné)", _NUMBER_HINT)
        value = _as_decimal(raw, unit)
        if value < low:
            raise InvalidValue("D003", f"doit être au moins {_plain(low, unit)}",
                           "une donnée d'un foyer n'est jamais négative" if low == 0 else accepted)
        if high is not None and value > high:
            raise InvalidValue("D003", f"doit être au plus {_plain(high, unit)}", accepted)
        if whole and decimal_places(value) > 0:
            raise InvalidValue("D004", "doit être un nombre entier" + (" d'euros" if unit == "€" else ""),
                           "cette donnée est déclarée « montant entier » : arrondissez comme le fait sa source"
                           if unit == "€" else "cette donnée est déclarée « nombre » : donnez un nombre entier")
        if cents and decimal_places(value) > 2:
            raise InvalidValue("D004", "a plus de deux chiffres après la virgule, or la donnée est au centime",
                           "un montant s'écrit au plus au centime : par exemple 1 234,57")
        if unit == "%":
            return WIDE.divide(value, HUNDRED)
        return value

    return convert


def _plain(value: Decimal, unit: str = "") -> str:
    from .values import format_decimal

    return f"{format_decimal(value)} {unit}".strip()


def _boolean(raw: Any) -> bool:
    if type(raw) is bool:
        return raw
    if type(raw) is int and raw in (0, 1):  # as the strings "0" and "1"
        return raw == 1
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise InvalidValue("D005", "doit valoir « oui » ou « non »", "écrivez oui ou non")


def _date(raw: Any) -> datetime.date:
    if isinstance(raw, datetime.date) and not isinstance(raw, datetime.datetime):
        return raw
    if isinstance(raw, str):
        _only_ascii_digits(raw)
        value = parse_date(raw)
        if value is not None:
            return value
    raise InvalidValue("D006", "n'est pas une date valide",
                       "écrivez la date au format JJ/MM/AAAA, par exemple 01/09/2025")


def _enumeration(choices: tuple[str, ...]) -> Converter:
    accepted = set(choices)

    def convert(raw: Any) -> str:
        if (isinstance(raw, Decimal) and raw.is_finite() and raw.adjusted() < MAX_DIGITS
                and raw == raw.to_integral_value()):  # int() of 1E+999999999 would write a billion digits
            raw = int(raw)
        if type(raw) is bool or not isinstance(raw, (str, int)):
            raise InvalidValue("D007", "n'est pas une des valeurs prévues", f"valeurs possibles : {', '.join(choices)}")
        text = str(raw).strip()
        if text in accepted:
            return text
        close = difflib.get_close_matches(text, choices, n=1)
        hint = f"valeurs possibles : {', '.join(choices)}"
        if close:
            hint = f"vouliez-vous dire « {close[0]} » ? ({hint})"
        raise InvalidValue("D007", "n'est pas une des valeurs prévues", hint)

    return convert


def converter_for(spec: n.TypeSpec) -> Converter:
    match spec.kind:
        case n.Kind.BOOLEEN:
            return _boolean
        case n.Kind.DATE:
            return _date
        case n.Kind.ENUM:
            return _enumeration(spec.choices)
        case _:
            return _numeric(spec)


def _shown(raw: Any) -> str:
    """The caller's value as a person reads it, shortened: « six cents », « -650 », « oui »."""
    if type(raw) is bool:
        text = "oui" if raw else "non"
    elif isinstance(raw, int):
        text = str(Decimal(raw))  # no limit on the number of digits, unlike str(int)
    elif isinstance(raw, (str, Decimal, float, datetime.date)):
        text = str(raw)
    else:
        return "une liste" if isinstance(raw, (list, tuple)) else "un objet"
    text = " ".join(text.split())
    return f"« {printable(text, 40)} »"  # (ESC, BEL… escaped: a value cannot send a command to the terminal)


class SituationReader:
    """Converts situations for one rule file; built once, used for every household."""

    def __init__(self, data: Mapping[str, n.Declaration], computed: set[str]):
        self._converters = {name: converter_for(d.type) for name, d in data.items()}
        self._computed = computed

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._converters)

    def read(self, situation: Mapping[str, Any]) -> dict[str, Any]:
        converters = self._converters
        values: dict[str, Any] = {}
        problems: list[Diagnostic] | None = None
        more = 0  # problems beyond MAX_REPORTED: counted, not described (no close-name search)
        for key, raw in situation.items():
            convert = converters.get(key)
            if convert is not None and raw is not None:
                try:
                    values[key] = convert(raw)
                    continue
                except InvalidValue as exc:
                    if isinstance(raw, str) and raw.strip().lower() in _UNKNOWN_WORDS:
                        continue
                    problem = error(exc.code, f"« {key} » {exc.message} (valeur reçue : {_shown(raw)})", hint=exc.hint)
                except (InvalidOperation, ValueError, TypeError, OverflowError):
                    problem = error("D002", f"« {key} » n'est pas une valeur acceptable (valeur reçue : {_shown(raw)})",
                                    hint=_NUMBER_HINT)
            elif convert is not None:
                continue
            elif problems is not None and len(problems) >= MAX_REPORTED:
                more += 1
                continue
            else:
                problem = self._undeclared(key)
            problems = problems or []
            if len(problems) < MAX_REPORTED:
                problems.append(problem)
            else:
                more += 1
        if problems:
            raise TarifError([*problems, more_problems(more)] if more else problems)
        return values

    def _undeclared(self, key: object) -> Diagnostic:
        name = str(key)
        if name in self._computed:
            return error("D001", f"« {name} » est calculé par les règles : il ne se donne pas dans la situation",
                         hint="retirez-le de la situation")
        close = difflib.get_close_matches(name, list(self._converters), n=1)
        hint = f"vouliez-vous dire « {close[0]} » ?" if close else (
            "données déclarées : " + ", ".join(self._converters) if self._converters else None)
        if close and not (name.isascii() and close[0].isascii()) and skeleton(name) == skeleton(close[0]):
            # The same on screen: say which letter differs (a Cyrillic « а » pasted into the file).
            shown = difference(close[0], name)
            if shown:
                hint = (f"le fichier déclare « {close[0]} », qui s'écrit avec {shown} : "
                        "corrigez le nom dans le fichier (tarifrules check le signale, T049)")
        return error("D001", f"« {name} » n'est pas une donnée déclarée dans le fichier", hint=hint)


def more_problems(count: int) -> Diagnostic:
    """D009: the problems of a situation beyond the first `MAX_REPORTED`, counted."""
    from .values import format_decimal

    return error("D009", f"et {format_decimal(Decimal(count))} autre{'s' if count > 1 else ''} "
                         f"problème{'s' if count > 1 else ''} dans la situation (les {MAX_REPORTED} premiers "
                         "sont détaillés)",
                 hint="corrigez d'abord ceux-ci : tant de problèmes viennent souvent d'une seule cause "
                      "(la situation d'un autre fichier de règles, des noms mal écrits)")
