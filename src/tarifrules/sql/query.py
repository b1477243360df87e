"""The whole query: read and check the données columns, compute the names level by level,
select the données, one column per output and `statut`.

Shape (one sqlglot tree, printed in any dialect):

    WITH _controles AS (SELECT *, <checks of each donnée> AS __cN FROM T),
         _donnees AS (SELECT *, <données read as exact types> AS __dN, <first failed check> AS __fd
                      FROM _controles),
         _niveau1 AS (SELECT *, <names of level 1> FROM _donnees),
         _niveau2 AS (SELECT *, <names of level 2> FROM _niveau1), …
    SELECT <données>, <outputs>, statut FROM _niveauN

A name that depends on other names sits one level above the deepest of them, so that it
reads them as columns and the query stays as small as the file. The levels are a flat list
of common table expressions rather than nested subqueries: a file with many levels (a long
`sauf si` list) is no deeper for the engines, nor for sqlglot which prints it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from .. import nodes as n
from ..catalogue.negatives import unreliable_negatives
from ..diagnostics import TarifError, error
from ..ruleset import RuleSet
from .compiler import DatumColumn, SqlCompiler, column, sql_kind
from .numeric import power_of_ten, scaled
from .typed import (
    INPUT_SCALE,
    ZERO,
    SqlKind,
    Typed,
    bits_or,
    case,
    cast,
    decimal_literal,
    decimal_type,
    first_fail,
    is_null,
    null,
    paren,
    sql_type,
    text,
)

DIALECTS = ("duckdb", "postgres", "spark", "trino")
STATUS = "statut"
MAX_DATA = 62  # one bit of a BIGINT per datum in the missing-data sets


@dataclass(frozen=True)
class Query:
    """The query tree, and the outputs that may hold a quotient kept to DIV_SCALE places."""

    tree: exp.Select
    approximate: frozenset[str]


def compile_query(ruleset: RuleSet, *, dialect: str = "duckdb", table: str | exp.Expr = "menages",
                  date: datetime.date | str | None = None, keep: tuple[str, ...] = ()) -> exp.Select:
    """The query computing every output of `ruleset` for each row of `table` (see docs/sql.md).

    `table` is a table name (`schema.table`, or a table function such as
    `read_parquet('f.parquet')`) or a sqlglot expression; `keep` names other columns of the
    table to copy first (a household identifier…).
    Raises `TarifError` (Q001–Q005, E001, E004) when the query cannot be written.
    """
    return build_query(ruleset, dialect=dialect, table=table, date=date, keep=keep).tree


def build_query(ruleset: RuleSet, *, dialect: str = "duckdb", table: str | exp.Expr = "menages",
                date: datetime.date | str | None = None, keep: tuple[str, ...] = ()) -> Query:
    """`compile_query`, with what the tree's outputs are known to be."""
    if dialect not in DIALECTS:
        raise TarifError([error("Q001", f"dialecte SQL inconnu : « {dialect} »",
                                hint="dialectes possibles : " + ", ".join(DIALECTS))])
    day = ruleset._check_date(date)
    program = ruleset.program
    _check_names(program)
    data = {d.name: _datum(i, d) for i, d in enumerate(program.data)}
    compiler = SqlCompiler(ruleset.symbols, dialect, data)
    outputs = [(d, compiler.name(d.name)) for d in program.outputs]

    unreliable = _unreliable(program, day)
    checks = {d.index: _checks(d.declaration) for d in data.values()}
    checked = exp.select(exp.Star(), *(exp.alias_(check, f"__c{i}", quoted=True) for i, check in checks.items()
                                       if check is not None)).from_(_source(table, dialect))
    reads: list[exp.Expr] = []
    for datum in data.values():
        read = _read(datum, unreliable)
        if checks[datum.index] is not None:  # a refused value is not computed with: the row is in error
            read = case((is_null(column(f"__c{datum.index}")), read))
        reads.append(exp.alias_(read, f"__d{datum.index}", quoted=True))
    data_fail = first_fail(*(column(f"__c{i}") for i, check in checks.items() if check is not None))
    if data_fail is not None:
        reads.append(exp.alias_(data_fail, "__fd", quoted=True))
    levels_sql: list[tuple[str, exp.Select]] = [("_controles", _fenced(checked, dialect))]
    source, below = exp.select(exp.Star(), *reads).from_("_controles"), "_donnees"  # `source` is named `below`

    columns = compiler.result.columns
    levels = sorted({c.value_level for c in columns} | {c.missing_level for c in columns
                                                         if c.definition.missing is not None})
    for level in levels:
        added: list[exp.Expr] = []
        for computed in columns:
            definition = computed.definition
            if computed.value_level == level:
                added.append(exp.alias_(definition.value, f"__v{computed.index}", quoted=True))
                if definition.fail is not None:
                    added.append(exp.alias_(definition.fail, f"__f{computed.index}", quoted=True))
                if definition.unguarded is not None:
                    added.append(exp.alias_(definition.unguarded, f"__u{computed.index}", quoted=True))
            if computed.missing_level == level and definition.missing is not None:
                added.append(exp.alias_(definition.missing, f"__m{computed.index}", quoted=True))
        levels_sql.append((below, _fenced(source, dialect)))
        source, below = exp.select(exp.Star(), *added).from_(below), f"_niveau{level}"

    row_fail = first_fail(column("__fd") if data_fail is not None else None, *(t.fail for _, t in outputs))
    selected: list[exp.Expr] = [column(name) for name in keep if name not in data]
    selected += [column(d.declaration.name) for d in data.values()]
    for declaration, typed in outputs:
        value = _output(declaration.type.kind, typed)
        if row_fail is not None:
            value = case((is_null(row_fail), value))
        selected.append(exp.alias_(value, declaration.name, quoted=True))
    status = _status(outputs, data, row_fail)
    if dialect == "spark":
        status = _exact_decimals_guard(status)
    selected.append(exp.alias_(status, STATUS, quoted=True))
    levels_sql.append((below, _fenced(source, dialect)))
    tree = exp.select(*selected).from_(below)
    for name, level_select in levels_sql:
        tree = tree.with_(name, as_=level_select, copy=False)
    return Query(tree, frozenset(d.name for d, typed in outputs if typed.approx))


def to_sql(ruleset: RuleSet, *, dialect: str = "duckdb", table: str | exp.Expr = "menages",
           date: datetime.date | str | None = None, keep: tuple[str, ...] = (), pretty: bool = True) -> str:
    """The query as text in the dialect, ending with `;`."""
    tree = compile_query(ruleset, dialect=dialect, table=table, date=date, keep=keep)
    return tree.sql(dialect=dialect, pretty=pretty) + ";"


def _source(table: str | exp.Expr, dialect: str) -> exp.Expr:
    """`menages`, `schema.menages`, `read_parquet('f.parquet')`, or a sqlglot expression."""
    return exp.to_table(table, dialect=dialect) if isinstance(table, str) else table.copy()


def _fenced(select: exp.Select, dialect: str) -> exp.Select:
    """PostgreSQL pulls subqueries up, pasting a column's expression wherever it is read: with
    names read several times the expression grows exponentially. `OFFSET 0` keeps each
    level a level (the planner's documented fence); the other engines keep shared columns."""
    return select.offset(0, copy=False) if dialect == "postgres" else select


# ------------------------------------------------------------------ données


def _check_names(program: n.Program) -> None:
    clashes = [d for d in (*program.data, *program.outputs) if d.name == STATUS or d.name.startswith("__")]
    if clashes:
        raise TarifError([error("Q005", f"« {clashes[0].name} » est un nom réservé par la requête SQL",
                                clashes[0].span, f"« {STATUS} » et les noms commençant par « __ » sont des colonnes "
                                "de la requête : renommez cette donnée ou ce résultat")])
    if len(program.data) > MAX_DATA:
        raise TarifError([error("Q004", f"le fichier déclare {len(program.data)} données : la requête SQL en "
                                f"suit au plus {MAX_DATA}", program.data_span,
                                "découpez la délibération en plusieurs fichiers")])


def _input_scale(spec: n.TypeSpec) -> int:
    if spec.kind is n.Kind.MONTANT:
        return 2 if spec.granularity is n.Granularity.CENTIME else 0
    if spec.kind is n.Kind.NOMBRE:
        return 0
    return INPUT_SCALE


def _datum(index: int, declaration: n.Declaration) -> DatumColumn:
    kind = sql_kind(declaration.type.kind)
    scale = _input_scale(declaration.type) + (2 if declaration.type.kind is n.Kind.TAUX else 0)
    value = column(f"__d{index}")
    bit = 1 << index
    bit_literal: exp.Expr = exp.Literal.number(bit)
    if index >= 31:
        bit_literal = cast(bit_literal, exp.DataType.build("BIGINT"))
    missing = case((is_null(value), bit_literal), default=ZERO)
    return DatumColumn(index, declaration, Typed(value, kind, scale, True, False, None, missing), bit)


def _unreliable(program: n.Program, day: datetime.date) -> dict[str, frozenset[object]]:
    """Data whose negative answer, on `day`, only means "not known yet" (read as NULL)."""
    return {u.datum: u.negatives for u in unreliable_negatives(program) if u.on(day)}


def _read(datum: DatumColumn, unreliable: dict[str, frozenset[object]]) -> exp.Expr:
    declaration = datum.declaration
    raw = column(declaration.name)
    kind = datum.reference.kind
    if kind is SqlKind.DECIMAL:
        read_scale = _input_scale(declaration.type)
        value: exp.Expr = cast(raw, decimal_type(read_scale))
        if declaration.type.kind is n.Kind.TAUX:  # given in percent, held as a fraction
            value = cast(scaled(value, Decimal("0.01")), decimal_type(read_scale + 2))
    else:
        value = cast(raw, sql_type(kind))
    negatives = unreliable.get(declaration.name)
    if negatives:
        if kind is SqlKind.BOOLEAN:
            test: exp.Expr = exp.Not(this=paren(value))
        else:
            test = exp.In(this=paren(value), expressions=[text(str(v)) for v in sorted(negatives, key=str)])
        value = case((test, null(kind)), default=value)
    return value


def _checks(declaration: n.Declaration) -> exp.Expr | None:
    """What `SituationReader` refuses, as a text naming the first problem (NULL when none)."""
    raw = column(declaration.name)
    spec = declaration.type
    name = declaration.name
    whens: list[tuple[exp.Expr, exp.Expr]] = []
    if spec.kind is n.Kind.ENUM:
        listed = exp.In(this=paren(cast(raw, sql_type(SqlKind.TEXT))), expressions=[text(c) for c in spec.choices])
        whens.append((exp.Not(this=paren(listed)), text(f"D007 : « {name} » n'est pas une des valeurs prévues")))
    elif sql_kind(spec.kind) is SqlKind.DECIMAL:
        low = spec.minimum.value if spec.minimum else Decimal(0)
        whens.append((exp.LT(this=paren(raw), expression=decimal_literal(low)),
                      text(f"D003 : « {name} » est en dessous de son minimum")))
        if spec.maximum is not None:
            whens.append((exp.GT(this=paren(raw), expression=decimal_literal(spec.maximum.value)),
                          text(f"D003 : « {name} » est au-dessus de son maximum")))
        places = _input_scale(spec)
        shifted = scaled(raw, power_of_ten(places)) if places else raw
        exact = exp.EQ(this=paren(shifted), expression=exp.Floor(this=paren(shifted)))
        code = "Q006" if places == INPUT_SCALE else "D004"
        what = {0: "doit être un nombre entier", 2: "a plus de deux chiffres après la virgule"}.get(
            places, f"a plus de {INPUT_SCALE} chiffres après la virgule")
        whens.append((exp.Not(this=paren(exact)), text(f"{code} : « {name} » {what}")))
    if not whens:
        return None
    return case(*whens)


# ------------------------------------------------------------------ outputs


def _output(kind: n.Kind, typed: Typed) -> exp.Expr:
    """An output as the Python contract gives it: montants with at least cents, taux in percent."""
    if kind is n.Kind.MONTANT:
        return cast(typed.value, decimal_type(max(2, typed.scale)))
    if kind is n.Kind.TAUX:
        return cast(scaled(typed.value, Decimal(100)), decimal_type(max(0, typed.scale - 2)))
    return typed.value.copy()


def _status(outputs: list[tuple[n.Declaration, Typed]], data: dict[str, DatumColumn],
            row_fail: exp.Expr | None) -> exp.Expr:
    whens: list[tuple[exp.Expr, exp.Expr]] = []
    if row_fail is not None:
        whens.append((exp.Not(this=is_null(row_fail)), exp.DPipe(this=text("erreur "), expression=row_fail.copy())))
    unknown = [is_null(t.value) for _, t in outputs if t.nullable]
    if unknown:
        any_unknown: exp.Expr = unknown[0]
        for test in unknown[1:]:
            any_unknown = exp.Or(this=any_unknown, expression=test)
        missing = bits_or(*(t.missing for _, t in outputs))
        whens.append((any_unknown, _missing_list(missing, data)))
    if not whens:
        return null(SqlKind.TEXT)
    return case(*whens)


SPARK_PRECISION_LOSS = "spark.sql.decimalOperations.allowPrecisionLoss"


def _exact_decimals_guard(status: exp.Expr) -> exp.Expr:
    """Spark, with its default `allowPrecisionLoss=true`, rounds to 6 places any product or sum
    whose exact type would exceed DECIMAL(38): cents could then differ from the evaluator's.
    A probe of that rounding (1 × 10^-20 between DECIMAL(38) values) stops the query with a
    message naming the setting; with `false`, Spark computes exactly (or stops on overflow
    under ANSI mode) and the probe folds away."""
    probe = exp.Mul(this=cast(exp.Literal.number(1), decimal_type(0, wide=True)),
                    expression=decimal_literal(Decimal("1E-20")))
    message = (f"tarifrules : Spark arrondit les décimaux ({SPARK_PRECISION_LOSS}=true) ; exécutez cette "
               f"requête avec {SPARK_PRECISION_LOSS}=false (docs/sql.md)")
    raise_error = exp.Anonymous(this="RAISE_ERROR", expressions=[text(message)])
    return case((exp.EQ(this=paren(probe), expression=ZERO), raise_error), default=status)


def _missing_list(missing: exp.Expr | None, data: dict[str, DatumColumn]) -> exp.Expr:
    """`manque : a, b` from the bit set, in declaration order (as `Evaluation.missing`)."""
    if missing is None:
        return text("indéterminé")
    names: exp.Expr | None = None
    for datum in data.values():
        flag = exp.NEQ(this=exp.BitwiseAnd(this=paren(missing), expression=exp.Literal.number(datum.bit)),
                       expression=ZERO)
        part = case((flag, text(f", {datum.declaration.name}")), default=text(""))
        names = part if names is None else exp.DPipe(this=names, expression=part)
    assert names is not None
    listed = exp.Substring(this=paren(names), start=exp.Literal.number(3))
    return case((exp.EQ(this=paren(missing), expression=ZERO), text("indéterminé")),
                default=exp.DPipe(this=text("manque : "), expression=listed))


__all__ = ["DIALECTS", "SPARK_PRECISION_LOSS", "STATUS", "Query", "build_query", "compile_query", "to_sql"]
