"""Running the query: DuckDB embedded, or a PostgreSQL server through psycopg.

`run_sql` is what a `batch --moteur duckdb|postgres` option calls: it takes a table name
(or, on DuckDB, a Parquet/CSV file) and returns the rows with their column names. psycopg
is imported only when PostgreSQL is asked for (it is a dev/optional dependency).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp

from ..diagnostics import TarifError, error
from ..ruleset import RuleSet
from .query import to_sql

ENGINES = ("duckdb", "postgres")
_READERS = {".parquet": "read_parquet", ".csv": "read_csv_auto", ".json": "read_json_auto"}


@dataclass(frozen=True)
class SqlRows:
    """What the query returned: column names (données, outputs, `statut`) and rows."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def run_sql(ruleset: RuleSet, table_or_file: str | Path, engine: str = "duckdb", dsn: str | None = None, *,
            date: datetime.date | str | None = None, keep: tuple[str, ...] = (), connection: Any = None) -> SqlRows:
    """Compute every output for each row of a table (or, on DuckDB, of a Parquet/CSV/JSON file).

    `engine` is `duckdb` (embedded; `dsn` is an optional database file) or `postgres`
    (`dsn` is a libpq connection string). An open `connection` of that engine may be
    given instead of `dsn`; `keep` names columns copied as they are (an identifier).
    Raises `TarifError` (Q007, Q008) when the engine cannot run it.
    """
    if engine not in ENGINES:
        raise TarifError([error("Q001", f"moteur SQL inconnu : « {engine} »",
                                hint="moteurs possibles : " + ", ".join(ENGINES))])
    source = str(table_or_file)
    if engine == "duckdb":
        return _run_duckdb(ruleset, source, dsn, date, keep, connection)
    return _run_postgres(ruleset, source, dsn, date, keep, connection)


def _run_duckdb(ruleset: RuleSet, source: str, dsn: str | None, date: datetime.date | str | None,
                keep: tuple[str, ...], connection: Any) -> SqlRows:
    import duckdb

    reader = _READERS.get(Path(source).suffix.lower())
    table: str | exp.Expr = source
    if reader is not None:
        if not Path(source).is_file():
            raise TarifError([error("Q008", f"fichier de foyers introuvable : {source}",
                                    hint="donnez un fichier Parquet, CSV ou JSON existant, ou une table")])
        table = exp.Table(this=exp.Anonymous(this=reader, expressions=[exp.Literal.string(source)]))
    query = to_sql(ruleset, dialect="duckdb", table=table, date=date, keep=keep, pretty=False)
    con = connection if connection is not None else duckdb.connect(dsn or ":memory:")
    try:
        try:
            cursor = con.execute(query)
        except duckdb.Error as exc:
            raise _engine_error("DuckDB", exc) from None
        return SqlRows(tuple(d[0] for d in cursor.description), cursor.fetchall())
    finally:
        if connection is None:
            con.close()


def _run_postgres(ruleset: RuleSet, table: str, dsn: str | None, date: datetime.date | str | None,
                  keep: tuple[str, ...], connection: Any) -> SqlRows:
    try:
        import psycopg
    except ImportError:
        raise TarifError([error("Q007", "PostgreSQL demandé mais le pilote psycopg n'est pas installé",
                                hint='pip install "psycopg[binary]"')]) from None
    query = to_sql(ruleset, dialect="postgres", table=table, date=date, keep=keep, pretty=False)
    try:
        con = connection if connection is not None else psycopg.connect(dsn or "")
    except psycopg.Error as exc:
        raise _engine_error("PostgreSQL", exc) from None
    try:
        with con.cursor() as cursor:
            cursor.execute(query)
            columns = tuple(d.name for d in cursor.description or ())
            return SqlRows(columns, list(cursor.fetchall()))
    except psycopg.Error as exc:
        raise _engine_error("PostgreSQL", exc) from None
    finally:
        if connection is None:
            con.close()


def _engine_error(engine: str, exc: Exception) -> TarifError:
    """The engine's own words (in English) go to the hint, after what to check."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return TarifError([error("Q007", f"le moteur {engine} n'a pas pu exécuter la requête",
                             hint="vérifiez la connexion, le nom de la table et les types de ses colonnes "
                                  f"(docs/sql.md) ; message du moteur : {first}")])


__all__ = ["ENGINES", "SqlRows", "run_sql"]
