"""The JSON Schema (draft 2020-12) of a household's situation for one rule file.

Generated from the file's `données`, it accepts what the situation reader
(`situation.py`) accepts and nothing more: amounts as JSON numbers or French decimal
strings (unit optional, bounds and granularity checked on both), booleans as JSON
booleans, 0/1 or the words of the reader, real dates `JJ/MM/AAAA` or `AAAA-MM-JJ`,
enumeration values as written (or a JSON integer), `null` and the words meaning
« inconnu ». A property test (tests/test_schema.py) holds the two to each other.

Digits are `[0-9]` on both sides (the reader refuses Arabic-Indic or fullwidth digits), and
both bound the size of a number (`situation.MAX_DIGITS` before and after the decimal point:
D008): in a string by its digits, as a JSON number by `exclusiveMinimum`/`exclusiveMaximum`
and, for a datum without granularity, a `multipleOf` of 10⁻³⁰.

Numbers are compared exactly: validate documents parsed with `parse_float=Decimal`
through `validator()`, whose `multipleOf` uses decimal places rather than binary floats.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from . import nodes as n
from .situation import MAX_DIGITS
from .values import decimal_places, format_decimal

DRAFT = "https://json-schema.org/draft/2020-12/schema"

_SPACE = r"\s*"
_GROUP_SEPARATOR = r"[ \u00a0\u202f]"  # escapes read alike by Python and ECMA-262
_UNKNOWN = r"^\s*(?:[iI][nN][cC][oO][nN][nN][uU][eE]?|[nN][uU][lL][lL]|[nN][oO][nN][eE])?\s*$"
_TRUE_WORDS = ("oui", "vrai", "true", "o", "1")
_FALSE_WORDS = ("non", "faux", "false", "n", "0")

# ------------------------------------------------------------------ dates

_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"  # 0001 to 9999
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DAY_MONTH = ("(?:(?:0[1-9]|1[0-9]|2[0-8])/(?:0[1-9]|1[0-2])|(?:29|30)/(?:0[13-9]|1[0-2])|31/(?:0[13578]|1[02]))")
_MONTH_DAY = ("(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)")
_DATE = (rf"^\s*(?:{_DAY_MONTH}/{_YEAR}|29/02/{_LEAP_YEAR}"
         rf"|{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)\s*$")


def _words(words: tuple[str, ...]) -> str:
    """A pattern matching any of the words, in any case (the reader lowers its input)."""
    return "|".join("".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in word) for word in words)


_BOOLEAN = rf"^\s*(?:{_words(_TRUE_WORDS + _FALSE_WORDS)})\s*$"


def _escape(text: str) -> str:
    """Escape regular-expression syntax, in a form both Python and ECMA-262 read the same."""
    return "".join(f"\\{c}" if c in "\\^$.|?*+()[]{}/-" else c for c in text)


# ------------------------------------------------------------------ numbers written as strings
#
# The reader takes `[+-]?(\d{1,3}([ ]\d{3})+|\d+)([,.]\d+)?`. The bounds are checked by
# lookaheads over the magnitude, where a digit may be followed by a group separator.

_DIGIT = f"[0-9]{_GROUP_SEPARATOR}?"
_INTEGER_PART = f"(?:[0-9]{{1,3}}(?:{_GROUP_SEPARATOR}[0-9]{{3}})+|[0-9]+)"


def _digits(count: int) -> str:
    return f"(?:{_DIGIT}){{{count}}}" if count > 1 else (_DIGIT if count == 1 else "")


def _digit_range(low: int, high: int) -> str:
    return str(low) if low == high else f"[{low}-{high}]"


def _split(value: Decimal) -> tuple[str, str]:
    """A non-negative decimal as (significant integer digits, fraction digits without trailing zeros)."""
    whole, _, fraction = format(value.normalize(), "f").partition(".")
    return whole.lstrip("0"), fraction.rstrip("0")


def _fraction_at_least(target: str) -> str:
    """Fraction digits (after `[,.]`, possibly none) whose value is at least 0.<target>."""
    if not target:
        return r"(?:[,.][0-9]+)?"
    alternatives = []
    for index, digit in enumerate(target):
        prefix = target[:index]
        if int(digit) < 9:
            alternatives.append(f"{prefix}[{int(digit) + 1}-9][0-9]*")
    alternatives.append(f"{target}[0-9]*")
    return f"[,.](?:{'|'.join(alternatives)})"


def _fraction_at_most(target: str) -> str:
    """Fraction digits (possibly none) whose value is at most 0.<target>."""
    if not target:
        return r"(?:[,.]0+)?"
    alternatives = []
    for index, digit in enumerate(target):
        prefix = target[:index]
        if int(digit) > 0:
            alternatives.append(f"{prefix}{_digit_range(0, int(digit) - 1)}[0-9]*")
        if prefix:
            alternatives.append(prefix)  # fewer digits: the missing ones are zeros (0,0 ≤ 0,01)
    alternatives.append(f"{target}0*")
    return f"(?:[,.](?:{'|'.join(alternatives)}))?"


def _integer_compare(target: str, greater: bool) -> Iterator[str]:
    """Significant integer digits (leading zeros already consumed) strictly above/below `target`."""
    length = len(target)
    if greater:
        yield f"[1-9]{_GROUP_SEPARATOR}?{_digits(length)}(?:{_DIGIT})*"  # more digits
    elif length > 1:
        yield f"(?:[1-9]{_GROUP_SEPARATOR}?(?:{_DIGIT}){{0,{length - 2}}})?"  # fewer digits (or none)
    else:
        yield ""  # no significant digit: the integer part is zero
    for index, digit in enumerate(target):
        prefix = "".join(f"{d}{_GROUP_SEPARATOR}?" for d in target[:index])
        first = int(digit) + 1 if greater else (1 if index == 0 else 0)
        last = 9 if greater else int(digit) - 1
        if first <= last:
            yield f"{prefix}{_digit_range(first, last)}{_GROUP_SEPARATOR}?{_digits(length - index - 1)}"


def _magnitude(value: Decimal, greater: bool) -> str:
    """Unsigned number text whose value is ≥ `value` (greater) or ≤ `value` (otherwise)."""
    whole, fraction = _split(value)
    leading = f"(?:0{_GROUP_SEPARATOR}?)*"
    equal_whole = "".join(f"{d}{_GROUP_SEPARATOR}?" for d in whole)
    above_or_below = "|".join(_integer_compare(whole, greater))
    beyond = r"(?:[,.][0-9]+)?"
    at = _fraction_at_least(fraction) if greater else _fraction_at_most(fraction)
    if not whole and not greater:  # at most 0.<fraction>: the integer part is zero
        return f"{leading}{at}"
    return f"{leading}(?:(?:{above_or_below}){beyond}|{equal_whole}{at})"


def _signed_bound(value: Decimal, minimum: bool) -> str:
    """Signed number text respecting `≥ value` (minimum) or `≤ value`."""
    zero = rf"(?:0{_GROUP_SEPARATOR}?)+(?:[,.]0+)?"
    anything = r"[0-9]"
    if minimum:
        if value > 0:
            return rf"\+?{_magnitude(value, True)}$"
        if value == 0:
            return rf"(?:\+?{anything}|-{zero}$)"
        return rf"(?:\+?{anything}|-{_magnitude(-value, False)}$)"
    if value >= 0:
        return rf"(?:\+?{_magnitude(value, False)}$|-)"
    return rf"-{_magnitude(-value, True)}$"


# At most MAX_DIGITS significant digits before the point (leading zeros are free) and MAX_DIGITS
# significant places after it (trailing zeros are free), as the reader's `_sized` counts them.
_SIZE = (rf"[+-]?(?:0{_GROUP_SEPARATOR}?)*(?:[1-9](?:{_GROUP_SEPARATOR}?[0-9]){{0,{MAX_DIGITS - 1}}})?"
         rf"(?:[,.](?:[0-9]{{0,{MAX_DIGITS - 1}}}[1-9])?0*)?$")


def _number_pattern(spec: n.TypeSpec, unit: str) -> str:
    low = spec.minimum.value if spec.minimum else Decimal(0)
    high = spec.maximum.value if spec.maximum else None
    if spec.granularity is n.Granularity.ENTIER:
        fraction = r"(?:[,.]0+)?"
    elif spec.granularity is n.Granularity.CENTIME:
        fraction = r"(?:[,.][0-9]{1,2}0*)?"
    else:
        fraction = r"(?:[,.][0-9]+)?"
    core = f"[+-]?{_INTEGER_PART}{fraction}"
    suffix = rf"(?:\s*{_escape(unit)})?" if unit else ""
    checks = [f"(?={core}{suffix}{_SPACE}$)", _lookahead(_SIZE, suffix), _lookahead(_signed_bound(low, True), suffix)]
    if high is not None:
        checks.append(_lookahead(_signed_bound(high, False), suffix))
    return f"^{_SPACE}{''.join(checks)}"


def _lookahead(bound: str, suffix: str) -> str:
    """A bound pattern ending with `$` checks the whole number: let the unit and spaces follow."""
    return f"(?={bound.replace('$', f'{suffix}{_SPACE}$')})"


# ------------------------------------------------------------------ one datum


def _json_number(value: Decimal) -> int | float:
    """A bound as a JSON number (`validator()` reads it back as an exact Decimal)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _strings(*patterns: str) -> str:
    """One pattern for the strings a datum accepts: its own spellings, or a word meaning « inconnu »."""
    return "|".join(f"(?:{p})" for p in (*patterns, _UNKNOWN))


_TOO_LARGE_INT = 10 ** MAX_DIGITS
_TOO_LARGE = Decimal(_TOO_LARGE_INT)


def _numeric(spec: n.TypeSpec) -> dict[str, Any]:
    # `minimum`, `maximum` and `multipleOf` apply to numbers only, `pattern` to strings only:
    # one flat schema, much faster to validate than an `anyOf` of one schema per JSON type.
    unit = n.UNIT_OF_KIND.get(spec.kind, "")
    low = spec.minimum.value if spec.minimum else Decimal(0)
    schema: dict[str, Any] = {"type": ["number", "string", "null"], "minimum": _json_number(low)}
    if low <= -_TOO_LARGE:
        schema["exclusiveMinimum"] = -_TOO_LARGE_INT
    if spec.maximum is not None:
        schema["maximum"] = _json_number(spec.maximum.value)
    if spec.maximum is None or spec.maximum.value >= _TOO_LARGE:
        schema["exclusiveMaximum"] = _TOO_LARGE_INT
    if spec.granularity is n.Granularity.ENTIER:
        schema["multipleOf"] = 1
    elif spec.granularity is n.Granularity.CENTIME:
        schema["multipleOf"] = 0.01
    else:
        schema["multipleOf"] = float(f"1e-{MAX_DIGITS}")
    schema["pattern"] = _strings(_number_pattern(spec, unit))
    return schema


def _enumeration(choices: tuple[str, ...]) -> dict[str, Any]:
    strings = {"type": ["string", "null"],
               "pattern": _strings(f"^{_SPACE}(?:{'|'.join(_escape(c) for c in choices)}){_SPACE}$")}
    integers = [int(c) for c in choices if c.lstrip("-").isascii() and c.lstrip("-").isdigit()
                and str(int(c)) == c]
    if not integers:
        return strings
    return {"anyOf": [strings, {"type": "number", "enum": integers}]}


def _accepted(spec: n.TypeSpec) -> dict[str, Any]:
    match spec.kind:
        case n.Kind.BOOLEEN:  # an integer must be 0 or 1
            return {"type": ["boolean", "integer", "string", "null"], "minimum": 0, "maximum": 1,
                    "pattern": _strings(_BOOLEAN)}
        case n.Kind.DATE:
            return {"type": ["string", "null"], "pattern": _strings(_DATE)}
        case n.Kind.ENUM:
            return _enumeration(spec.choices)
        case _:
            return _numeric(spec)


def _type_text(spec: n.TypeSpec) -> str:
    """The declaration's type as the file writes it (`montant entier au minimum 0 €`)."""
    unit = n.UNIT_OF_KIND.get(spec.kind, "")
    words = [spec.kind.value if spec.kind is not n.Kind.ENUM else f"parmi ({', '.join(spec.choices)})"]
    if spec.kind is n.Kind.MONTANT and spec.granularity is n.Granularity.ENTIER:
        words.append("entier")
    for keyword, bound in (("au minimum", spec.minimum), ("au plus", spec.maximum)):
        if bound is not None:
            words.append(f"{keyword} {format_decimal(bound.value)} {unit}".rstrip())
    return " ".join(words)


def datum_schema(declaration: n.Declaration) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": _type_text(declaration.type)}
    if declaration.description:
        schema["description"] = declaration.description
    return {**schema, **_accepted(declaration.type)}


def situation_schema(program: n.Program) -> dict[str, Any]:
    """The JSON Schema of a situation for this file (a JSON-ready dictionary)."""
    return {
        "$schema": DRAFT,
        "title": f"Situation d'un foyer : {program.header.title}",
        "description": "Valeurs des données déclarées dans le fichier ; une donnée absente, null ou "
                       "« inconnu » est inconnue, un nom non déclaré est refusé.",
        "type": "object",
        "properties": {d.name: datum_schema(d) for d in program.data},
        "additionalProperties": False,
    }


# ------------------------------------------------------------------ validating


def exact(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its numbers as exact Decimals (bounds, `multipleOf`), for `validator()`."""
    loaded: dict[str, Any] = json.loads(json.dumps(schema), parse_float=Decimal)
    return loaded


@functools.cache
def _exact_validator_class() -> Any:
    """Draft 2020-12, with a `multipleOf` that counts decimal places (built once)."""
    from jsonschema import ValidationError, validators

    base = validators.Draft202012Validator

    def multiple_of(checker: Any, step: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        if not checker.is_type(instance, "number"):
            return
        exact_step = step if isinstance(step, Decimal) else Decimal(str(step))
        places = decimal_places(exact_step)
        if Decimal(1).scaleb(-places) == exact_step and isinstance(instance, (int, Decimal)):
            if isinstance(instance, Decimal) and decimal_places(instance) > places:
                yield ValidationError(f"{instance} n'est pas un multiple de {step}")
            return
        yield from base.VALIDATORS["multipleOf"](checker, step, instance, schema)

    return validators.extend(base, {"multipleOf": multiple_of})


def validator(schema: dict[str, Any]) -> Any:
    """A draft 2020-12 validator comparing numbers exactly (documents read with `parse_float=Decimal`)."""
    return _exact_validator_class()(exact(schema))


def json_situation_value(value: Any) -> Any:
    """An example's value (`examples.raw_value`) as a JSON document would carry it."""
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return value
