"""Evaluation: the checked AST compiled once into closures, then run per household.

Semantics (the one implementation of them):
* exact `Decimal` arithmetic in a 60-digit context; rounding only where written;
* three-valued logic: a datum absent from the situation is `UNKNOWN`, so is anything
  computed from it; `et`/`ou` stop on a known decisive side; a condition that is
  unknown yields the common value of its branches when they agree, else `UNKNOWN`;
* a name defined in several articles takes the value of the first piece, in priority
  order (`symbols.ordered_pieces`), whose `si` condition holds.

Compiling with `tracing=True` wraps every closure so that it records its value in
`Env.trace` (keyed by node identity): the explanation and the list of missing data are
read from that record, so they can never disagree with the value.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

from . import nodes as n
from .diagnostics import TarifError, error
from .symbols import Piece, Symbols, ordered_pieces
from .values import HUNDRED, UNKNOWN, WIDE

EXACT = Context(prec=60, traps=[InvalidOperation, DivisionByZero, Overflow])

_ROUNDING = {
    n.Direction.NEAREST: ROUND_HALF_UP,
    n.Direction.DOWN: ROUND_FLOOR,
    n.Direction.UP: ROUND_CEILING,
}


class _NotApplicable:
    """No piece of a definition applies: turned into error E006 when the name is read."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "non applicable"


NOT_APPLICABLE = _NotApplicable()


class Env:
    """Per-evaluation state: the situation's data, computed names, and the optional trace."""

    __slots__ = ("cache", "data", "trace")

    def __init__(self, data: dict[str, Any], trace: dict[Any, Any] | None = None):
        self.data = data
        self.cache: dict[str, Any] = {}
        self.trace = trace


Fn = Callable[[Env], Any]


def literal_value(node: n.Number | n.Bool | n.DateLiteral) -> Decimal | bool | datetime.date:
    """Runtime value of a literal: a taux is held as a fraction (50 % → 0.5)."""
    match node:
        case n.Number(value=value, unit=n.Unit.PERCENT):
            return EXACT.divide(value, HUNDRED)
        case n.Number(value=value):
            return value
        case n.Bool(value=value) | n.DateLiteral(value=value):
            return value
    raise AssertionError(node)  # pragma: no cover


def choose(condition: Fn, then: Fn, other: Fn) -> Fn:
    """`si condition alors then sinon other` in three-valued logic."""

    def chosen(env: Env) -> Any:
        decided = condition(env)
        if decided is True:
            return then(env)
        if decided is False:
            return other(env)
        # The condition is unknown: either side may be the one taken, so a side that cannot
        # be computed (a division by zero, no value) only makes the result unknown.
        try:
            a = then(env)
        except TarifError:
            a = UNKNOWN
        try:
            b = other(env)
        except TarifError:
            b = UNKNOWN
        if a is UNKNOWN or b is UNKNOWN or a is NOT_APPLICABLE or b is NOT_APPLICABLE:
            return UNKNOWN
        return a if a == b else UNKNOWN

    return chosen


def _runtime_error(code: str, message: str, node: Any, hint: str | None = None) -> TarifError:
    return TarifError([error(code, message, node.span, hint)])


def too_large(node: Any) -> TarifError:
    """E005 (also raised by the compiled code: the message lives here only)."""
    return _runtime_error("E005", "le calcul donne un nombre trop grand pour être calculé", node,
                          "vérifiez les montants et les données : un nombre aussi grand est sans doute une "
                          "erreur de saisie")


def division_by_zero(node: n.Arith, data: Mapping[str, Any]) -> TarifError:
    """E002; `data`: the declared data (the hint differs when the divisor is one of them)."""
    divisor = f"« {node.right.name} »" if isinstance(node.right, n.Ref) else "le diviseur"
    hint = ("prévoyez ce cas par une condition « si … », ou, si la donnée ne peut pas être nulle, "
            "déclarez-la « au minimum 1 » dans « données »" if isinstance(node.right, n.Ref) and
            node.right.name in data else "prévoyez ce cas par une condition « si … »")
    return _runtime_error("E002", f"division par zéro : {divisor} vaut 0", node, hint)


def no_row(grid: n.Grid) -> TarifError:
    """E003: no row of the grid holds the value."""
    return _runtime_error(
        "E003", "aucune tranche de la grille ne couvre la valeur de ce foyer", grid,
        "ajoutez une tranche pour cette valeur (par exemple « moins de … » ou « à partir de … »)",
    )


def not_applicable(definition: n.Definition) -> TarifError:
    """E006: no definition of the name applies to this household."""
    return TarifError([error(
        "E006", f"aucune règle ne donne de valeur à « {definition.name} » pour ce foyer",
        definition.name_span, "ajoutez une définition sans condition (le cas général) ou une ligne « sinon »",
    )])


class Compiler:
    """Turns the definitions of a checked program into closures (one per name, memoised)."""

    def __init__(self, symbols: Symbols, tracing: bool = False):
        self.symbols = symbols
        self.tracing = tracing
        self._names: dict[str, Fn] = {}

    # --------------------------------------------------------------- names
    def name(self, name: str) -> Fn:
        if name in self._names:
            return self._names[name]
        computed: list[Fn] = []

        def lookup(env: Env) -> Any:
            cache = env.cache
            if name in cache:
                return cache[name]
            value = cache[name] = computed[0](env)
            return value

        self._names[name] = lookup
        computed.append(self._pieces(name))
        return lookup

    def _pieces(self, name: str) -> Fn:
        pieces = ordered_pieces(self.symbols.pieces[name])
        result: Fn = _constant(NOT_APPLICABLE)
        for piece in reversed(pieces):
            value = self._definition_value(piece.definition)
            if piece.definition.only_if is None:
                result = value
            else:
                result = choose(self.expr(piece.definition.only_if), value, result)
        if not always_applies(pieces):
            result = _applicable(result, name, pieces[0].definition)
        if not self.tracing:
            return result
        key = ("nom", name)

        def traced(env: Env) -> Any:
            value = result(env)
            assert env.trace is not None
            env.trace[key] = value
            return value

        return traced

    def _definition_value(self, definition: n.Definition) -> Fn:
        result = self.body(definition.body)
        for unless in reversed(definition.unless):
            result = choose(self.expr(unless.condition), self.expr(unless.value), result)
        return result

    def body(self, body: n.Body) -> Fn:
        match body:
            case n.Grid():
                return self._record(body, self._grid(body))
            case n.Cases(cases=cases):
                result: Fn = _constant(NOT_APPLICABLE)
                for case in reversed(cases):
                    value = self.expr(case.value)
                    result = value if case.condition is None else choose(
                        self.expr(case.condition), value, result
                    )
                return self._record(body, result)
            case _:
                return self.expr(body)

    def _grid(self, grid: n.Grid) -> Fn:
        selector = self.expr(grid.selector)
        default: Fn | None = None
        rows: list[tuple[Any, bool, Any, bool, Fn]] = []
        for row in grid.rows:
            value = self._record(row, self.expr(row.value))
            if row.form is n.BoundForm.DEFAULT:
                default = value
                continue
            low = literal_value(row.lower.value) if row.lower else None
            high = literal_value(row.upper.value) if row.upper else None
            rows.append((
                low, bool(row.lower and row.lower.included),
                high, bool(row.upper and row.upper.included), value,
            ))
        rows.sort(key=lambda r: (r[0] is not None, r[0] if r[0] is not None else 0, not r[1]))
        frozen_rows = tuple(rows)

        def evaluate_grid(env: Env) -> Any:
            v = selector(env)
            if v is UNKNOWN:
                return default(env) if default is not None else UNKNOWN
            for low, low_in, high, high_in, value in frozen_rows:
                if low is not None and (v < low or (v == low and not low_in)):
                    continue
                if high is not None and (v > high or (v == high and not high_in)):
                    continue
                return value(env)
            raise no_row(grid)

        return evaluate_grid

    # --------------------------------------------------------------- expressions
    def expr(self, node: n.Expr) -> Fn:
        return self._record(node, self._expr(node))

    def _record(self, node: Any, fn: Fn) -> Fn:
        if not self.tracing:
            return fn
        key = id(node)

        def traced(env: Env) -> Any:
            value = fn(env)
            assert env.trace is not None
            env.trace[key] = value
            return value

        return traced

    def _expr(self, node: n.Expr) -> Fn:
        match node:
            case n.Number() | n.Bool() | n.DateLiteral():
                return _constant(literal_value(node))
            case n.Ref(name=name):
                if name in self.symbols.data:
                    return lambda env: env.data.get(name, UNKNOWN)
                return self.name(name)
            case n.Arith():
                return self._arith(node)
            case n.Compare(op=op, left=left, right=right):
                return _compare(op, self.expr(left), self.expr(right))
            case n.IsOneOf(subject=subject, choices=choices):
                accepted = frozenset(choice_forms(choices))
                subject_fn = self.expr(subject)

                def is_one_of(env: Env) -> Any:
                    v = subject_fn(env)
                    return UNKNOWN if v is UNKNOWN else v in accepted

                return is_one_of
            case n.IsKnown(subject=subject, known=known):
                subject_fn = self.expr(subject)
                return lambda env: (subject_fn(env) is not UNKNOWN) is known
            case n.And(left=left, right=right):
                return _and(self.expr(left), self.expr(right))
            case n.Or(left=left, right=right):
                return _or(self.expr(left), self.expr(right))
            case n.Not(operand=operand):
                operand_fn = self.expr(operand)

                def negate(env: Env) -> Any:
                    v = operand_fn(env)
                    return UNKNOWN if v is UNKNOWN else not v

                return negate
            case n.Default(expr=expr, fallback=fallback):
                main, other = self.expr(expr), self.expr(fallback)

                def default(env: Env) -> Any:
                    v = main(env)
                    return other(env) if v is UNKNOWN else v

                return default
            case n.Extremum(kind=kind, args=args):
                return _extremum(max if kind == "maximum" else min, [self.expr(a) for a in args])
            case n.Limit(kind=kind, expr=expr, limit=limit):
                return _extremum(max if kind == "minimum" else min, [self.expr(expr), self.expr(limit)])
            case n.Round():
                return self._round(node)
        raise AssertionError(node)  # pragma: no cover

    def _arith(self, node: n.Arith) -> Fn:
        left, right = self.expr(node.left), self.expr(node.right)
        if node.op == "/":
            data = self.symbols.data

            def divide(env: Env) -> Any:
                a, b = left(env), right(env)
                if a is UNKNOWN or b is UNKNOWN:
                    return UNKNOWN
                if b == 0:
                    raise division_by_zero(node, data)
                try:
                    return EXACT.divide(a, b)
                except Overflow:
                    raise too_large(node) from None

            return divide
        operation = {"+": EXACT.add, "−": EXACT.subtract, "×": EXACT.multiply}[node.op]

        def arith(env: Env) -> Any:
            a, b = left(env), right(env)
            if a is UNKNOWN or b is UNKNOWN:
                return UNKNOWN
            try:
                return operation(a, b)
            except Overflow:
                raise too_large(node) from None

        return arith

    def _round(self, node: n.Round) -> Fn:
        inner = self.expr(node.expr)
        rounding = _ROUNDING[node.direction]
        step = node.step.normalize(WIDE)
        power_of_ten = step.as_tuple().digits == (1,)

        def round_value(env: Env) -> Any:
            v = inner(env)
            if v is UNKNOWN:
                return UNKNOWN
            if power_of_ten:  # exact whatever the size of v (EXACT would refuse more than 60 digits)
                return v.quantize(step, rounding=rounding, context=WIDE)
            try:
                units = EXACT.divide(v, step).to_integral_value(rounding=rounding, context=EXACT)
                return EXACT.multiply(units, step)
            except Overflow:
                raise too_large(node) from None

        return round_value


def always_applies(pieces: tuple[Piece, ...]) -> bool:
    """Whether some unconditional piece always gives a value (then no check is needed at run time)."""
    for piece in pieces:
        body = piece.definition.body
        total_body = not isinstance(body, n.Cases) or body.cases[-1].condition is None
        if piece.definition.only_if is None and total_body:
            return True
    return False


def _applicable(result: Fn, name: str, definition: n.Definition) -> Fn:
    """No rule gives `name` a value for this household: say so, never let it pass as unknown."""

    def applicable(env: Env) -> Any:
        value = result(env)
        if value is NOT_APPLICABLE:
            raise not_applicable(definition)
        return value

    return applicable


def _constant(value: Any) -> Fn:
    return lambda env: value


def choice_forms(choices: tuple[str, ...]) -> list[Any]:
    forms: list[Any] = []
    for choice in choices:
        forms.append(choice)
        if choice.isdigit():
            forms.append(Decimal(choice))
    return forms


def _compare(op: str, left: Fn, right: Fn) -> Fn:
    test: Callable[[Any, Any], bool] = {
        "<": lambda a, b: a < b,
        "≤": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        "≥": lambda a, b: a >= b,
        "=": lambda a, b: a == b,
        "≠": lambda a, b: a != b,
    }[op]

    def compare(env: Env) -> Any:
        a, b = left(env), right(env)
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        return test(a, b)

    return compare


def _and(left: Fn, right: Fn) -> Fn:
    def conjunction(env: Env) -> Any:
        a = left(env)
        if a is False:
            return False
        b = right(env)
        if b is False:
            return False
        return True if a is True and b is True else UNKNOWN

    return conjunction


def _or(left: Fn, right: Fn) -> Fn:
    def disjunction(env: Env) -> Any:
        a = left(env)
        if a is True:
            return True
        b = right(env)
        if b is True:
            return True
        return False if a is False and b is False else UNKNOWN

    return disjunction


def _extremum(pick: Callable[..., Any], args: list[Fn]) -> Fn:
    def extremum(env: Env) -> Any:
        values = [arg(env) for arg in args]
        if any(v is UNKNOWN for v in values):
            return UNKNOWN
        return pick(values)

    return extremum
