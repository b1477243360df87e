#!/usr/bin/env python
"""Throughput of the generated SQL on DuckDB (`tarifrules sql`), 1 M and 10 M generated rows.

    python benchmarks/sql_bench.py                 # 1 M and 10 M rows, writes benchmarks/RESULTS.md
    python benchmarks/sql_bench.py --rows 100000 --no-write      # smoke

Households are generated inside DuckDB (deterministic `setseed`): QF uniform 0..3000 with
5 % unknown, 10 % job seekers, as the peer benchmark. Timed (`time.perf_counter`, wall):
the query of `tarifrules sql --dialect duckdb` over the table, its results aggregated
(`SUM` of every output, `COUNT` of `statut`) so that every row is computed and nothing is
transferred to Python; DuckDB uses all the machine's cores. Before timing, 20 000 rows
are compared one by one with `RuleSet.evaluate` (mismatches reported, exit status 1 if
any). The results go into RESULTS.md between the `sql_bench` markers (kept by bench.py
and run_peerbench.py).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN = "<!-- keep: sql_bench (written by benchmarks/sql_bench.py) -->"
END = "<!-- /keep: sql_bench -->"
PEERBENCH_MARKER = "<!-- peerbench: everything below is written by run_peerbench.py and kept by bench.py -->"
DAY = datetime.date(2025, 9, 1)
WORKLOADS = {
    "cantine": ("restauration-scolaire.tarif", "tarif_repas"),
    "taux_effort": ("accueil-loisirs-taux-effort.tarif", "tarif_journee"),
}
CHECKED = 20_000


def make_table(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    con.execute("SELECT setseed(0.20250101)")
    con.execute(f"""CREATE OR REPLACE TABLE menages AS
        SELECT CAST(i AS BIGINT) AS id,
               CASE WHEN random() < 0.05 THEN NULL ELSE CAST(floor(random() * 3001) AS INTEGER) END
                 AS quotient_familial,
               random() < 0.10 AS demandeur_emploi
        FROM range({rows}) t(i)""")


def check(con: duckdb.DuckDBPyConnection, ruleset: Any, query: str, output: str) -> int:
    """Rows whose SQL result differs from `RuleSet.evaluate` (compared exactly)."""
    cursor = con.execute(f"SELECT * FROM ({query.rstrip(';')}) LIMIT {CHECKED}")
    names = [d[0] for d in cursor.description]
    bad = 0
    for row in cursor.fetchall():
        values = dict(zip(names, row, strict=True))
        situation = {k: values[k] for k in ruleset.data_names if values[k] is not None}
        expected = ruleset.evaluate(situation, date=DAY).outputs[output].value
        got = values[output]
        if not (expected is None and got is None) and (got is None or Decimal(got) != expected):
            bad += 1
    return bad


def measure(con: duckdb.DuckDBPyConnection, query: str, outputs: list[str], repeats: int) -> list[float]:
    sums = ", ".join(f'SUM("{name}")' for name in outputs)
    timed = f"SELECT COUNT(*), {sums}, COUNT(statut) FROM ({query.rstrip(';')}) q"
    con.execute(timed).fetchall()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        con.execute(timed).fetchall()
        times.append(time.perf_counter() - start)
    return times


def run(sizes: list[int], repeats: int) -> tuple[list[dict[str, Any]], int]:
    import tarifrules
    from tarifrules.sql import to_sql

    con = duckdb.connect()
    results: list[dict[str, Any]] = []
    mismatches = 0
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    for size in sizes:
        make_table(con, size)
        for workload, (file, output) in WORKLOADS.items():
            ruleset = tarifrules.load(ROOT / "examples" / "deliberations" / file)
            query = to_sql(ruleset, dialect="duckdb", date=DAY, keep=("id",), pretty=False)
            bad = check(con, ruleset, query, output)
            mismatches += bad
            times = measure(con, query, list(ruleset.output_names), repeats)
            median = statistics.median(times)
            results.append({"workload": workload, "rows": size, "median_s": median, "best_s": min(times),
                            "rows_per_s": size / median, "best_rows_per_s": size / min(times),
                            "mismatches": bad, "repeats": repeats})
            print(f"{workload:12} {size:>12,} rows  {size / median:>14,.0f} rows/s (median)  "
                  f"{size / min(times):>14,.0f} (best)  mismatches {bad}", flush=True)
    threads = con.execute("SELECT current_setting('threads')").fetchone()
    results.append({"threads": threads[0] if threads else None})
    if load_start is not None:
        results.append({"load": (load_start, os.getloadavg()[0])})
    return results, mismatches


def spaced(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def markdown(results: list[dict[str, Any]]) -> str:
    threads = next(r["threads"] for r in results if "threads" in r)
    load = next((r["load"] for r in results if "load" in r), None)
    lines = [
        BEGIN,
        "## SQL on DuckDB (`tarifrules sql`)",
        "",
        f"Generated {datetime.datetime.now():%Y-%m-%d %H:%M} by `python benchmarks/sql_bench.py`: the query of "
        f"`tarifrules sql --dialect duckdb` over a table of generated households (QF uniform 0..3000, 5 % unknown, "
        f"10 % job seekers), evaluated at {DAY:%d/%m/%Y}, results aggregated inside DuckDB (every output summed, "
        f"`statut` counted). DuckDB {duckdb.__version__}, {threads} threads, {os.cpu_count()} logical CPUs, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}. Before timing, "
        f"{spaced(CHECKED)} rows of each run are compared with `RuleSet.evaluate`: *mismatches* counts differences. "
        "Target of the SQL issue: ≥ 10 M rows/s for the cantine."
        + (f" Load average (1 min) {load[0]:.2f} at start, {load[1]:.2f} at the end: the machine is shared, "
           "wall-time rates are pessimistic when it exceeds the number of CPUs." if load else ""),
        "",
        "| workload | rows | rows/s (median) | rows/s (best) | median time (s) | mismatches | reps |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "workload" in r:
            lines.append(f"| {r['workload']} | {spaced(r['rows'])} | {spaced(r['rows_per_s'])} | "
                         f"{spaced(r['best_rows_per_s'])} | {r['median_s']:.3f} | {r['mismatches']} | {r['repeats']} |")
    lines += ["", END]
    return "\n".join(lines)


def write(section: str, path: Path) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks of tarifrules\n\n"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    elif PEERBENCH_MARKER in text:
        at = text.index(PEERBENCH_MARKER)
        text = text[:at] + section + "\n\n" + text[at:]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="table size (repeatable; default 1 M and 10 M)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions per size (median reported)")
    parser.add_argument("--no-write", action="store_true", help="do not write benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    results, mismatches = run(args.rows or [1_000_000, 10_000_000], args.repeats)
    section = markdown(results)
    print(section)
    if not args.no_write:
        write(section, RESULTS)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
