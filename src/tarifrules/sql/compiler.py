"""Rules → SQL expressions: one `Typed` per AST node, one set of columns per defined name.

The translation follows `evaluate.Compiler` construct by construct, so that a row gets
what `RuleSet.evaluate` gives the same household:

* unknown data are NULL; `et`, `ou`, `non` are SQL's own Kleene operators;
* a condition that is unknown (`CASE WHEN NULL` would take the ELSE branch) gets its own
  `WHEN`: the common value of both branches when they agree and neither fails;
* `à défaut` is `COALESCE`; `le minimum/maximum de` is guarded so that an unknown argument
  gives NULL on every engine (GREATEST ignores NULL in some and not in others);
* numbers are DECIMAL(38, s) with `s` computed here; rounding and division go through
  `numeric`, never through the engines' own `ROUND` or decimal division;
* a name is computed once, as columns `__vN` (value), `__fN` (error) and `__mN` (missing
  data), that later names read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlglot import exp

from .. import nodes as n
from ..diagnostics import TarifError, error
from ..evaluate import literal_value
from ..symbols import Symbols, ordered_pieces
from . import numeric
from .typed import (
    DIV_SCALE,
    MAX_SCALE,
    NARROW_SCALE,
    ZERO,
    SqlKind,
    Typed,
    as_decimal,
    bits_or,
    case,
    cast,
    coalesce,
    decimal_literal,
    decimal_type,
    first_fail,
    is_null,
    null,
    paren,
    scale_of,
    text,
    when_null,
)

NUMERIC_KINDS = {n.Kind.MONTANT, n.Kind.NOMBRE, n.Kind.DECIMAL, n.Kind.TAUX}


def sql_kind(kind: n.Kind) -> SqlKind:
    if kind in NUMERIC_KINDS:
        return SqlKind.DECIMAL
    return {n.Kind.BOOLEEN: SqlKind.BOOLEAN, n.Kind.DATE: SqlKind.DATE}.get(kind, SqlKind.TEXT)


def column(name: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name, quoted=True))


def unsupported(code: str, message: str, node: object, hint: str) -> TarifError:
    return TarifError([error(code, message, getattr(node, "span"), hint)])  # noqa: B009


@dataclass
class NameColumns:
    """A value computed once in the query (a defined name, or a part read several times)."""

    index: int
    definition: Typed
    value_level: int  # the subquery adding `__vN` and `__fN`
    missing_level: int  # the subquery adding `__mN`
    reference: Typed


@dataclass
class DatumColumn:
    index: int
    declaration: n.Declaration
    reference: Typed
    bit: int


@dataclass
class Compilation:
    data: dict[str, DatumColumn] = field(default_factory=dict)
    names: dict[str, NameColumns] = field(default_factory=dict)
    columns: list[NameColumns] = field(default_factory=list)  # names and parts, in creation order


class SqlCompiler:
    """Compiles the names an output needs, each once, recording the subquery level it needs."""

    def __init__(self, symbols: Symbols, dialect: str, data: dict[str, DatumColumn]):
        self.symbols = symbols
        self.dialect = dialect
        self.result = Compilation(data=data)
        self._next_index = 0

    # --------------------------------------------------------------- names
    def name(self, name: str) -> Typed:
        if name in self.symbols.data:
            return self.result.data[name].reference
        known = self.result.names.get(name)
        if known is None:
            known = self.result.names[name] = self._register(self._pieces(name))
        return replace(known.reference, structural=False)  # a name read is an expression

    def _register(self, definition: Typed) -> NameColumns:
        """Columns `__vN`, `__fN`, `__mN` for a value, one level above what it reads.

        The missing-data set goes one level higher still when it only matters for an
        unknown value: it then tests the column `__vN` instead of repeating the value.
        """
        index = self._next_index
        self._next_index += 1
        value_level = definition.level + 1
        missing = definition.missing
        missing_level = value_level
        unguarded = None
        if definition.unguarded is not None:
            unguarded = column(f"__u{index}")
            missing = when_null(column(f"__v{index}"), unguarded)
            missing_level = value_level + 1
        stored = replace(definition, missing=missing)
        reference = Typed(
            column(f"__v{index}"), definition.kind, definition.scale, definition.nullable, definition.approx,
            None if definition.fail is None else column(f"__f{index}"),
            None if missing is None else column(f"__m{index}"),
            max(value_level, missing_level if missing is not None else 0),
            unguarded, definition.structural,
        )
        columns = NameColumns(index, stored, value_level, missing_level, reference)
        self.result.columns.append(columns)
        return columns

    def _atom(self, typed: Typed) -> Typed:
        """A compound value read several times becomes a column, so that SQL stays linear in the file."""
        if isinstance(typed.value, (exp.Column, exp.Literal, exp.Boolean, exp.Null)) or _is_literal(typed.value):
            return typed
        return self._register(typed).reference

    def _pieces(self, name: str) -> Typed:
        pieces = ordered_pieces(self.symbols.pieces[name])
        not_applicable = f"E006 : aucune règle ne donne de valeur à « {name} » pour ce foyer"
        result: Typed | None = None
        for piece in reversed(pieces):
            value = self._definition_value(piece.definition, not_applicable)
            if piece.definition.only_if is None:
                result = value
            else:
                other = result if result is not None else self._not_applicable(value, not_applicable)
                result = self.choose(self.expr(piece.definition.only_if), value, other)
        assert result is not None
        return result

    @staticmethod
    def _not_applicable(like: Typed, message: str) -> Typed:
        return Typed(null(like.kind, like.scale), like.kind, like.scale, True, like.approx, text(message))

    def _definition_value(self, definition: n.Definition, not_applicable: str) -> Typed:
        result = self.body(definition.body, not_applicable)
        for unless in reversed(definition.unless):
            result = self.choose(self.expr(unless.condition), self.expr(unless.value), result)
        return result

    def body(self, body: n.Body, not_applicable: str) -> Typed:
        match body:
            case n.Grid():
                return self._grid(body)
            case n.Cases(cases=cases):
                result: Typed | None = None
                for item in reversed(cases):
                    value = self.expr(item.value)
                    if item.condition is None:
                        result = value
                    else:
                        other = result if result is not None else self._not_applicable(value, not_applicable)
                        result = self.choose(self.expr(item.condition), value, other)
                assert result is not None
                return replace(result, structural=False)  # the list is one node: its parts count if it is unknown
        return self.expr(body)

    # --------------------------------------------------------------- choices
    def choose(self, condition: Typed, then: Typed, other: Typed) -> Typed:
        """`evaluate.choose`: the branch the condition picks; when it is unknown, the common value.

        The missing data follow `explain.missing_data`, which visits the parts of a name
        (`si` condition, `sauf si` lines, body) or of a `si … sinon` list one by one: a part
        counts when it was evaluated and came out unknown, even if the choice around it
        ended known. So a choice passes on the *flat* set of its parts (`unguarded`),
        and only the name or the list that holds it tests its own value.
        """
        then, other = unify(self._atom(then), self._atom(other))
        then_missing = then.unguarded if then.structural else then.missing
        other_missing = other.unguarded if other.structural else other.missing
        level = max(condition.level, then.level, other.level)
        approx = then.approx or other.approx
        if not condition.nullable:
            c = condition.value
            value: exp.Expr = case((c, then.value), default=other.value)
            fail = first_fail(condition.fail, _pick(c, then.fail, other.fail))
            flat = _pick(c, then_missing, other_missing)
            typed = Typed(value, then.kind, then.scale, then.nullable or other.nullable, approx, fail, None, level,
                          structural=True)
            return _guarded(typed, flat) if flat is not None else typed
        condition = self._atom(condition)
        level = max(level, condition.level)
        c = condition.value
        agree: exp.Expr = exp.EQ(this=paren(then.value), expression=paren(other.value))
        for branch_fail in (then.fail, other.fail):
            if branch_fail is not None:
                agree = exp.And(this=is_null(branch_fail), expression=paren(agree))
        value = case((c, then.value), (exp.Not(this=paren(c)), other.value), (agree, then.value))
        decided_fail = None
        if then.fail is not None or other.fail is not None:
            decided_fail = case((c, then.fail or exp.Null()), (exp.Not(this=paren(c)), other.fail or exp.Null()))
        fail = first_fail(condition.fail, decided_fail)
        branches = None
        if then_missing is not None or other_missing is not None:
            branches = case((c, then_missing or ZERO), (exp.Not(this=paren(c)), other_missing or ZERO),
                            default=bits_or(then_missing, other_missing))
        flat = bits_or(condition.missing, branches)
        typed = Typed(value, then.kind, then.scale, True, approx, fail, None, level, structural=True)
        return _guarded(typed, flat) if flat is not None else typed

    def _grid(self, grid: n.Grid) -> Typed:
        selector = self._atom(self.expr(grid.selector))
        default: Typed | None = None
        rows: list[tuple[Decimal | None, bool, Decimal | None, bool, Typed]] = []
        for row in grid.rows:
            value = self.expr(row.value)
            if row.form is n.BoundForm.DEFAULT:
                default = value
                continue
            low = literal_value(row.lower.value) if row.lower else None
            high = literal_value(row.upper.value) if row.upper else None
            assert not isinstance(low, (bool,)) and not isinstance(high, (bool,))
            rows.append((low, bool(row.lower and row.lower.included), high, bool(row.upper and row.upper.included),
                         value))  # type: ignore[arg-type]
        rows.sort(key=lambda r: (r[0] is not None, r[0] if r[0] is not None else 0, not r[1]))
        values = [r[4] for r in rows] + ([default] if default is not None else [])
        unified = unify(*values)
        by_row = unified[: len(rows)]
        default = unified[len(rows)] if default is not None else None
        s = selector.value
        whens: list[tuple[exp.Expr, Typed]] = []
        if default is not None and selector.nullable:
            whens.append((is_null(s), default))
        # While the rows follow each other from minus infinity (`moins de 400`, then `de 400 …`),
        # a WHEN is only reached by values above the previous upper bound: its lower test goes.
        contiguous = True
        previous: tuple[Decimal, bool] | None = None
        for index, (low, low_in, high, high_in, _) in enumerate(rows):
            value = by_row[index]
            tests: list[exp.Expr] = []
            if index == 0:
                contiguous = low is None
            else:
                contiguous = contiguous and previous is not None and previous == (low, not low_in)
            previous = (high, high_in) if high is not None else None
            if low is not None and not contiguous:
                bound = decimal_literal(low)
                tests.append(exp.GTE(this=paren(s), expression=bound) if low_in else
                             exp.GT(this=paren(s), expression=bound))
            if high is not None:
                bound = decimal_literal(high)
                tests.append(exp.LTE(this=paren(s), expression=bound) if high_in else
                             exp.LT(this=paren(s), expression=bound))
            unknown_left = selector.nullable and default is None  # else NULL was taken by the first WHEN
            test: exp.Expr = (exp.Not(this=is_null(s)) if unknown_left else exp.true()) if not tests else tests[0]
            for extra in tests[1:]:
                test = exp.And(this=test, expression=extra)
            whens.append((test, value))
        chosen = case(*((t, v.value) for t, v in whens))
        fails = [(t, v.fail) for t, v in whens if v.fail is not None]
        fail = first_fail(selector.fail, case(*fails) if fails else None)
        missing_rows = [(t, v.missing) for t, v in whens if v.missing is not None]
        missing: exp.Expr | None = case(*missing_rows, default=ZERO) if missing_rows else None
        if selector.nullable:
            missing = bits_or(selector.missing, missing)
        nullable = any(v.nullable for v in unified) or (selector.nullable and default is None)
        first = unified[0]
        level = max(selector.level, *(v.level for v in unified))
        typed = Typed(chosen, first.kind, first.scale, nullable, any(v.approx for v in unified), fail, None, level)
        return _guarded(typed, missing) if nullable else typed

    # --------------------------------------------------------------- expressions
    def expr(self, node: n.Expr) -> Typed:
        match node:
            case n.Number():
                value = literal_value(node)
                assert isinstance(value, Decimal)
                return Typed(decimal_literal(value), SqlKind.DECIMAL, scale_of(value), False)
            case n.Bool(value=flag):
                return Typed(exp.true() if flag else exp.false(), SqlKind.BOOLEAN, nullable=False)
            case n.DateLiteral(value=day):
                return Typed(cast(text(day.isoformat()), exp.DataType.build("DATE")), SqlKind.DATE, nullable=False)
            case n.Ref(name=name):
                return self.name(name)
            case n.Arith():
                return self._arith(node)
            case n.Compare(op=op, left=left, right=right):
                a, b = self.expr(left), self.expr(right)
                compared: exp.Expr = _COMPARE[op](this=paren(a.value), expression=paren(b.value))
                return _strict(paren(compared), SqlKind.BOOLEAN, 0, a, b)
            case n.IsOneOf(subject=subject, choices=choices):
                return self._is_one_of(self.expr(subject), choices)
            case n.IsKnown(subject=subject, known=known):
                inner = self.expr(subject)
                known_test = exp.Not(this=is_null(inner.value)) if known else is_null(inner.value)
                return Typed(paren(known_test), SqlKind.BOOLEAN, nullable=False, fail=inner.fail, level=inner.level)
            case n.And(left=left, right=right):
                return self._logic(exp.And, False, self.expr(left), self.expr(right))
            case n.Or(left=left, right=right):
                return self._logic(exp.Or, True, self.expr(left), self.expr(right))
            case n.Not(operand=operand):
                inner = self.expr(operand)
                return _strict(exp.Not(this=paren(inner.value)), SqlKind.BOOLEAN, 0, inner)
            case n.Default(expr=main, fallback=fallback):
                a, b = unify(self.expr(main), self.expr(fallback))
                either = coalesce(a.value, b.value)
                fail = first_fail(a.fail, case((is_null(a.value), b.fail)) if b.fail is not None else None)
                typed = Typed(either, a.kind, a.scale, a.nullable and b.nullable, a.approx or b.approx, fail, None,
                              max(a.level, b.level))
                return _guarded(typed, bits_or(a.missing, b.missing)) if typed.nullable else typed
            case n.Extremum(kind=kind, args=args):
                return self._extremum(kind == "maximum", [self.expr(a) for a in args])
            case n.Limit(kind=kind, expr=main, limit=limit):
                return self._extremum(kind == "minimum", [self.expr(main), self.expr(limit)])
            case n.Round():
                return self._round(node)
        raise AssertionError(node)  # pragma: no cover

    def _is_one_of(self, subject: Typed, choices: tuple[str, ...]) -> Typed:
        if subject.kind is SqlKind.DECIMAL:
            numbers = [decimal_literal(Decimal(c)) for c in choices if c.isdigit()]
            if not numbers:
                test: exp.Expr = case((is_null(subject.value), exp.Null()), default=exp.false())
            else:
                test = exp.In(this=paren(subject.value), expressions=numbers)
        else:
            test = exp.In(this=paren(subject.value), expressions=[text(c) for c in choices])
        return _strict(paren(test), SqlKind.BOOLEAN, 0, subject)

    def _logic(self, operator: type[exp.And] | type[exp.Or], decisive: bool, left: Typed, right: Typed) -> Typed:
        value = paren(operator(this=paren(left.value), expression=paren(right.value)))
        right_fail = None
        if right.fail is not None:  # the right side is evaluated unless the left one decides
            undecided = exp.Coalesce(this=paren(left.value) if decisive else exp.Not(this=paren(left.value)),
                                     expressions=[exp.false()])
            right_fail = case((exp.Not(this=undecided), right.fail))
        nullable = left.nullable or right.nullable
        typed = Typed(value, SqlKind.BOOLEAN, 0, nullable, False, first_fail(left.fail, right_fail), None,
                      max(left.level, right.level))
        return _guarded(typed, bits_or(left.missing, right.missing)) if nullable else typed

    def _extremum(self, maximum: bool, args: list[Typed]) -> Typed:
        unified = unify(*(self._atom(a) for a in args))
        function = exp.Greatest if maximum else exp.Least
        value: exp.Expr = function(this=unified[0].value.copy(),
                                         expressions=[a.value.copy() for a in unified[1:]], ignore_nulls=True)
        nullable = [a for a in unified if a.nullable]
        if nullable:  # NULL as soon as one argument is unknown, whatever the engine does
            any_null: exp.Expr = is_null(nullable[0].value)
            for arg in nullable[1:]:
                any_null = exp.Or(this=any_null, expression=is_null(arg.value))
            value = case((any_null, null(unified[0].kind, unified[0].scale)), default=value)
        first = unified[0]
        return Typed(value, first.kind, first.scale, bool(nullable), any(a.approx for a in unified),
                     first_fail(*(a.fail for a in unified)), bits_or(*(a.missing for a in unified)),
                     max(a.level for a in unified))

    def _arith(self, node: n.Arith) -> Typed:
        a, b = self.expr(node.left), self.expr(node.right)
        if node.op == "/":
            a, b = self._atom(a), self._atom(b)  # read many times by the exact division
        if node.op in "+−":
            scale = max(a.scale, b.scale)
            operator = exp.Add if node.op == "+" else exp.Sub
            value = cast(operator(this=paren(as_decimal(a, scale)), expression=paren(as_decimal(b, scale))),
                         _decimal(scale))
            return _strict(value, SqlKind.DECIMAL, scale, a, b)
        if node.op == "×":
            a, b = self._fit_product(a, b, node)
            scale = a.scale + b.scale
            value = cast(exp.Mul(this=paren(a.value), expression=paren(b.value)), _decimal(scale))
            return _strict(value, SqlKind.DECIMAL, scale, a, b)
        return self._divide(node, a, b)

    def _fit_product(self, a: Typed, b: Typed, node: n.Arith) -> tuple[Typed, Typed]:
        """Shorten an approximate quotient so that the exact product keeps within MAX_SCALE."""
        if a.scale + b.scale <= MAX_SCALE:
            return a, b
        for first, second in ((a, b), (b, a)):
            if first.approx and second.scale < MAX_SCALE:
                places = MAX_SCALE - second.scale
                short = first.with_value(numeric.round_to_places(first.value, places))
                short = replace(short, scale=places, approx=True)
                return (short, second) if first is a else (second, short)
        raise unsupported("Q003", f"ce produit a plus de {MAX_SCALE} décimales : il ne tient pas dans un "
                          "DECIMAL(38) exact", node, "arrondissez un des facteurs là où le texte le permet")

    def _divide(self, node: n.Arith, a: Typed, b: Typed) -> Typed:
        if isinstance(node.right, n.Number):
            written = literal_value(node.right)
            assert isinstance(written, Decimal) and written != 0
            inverse = numeric.reciprocal(written)
            if inverse is not None:  # a / 4 = a × 0,25 exactly
                scale = a.scale + scale_of(inverse)
                product = cast(numeric.scaled(a.value, inverse), _decimal(scale))
                return _strict(product, SqlKind.DECIMAL, scale, a, b)
        scale = max(DIV_SCALE, a.scale)
        may_be_zero = not _never_zero(node.right, self.symbols)
        divisor: exp.Expr = b.value
        zero_fail = None
        if may_be_zero:
            is_zero = exp.EQ(this=paren(b.value), expression=exp.Literal.number(0))
            divisor = case((is_zero, null(SqlKind.DECIMAL, b.scale)), default=b.value)
            name = f"« {node.right.name} »" if isinstance(node.right, n.Ref) else "le diviseur"
            zero_fail = case((exp.And(this=exp.Not(this=is_null(a.value)), expression=is_zero),
                              text(f"E002 : division par zéro : {name} vaut 0")))
        # N, D and trunc(N / D) are columns: the rounding reads each several times.
        level = max(a.level, b.level)
        top = self._atom(Typed(numeric.numerator(a.value, a.scale, b.scale, scale), SqlKind.DECIMAL, 0, level=level))
        bottom = self._atom(Typed(numeric.denominator(divisor, b.scale), SqlKind.DECIMAL, 0, level=level))
        truncated = self._atom(Typed(numeric.trunc_div(top.value, bottom.value, self.dialect), SqlKind.DECIMAL, 0,
                                     level=max(top.level, bottom.level)))
        quotient = numeric.quotient(a.value, b.value, top.value, bottom.value, truncated.value, scale)
        result = replace(_strict(quotient, SqlKind.DECIMAL, scale, a, b), level=truncated.level)
        return replace(result, approx=True, fail=first_fail(a.fail, b.fail, zero_fail))

    def _round(self, node: n.Round) -> Typed:
        inner = self._atom(self.expr(node.expr))  # read up to three times by a rounding
        step = node.step.normalize()
        inverse = numeric.reciprocal(step)
        if inverse is None:
            raise unsupported("Q002", f"l'arrondi au multiple de {format(step, 'f').replace('.', ',')} n'a pas de "
                              "traduction SQL exacte", node,
                              "seuls les pas dont l'inverse est un nombre décimal (0,01 ; 0,05 ; 0,1 ; 0,5 ; 1 ; "
                              "10…) se traduisent en SQL ; évaluez ce fichier avec tarifrules")
        units_scale = inner.scale + scale_of(inverse)
        # an amount of at most NARROW_SCALE places times 100 (or 1000) still fits 64 bits
        wide = units_scale > NARROW_SCALE or inverse > 1000
        units = cast(numeric.scaled(inner.value, inverse), decimal_type(units_scale, wide=wide))
        rounder: Callable[[exp.Expr, bool, int], exp.Expr] = {
            n.Direction.NEAREST: numeric.half_up,
            n.Direction.DOWN: numeric.floor,
            n.Direction.UP: numeric.ceil,
        }[node.direction]
        scale = scale_of(step)
        value = cast(numeric.scaled(rounder(units, wide, units_scale), step), _decimal(scale))
        return _strict(value, SqlKind.DECIMAL, scale, inner)


_COMPARE: dict[str, type[exp.Binary]] = {
    "<": exp.LT, "≤": exp.LTE, ">": exp.GT, "≥": exp.GTE, "=": exp.EQ, "≠": exp.NEQ,
}


def _decimal(scale: int) -> exp.DataType:
    from .typed import decimal_type

    return decimal_type(scale)


def _strict(value: exp.Expr, kind: SqlKind, scale: int, *operands: Typed) -> Typed:
    """A node that is unknown as soon as one operand is (arithmetic, comparison, rounding…)."""
    return Typed(value, kind, scale, any(o.nullable for o in operands), any(o.approx for o in operands),
                 first_fail(*(o.fail for o in operands)), bits_or(*(o.missing for o in operands)),
                 max((o.level for o in operands), default=0))


def _pick(condition: exp.Expr, then: exp.Expr | None,
          other: exp.Expr | None) -> exp.Expr | None:
    if then is None and other is None:
        return None
    return case((condition, then or exp.Null()), default=other or exp.Null())


def _guarded(typed: Typed, unguarded: exp.Expr | None) -> Typed:
    """The node with its missing data counted only when it is unknown."""
    if unguarded is None:
        return typed
    return replace(typed, missing=when_null(typed.value, unguarded), unguarded=unguarded)



def _is_literal(value: exp.Expr) -> bool:
    return isinstance(value, exp.Cast) and isinstance(value.this, (exp.Literal, exp.Null))


def unify(*values: Typed) -> list[Typed]:
    """Branches of one choice at one scale (CASE and COALESCE must not pick a type per engine)."""
    if not values or values[0].kind is not SqlKind.DECIMAL:
        return list(values)
    scale = max(v.scale for v in values)
    return [v if v.scale == scale else replace(v, value=as_decimal(v, scale), scale=scale) for v in values]


def _never_zero(node: n.Expr, symbols: Symbols) -> bool:
    if isinstance(node, n.Number):
        return node.value != 0
    if isinstance(node, n.Ref) and node.name in symbols.data:
        minimum = symbols.data[node.name].type.minimum
        return minimum is not None and minimum.value > 0
    return False


__all__ = ["Compilation", "DatumColumn", "NameColumns", "SqlCompiler", "column", "sql_kind", "unsupported"]
