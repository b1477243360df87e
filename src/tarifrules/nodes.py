"""The AST of a `.tarif` file: frozen, slotted dataclasses.

Children are tuples, never lists. Every node carries a `span` that is excluded from
equality, so two files that differ only by layout or comments have equal ASTs (the
formatter's round-trip property relies on it).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from .span import NO_SPAN, Span


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


class Kind(StrEnum):
    """Value types of the language (French names as written in files)."""

    MONTANT = "montant"
    NOMBRE = "nombre"
    DECIMAL = "décimal"
    TAUX = "taux"
    BOOLEEN = "booléen"
    DATE = "date"
    ENUM = "énumération"


class Unit(StrEnum):
    """Unit written after a number literal."""

    NONE = ""
    EURO = "€"
    PERCENT = "%"


UNIT_OF_KIND: dict[Kind, str] = {Kind.MONTANT: "€", Kind.TAUX: "%"}
"""The unit a value of each kind is written with (the other kinds have none)."""


# ------------------------------------------------------------------ expressions


@dataclass(frozen=True, slots=True)
class Number:
    """A number literal as written: `text` keeps the French spelling for messages."""

    value: Decimal  # the written number (50 for `50 %`)
    unit: Unit
    span: Span = _span()

    @property
    def written_as_integer(self) -> bool:
        """True for `3`, false for `3,0` or `3,50` (decides nombre vs décimal)."""
        exponent = self.value.as_tuple().exponent
        return isinstance(exponent, int) and exponent >= 0


@dataclass(frozen=True, slots=True)
class Bool:
    """`oui` / `non`."""

    value: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DateLiteral:
    """A date written JJ/MM/AAAA."""

    value: datetime.date
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to a datum (`données`) or to a defined name."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Arith:
    """`left op right`, one of + − × /."""

    op: str  # one of + - × /
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Compare:
    """`left op right`, one of < ≤ > ≥ = ≠ (unknown when a side is unknown)."""

    op: str  # one of < ≤ > ≥ = ≠
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class IsOneOf:
    """`x est a ou b`: membership of an enumeration value (or a number) in a list."""

    subject: Expr
    choices: tuple[str, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class IsKnown:
    """`x est connu` (known=True) / `x est inconnu` (known=False); never unknown itself."""

    subject: Expr
    known: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class And:
    """`left et right` (Kleene: `non` wins over unknown)."""

    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Or:
    """`left ou right` (Kleene: `oui` wins over unknown)."""

    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Not:
    """`non operand`."""

    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Default:
    """`x à défaut y`: y when x is unknown."""

    expr: Expr
    fallback: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Extremum:
    """`le minimum de a et b…` (kind "minimum") or `le maximum de …` (kind "maximum")."""

    kind: str
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Limit:
    """`x, au minimum y` (kind "minimum", a floor) or `x, au plus y` (kind "maximum")."""

    kind: str
    expr: Expr
    limit: Expr
    span: Span = _span()


class Direction(StrEnum):
    NEAREST = "le plus proche"  # halves go up (away from zero)
    DOWN = "inférieur"
    UP = "supérieur"


@dataclass(frozen=True, slots=True)
class Round:
    """`x, arrondi au centime le plus proche` and friends.

    `step` is the rounding quantum (0.01 for `au centime`, 1 for `à l'euro`), `step_text`
    the words used (`au centime`, `à l'euro`, `à l'unité`, `au dixième`) or None for
    `au multiple de <step_literal>`.
    """

    expr: Expr
    step: Decimal
    direction: Direction
    step_text: str | None
    step_literal: Number | None = None
    span: Span = _span()


Expr = (
    Number | Bool | DateLiteral | Ref | Arith | Compare | IsOneOf | IsKnown | And | Or | Not
    | Default | Extremum | Limit | Round
)


# ------------------------------------------------------------------ definitions


class BoundForm(StrEnum):
    """How a grid row's bounds were written (kept for messages and the formatter)."""

    RANGE = "de"  # de A [inclus|exclu] à B inclus|exclu
    UP_TO = "jusqu'à"  # jusqu'à B inclus|exclu
    BELOW = "moins de"  # moins de B
    FROM = "à partir de"  # à partir de A
    ABOVE = "plus de"  # plus de A
    BEYOND = "au-delà de"  # au-delà de A
    DEFAULT = "à défaut"  # selector unknown


@dataclass(frozen=True, slots=True)
class Bound:
    """One end of a grid row. `included` is None when the file does not say (an error)."""

    value: Number
    included: bool | None
    written: bool = True  # False when the word (inclus/exclu) was left implicit by the form
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class GridRow:
    """One row of a grid: its bounds on the selector, in the words they were written with, and its value."""

    form: BoundForm
    lower: Bound | None
    upper: Bound | None
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Grid:
    """A grid (barème): the row whose bounds hold the selector's value gives the value."""

    selector: Expr
    rows: tuple[GridRow, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Case:
    """One line of a `si … / sinon si … / sinon` definition; condition None for `sinon`."""

    condition: Expr | None
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Cases:
    """A `si … / sinon si … / sinon` body: the first case whose condition holds gives the value."""

    cases: tuple[Case, ...]
    span: Span = _span()


Body = Expr | Grid | Cases


@dataclass(frozen=True, slots=True)
class Unless:
    """`sauf si C : v`: an exception local to a definition, taking priority over its body."""

    condition: Expr
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Definition:
    """`name : body`, with its `sauf si` exceptions and its optional `si` condition."""

    name: str
    body: Body
    unless: tuple[Unless, ...] = ()
    only_if: Expr | None = None  # `si C` clause: the definition applies only when C
    derogates: tuple[str, ...] = ()  # article numbers this definition takes priority over
    span: Span = _span()
    name_span: Span = _span()
    only_if_span: Span = _span()  # the first `si C` clause line (the formatter keeps comments there)
    derogation_span: Span = _span()  # the first `par dérogation` clause line


@dataclass(frozen=True, slots=True)
class Article:
    """An article of the délibération and the definitions it makes."""

    number: str
    title: str | None
    definitions: tuple[Definition, ...]
    span: Span = _span()


def children(node: Expr | Grid | Cases) -> tuple[Expr, ...]:
    """Direct sub-expressions of an expression or a body, in reading order."""
    match node:
        case Arith(left=a, right=b) | Compare(left=a, right=b) | And(left=a, right=b) | Or(left=a, right=b):
            return (a, b)
        case Default(expr=a, fallback=b) | Limit(expr=a, limit=b):
            return (a, b)
        case Not(operand=a) | IsOneOf(subject=a) | IsKnown(subject=a) | Round(expr=a):
            return (a,)
        case Extremum(args=args):
            return args
        case Grid(selector=selector, rows=rows):
            return (selector, *(row.value for row in rows))
        case Cases(cases=cases):
            return tuple(part for case in cases for part in (case.condition, case.value) if part is not None)
    return ()


def walk(node: Expr | Grid | Cases | None) -> Iterator[Expr | Grid | Cases]:
    """The node and every node below it, in reading order."""
    if node is None:
        return
    yield node
    for child in children(node):
        yield from walk(child)


def definition_parts(definition: Definition) -> tuple[Expr | Grid | Cases, ...]:
    """The `si` condition, the `sauf si` lines and the body of a definition, in reading order."""
    parts: list[Expr | Grid | Cases] = [] if definition.only_if is None else [definition.only_if]
    for unless in definition.unless:
        parts += [unless.condition, unless.value]
    parts.append(definition.body)
    return tuple(parts)


# ------------------------------------------------------------------ declarations


class Granularity(StrEnum):
    """Smallest step between two values of a datum, used to find gaps in grids."""

    ENTIER = "entier"
    CENTIME = "au centime"
    CONTINU = "continu"


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """A declared type: kind, and for amounts their granularity, for enumerations their choices, bounds."""

    kind: Kind
    granularity: Granularity | None = None  # only for montant
    choices: tuple[str, ...] = ()  # only for énumérations
    minimum: Number | None = None
    maximum: Number | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Declaration:
    """A line of `données` (a datum) or of `résultats` (an output)."""

    name: str
    type: TypeSpec
    description: str | None
    span: Span = _span()


# ------------------------------------------------------------------ examples


@dataclass(frozen=True, slots=True)
class Word:
    """A bare word or quoted text used as an enumeration value in an example."""

    text: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class UnknownValue:
    """`inconnu` written as a value in an example."""

    span: Span = _span()


ExampleValue = Number | Bool | DateLiteral | Word | UnknownValue


@dataclass(frozen=True, slots=True)
class Assignment:
    """`name = value` in a worked example."""

    name: str
    value: ExampleValue
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ExampleData:
    """One line of data in an example (several assignments separated by commas)."""

    assignments: tuple[Assignment, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Expectation:
    """`attendu nom = valeur`, or `attendu nom indéterminé` (value None)."""

    name: str
    value: ExampleValue | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ExampleDate:
    """`au JJ/MM/AAAA` in a worked example: the day it is computed on."""

    value: datetime.date
    span: Span = _span()


ExampleLine = ExampleData | Expectation | ExampleDate


@dataclass(frozen=True, slots=True)
class Example:
    """A worked example: the situation, the day, and the results the délibération expects."""

    title: str
    lines: tuple[ExampleLine, ...]
    span: Span = _span()


# ------------------------------------------------------------------ file


HEADER_ORDER = ("collectivité", "numéro", "adoptée", "applicable", "fondement", "source", "note")
"""Canonical order of header items: the builder stores them so, the formatter prints them so."""


@dataclass(frozen=True, slots=True)
class HeaderItem:
    """A line of the délibération header; `key` is the French keyword."""

    key: str  # collectivité, numéro, adoptée, applicable, fondement, source, note
    value: str | datetime.date | tuple[datetime.date, datetime.date | None]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Header:
    """The file's title and its header lines (délibération, validity, rounding…)."""

    title: str
    items: tuple[HeaderItem, ...]
    span: Span = _span()

    def get(self, key: str) -> HeaderItem | None:
        for item in self.items:
            if item.key == key:
                return item
        return None


@dataclass(frozen=True, slots=True)
class Comment:
    """A `#` comment; `trailing` when code precedes it on its line."""

    text: str
    line: int
    trailing: bool


@dataclass(frozen=True, slots=True)
class Program:
    """A whole rule file."""

    header: Header
    data: tuple[Declaration, ...]
    outputs: tuple[Declaration, ...]
    articles: tuple[Article, ...]
    examples: tuple[Example, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
    file: str = field(default="<texte>", compare=False)
    span: Span = _span()
    data_span: Span = _span()  # the first `données` line (the formatter keeps comments there)
    outputs_span: Span = _span()  # the first `résultats` line
