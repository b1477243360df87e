"""The query of a rule file run over an Arrow table of households, on DuckDB or PostgreSQL.

Each runner loads the table into the engine (DuckDB from Arrow, PostgreSQL by `COPY`),
runs `tarifrules sql`'s query keeping `__id`, and returns its rows as an Arrow table in
`__id` order. PostgreSQL's rows come back by `COPY … TO STDOUT` as CSV: numbers stay
their decimal text, read exactly by `sql_reference.comparable`, never as a float.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from tarifrules import nodes as n
from tarifrules.ruleset import RuleSet
from tarifrules.sql import STATUS, to_sql

from .sql_households import NUMBER_TYPE
from .sql_reference import comparable

ARROW_TYPES = {
    n.Kind.MONTANT: NUMBER_TYPE, n.Kind.NOMBRE: NUMBER_TYPE, n.Kind.DECIMAL: NUMBER_TYPE, n.Kind.TAUX: NUMBER_TYPE,
    n.Kind.BOOLEEN: pa.bool_(), n.Kind.DATE: pa.date32(), n.Kind.ENUM: pa.string(),
}
POSTGRES_TYPES = {"decimal128(24, 6)": "NUMERIC(24, 6)", "bool": "BOOLEAN", "date32[day]": "DATE", "string": "VARCHAR",
                  "int64": "BIGINT"}


def rows_table(ruleset: RuleSet, rows: list[dict[str, Any]]) -> pa.Table:
    """A few written households as the table the generator would give (`__id` = position)."""
    columns = {"__id": pa.array(range(len(rows)), type=pa.int64())}
    for declaration in ruleset.program.data:
        columns[declaration.name] = pa.array([row.get(declaration.name) for row in rows],
                                             type=ARROW_TYPES[declaration.type.kind])
    return pa.table(columns)


def ordered(ruleset: RuleSet, day: datetime.date, dialect: str) -> str:
    query = to_sql(ruleset, dialect=dialect, date=day, keep=("__id",), pretty=False).rstrip(";")
    return f'SELECT * FROM ({query}) AS r ORDER BY "__id"'


def run_duckdb(ruleset: RuleSet, table: pa.Table, day: datetime.date) -> pa.Table:
    import duckdb

    con = duckdb.connect()
    try:
        con.register("foyers_arrow", table)
        con.execute("CREATE TABLE menages AS SELECT * FROM foyers_arrow")
        result = con.sql(ordered(ruleset, day, "duckdb"))
        fetch = getattr(result, "to_arrow_table", None) or result.arrow  # DuckDB ≥ 1.4, or older
        rows: pa.Table = fetch()
        return rows
    finally:
        con.close()


def run_postgres(dsn: str, ruleset: RuleSet, table: pa.Table, day: datetime.date) -> pa.Table:
    import psycopg

    columns = ", ".join(f'"{field.name}" {POSTGRES_TYPES[str(field.type)]}' for field in table.schema)
    data = io.BytesIO()
    pa_csv.write_csv(table, data, pa_csv.WriteOptions(include_header=False))
    with psycopg.connect(dsn, autocommit=True) as con, con.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS menages")
        cursor.execute(f"CREATE TABLE menages ({columns})")  # type: ignore[arg-type]
        with cursor.copy("COPY menages FROM STDIN (FORMAT csv)") as copy:
            copy.write(data.getvalue())
        out = io.BytesIO()
        with cursor.copy(f"COPY ({ordered(ruleset, day, 'postgres')}) TO STDOUT (FORMAT csv, HEADER true)"
                         ) as copy:  # type: ignore[arg-type]
            for block in copy:
                out.write(block)
    return _read_csv(ruleset, out.getvalue())


def _read_csv(ruleset: RuleSet, data: bytes) -> pa.Table:
    """PostgreSQL's CSV: NULL is an empty unquoted field, an empty text is `""`, booleans `t`/`f`."""
    kinds = {name: ruleset.symbols.outputs[name].type.kind for name in ruleset.output_names}
    types = {name: ARROW_TYPES[kind] if kind in (n.Kind.BOOLEEN, n.Kind.DATE) else pa.string()
             for name, kind in kinds.items()}
    options = pa_csv.ConvertOptions(column_types={"__id": pa.int64(), **types, STATUS: pa.string()},
                                    include_columns=["__id", *kinds, STATUS], true_values=["t"], false_values=["f"],
                                    strings_can_be_null=True, quoted_strings_can_be_null=False)
    read = pa_csv.read_csv(io.BytesIO(data), convert_options=options)
    for name, kind in kinds.items():  # a decimal's text, read exactly (CSV reads no decimal256)
        read = read.set_column(read.schema.get_field_index(name), name, comparable(read.column(name), kind))
    return read
