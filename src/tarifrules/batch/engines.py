"""`tarifrules batch --moteur duckdb|postgres`: the same population computed by the SQL that
`tarifrules sql` writes, in an SQL engine instead of NumPy (issue 7 item 2).

DuckDB (embedded) reads the Parquet or CSV file itself and hands the result back as an
Arrow table, written like the NumPy path's; PostgreSQL computes a table of its database
(ENTREE is then the table's name, `--dsn` the libpq connection string). The summary is
computed on the result: rows, undetermined rows by status, and the distribution of each
output's values.
"""

from __future__ import annotations

import collections
import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import nodes as n
from ..values import spell
from .files import FileProblem
from .run import check_columns, data_columns

if TYPE_CHECKING:
    from ..ruleset import RuleSet

ENGINES = ("numpy", "duckdb", "postgres")
LARGE_ROWS = 20_000_000  # above, DuckDB streams the file instead of holding every column in memory
LARGE_CSV_BYTES = 1 << 30


def choose_engine(population: str) -> str:
    """`--moteur auto`: NumPy (in memory, fastest up to tens of millions of rows) unless the
    file is large — a Parquet file of more than 20 M rows or a CSV file over 1 GiB — where
    DuckDB streams it. A file that cannot be inspected goes to NumPy, which reports why."""
    path = Path(population)
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return "duckdb" if pq.ParquetFile(path).metadata.num_rows > LARGE_ROWS else "numpy"
        if path.suffix.lower() == ".csv":
            return "duckdb" if path.stat().st_size > LARGE_CSV_BYTES else "numpy"
    except (OSError, ValueError):
        return "numpy"
    return "numpy"
_READERS = {".parquet": "read_parquet", ".csv": "read_csv_auto"}


def run_on_engine(ruleset: RuleSet, population: str, engine: str, dsn: str | None, date: datetime.date) -> Any:
    """The output table (Arrow): the input's columns, one column per output, `statut`."""
    import pyarrow as pa

    from ..sql import run_sql
    from ..sql.query import to_sql

    if engine == "duckdb":
        import duckdb
        from sqlglot import exp

        reader = _READERS.get(Path(population).suffix.lower())
        if reader is None or not Path(population).is_file():
            raise FileProblem(f"fichier introuvable ou d'un format non reconnu : {population}",
                              "avec --moteur duckdb, ENTREE est un fichier .parquet ou .csv")
        source: exp.Expr = exp.Table(this=exp.Anonymous(this=reader, expressions=[exp.Literal.string(population)]))
        con = duckdb.connect()
        try:
            columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source.sql('duckdb')}").fetchall()]
            check_columns(ruleset, columns)  # (as the NumPy path: nothing overwritten, no datum silently absent)
            data_columns(ruleset, columns, {})
            keep = tuple(c for c in columns if c not in ruleset.data_names)
            absent = [name for name in ruleset.data_names if name not in columns]
            if absent:  # a datum with no column is unknown for every row, as in the NumPy path
                select = exp.select("*", *(exp.alias_(exp.Null(), name, quoted=True) for name in absent))
                source = select.from_(source).subquery("foyers")
            query = to_sql(ruleset, dialect="duckdb", table=source, date=date, keep=keep, pretty=False)
            return con.sql(query.rstrip(";")).to_arrow_table()
        except duckdb.Error as exc:
            raise FileProblem("DuckDB n'a pas pu calculer cette population",
                              f"vérifiez les noms et les types des colonnes (docs/sql.md) ; message du moteur : "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        finally:
            con.close()
    rows = run_sql(ruleset, population, "postgres", dsn, date=date)
    return pa.table({name: [row[i] for row in rows.rows] for i, name in enumerate(rows.columns)})


def engine_summary(ruleset: RuleSet, table: Any) -> list[str]:
    """The French summary of a table computed by an SQL engine."""
    size = table.num_rows
    lines = [f"{size} foyer(s) calculé(s) par le moteur SQL"]
    statuses = collections.Counter(value for value in table.column("statut").to_pylist() if value)
    undetermined = sum(statuses.values())
    lines.append(f"Foyers sans résultat complet : {undetermined}")
    for status, number in statuses.most_common(10):
        lines.append(f"  {status} : {number}")
    for declaration in ruleset.program.outputs:
        values = collections.Counter(table.column(declaration.name).to_pylist())
        lines.append(f"Répartition de {declaration.name} :")
        unit = n.UNIT_OF_KIND.get(declaration.type.kind)
        for value, number in sorted(values.items(), key=lambda item: (item[0] is None, item[0])):
            shown = "indéterminé" if value is None else spell(value, unit)
            lines.append(f"  {shown} : {number} foyer(s)")
    return lines
