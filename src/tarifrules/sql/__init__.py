"""SQL compilation: a rule file as one query over a table of households (docs/sql.md).

* `compile_query(ruleset, dialect=…, table=…, date=…)` — the sqlglot tree;
* `to_sql(…)` — the same, as text in `duckdb`, `postgres`, `spark` or `trino`;
* `run_sql(ruleset, table_or_file, engine=…, dsn=…)` — runs it on DuckDB or PostgreSQL;
* `status_diagnostic(statut)` — a row's `erreur …` status as a `Diagnostic`.
"""

from __future__ import annotations

from .query import DIALECTS, STATUS, Query, build_query, compile_query, to_sql
from .run import SqlRows, run_sql
from .status import status_diagnostic

__all__ = ["DIALECTS", "STATUS", "Query", "SqlRows", "build_query", "compile_query", "run_sql", "status_diagnostic",
           "to_sql"]
