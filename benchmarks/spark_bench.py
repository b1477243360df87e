#!/usr/bin/env python
"""The Spark-dialect query in Spark local mode: zero differences with the evaluator, and throughput.

    python benchmarks/spark_bench.py                          # 1 000 000 foyers par exemple, écrit RESULTS-spark.md
    python benchmarks/spark_bench.py --rows 5000 --no-write FICHIER.tarif…   # essai éclair (celui du test)

Optional: needs `pyspark` (pip install pyspark) and Java 17 or later; without them it says so
in French and exits 0 without writing anything. For each rule file (default: every
examples/deliberations/*.tarif), households are drawn by the test generator
(tests/sql_households.py: grid bounds ± one step, half cents, 12 % unknown, refused values),
written to Parquet, read by Spark as the table `menages` and computed by the query of
`tarifrules sql --dialect spark`, with the settings docs/sql.md asks for
(spark.sql.ansi.enabled=true, spark.sql.decimalOperations.allowPrecisionLoss=false).
Every row is compared with `RuleSet.evaluate_table` (tests/sql_reference.py: every output
and `statut`); the differences are listed and the exit status is 1 if there is any.
Throughput: the query over the Parquet file written to Spark's `noop` sink (every column of
every row computed, nothing collected), timed with `time.perf_counter`, median of the repeats.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS-spark.md"
EXAMPLES = ROOT / "examples" / "deliberations"
SETTINGS = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
}
MISSING = ("pyspark n'est pas installé (pip install pyspark ; il faut aussi Java 17 ou plus récent) : "
           "banc Spark non lancé, rien n'est écrit.")
NO_JAVA = ("Java est introuvable (ni JAVA_HOME ni « java » dans le PATH ; paquet Debian "
           "openjdk-17-jre-headless) : banc Spark non lancé, rien n'est écrit.")


def unavailable() -> str | None:
    """Why the benchmark cannot run here (French), or None."""
    if importlib.util.find_spec("pyspark") is None:
        return MISSING
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        return NO_JAVA
    return None


def session(master: str) -> Any:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("tarifrules-spark-bench")
    settings = {**SETTINGS, "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.log.level": "ERROR"}
    if master.startswith("local"):  # everything on the loopback interface
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        settings |= {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def to_arrow(frame: Any) -> Any:
    import pyarrow as pa

    if hasattr(frame, "toArrow"):  # Spark ≥ 4.0
        return frame.toArrow()
    return pa.Table.from_pandas(frame.toPandas(), preserve_index=False)  # pragma: no cover - Spark 3


def check_file(spark: Any, path: Path, rows: int, repeats: int, folder: Path) -> dict[str, Any]:
    """One rule file: households to Parquet, the query compared row by row, then timed `repeats` times."""
    import pyarrow.parquet as pq

    import tarifrules
    from tarifrules.sql import to_sql
    from tests.sql_households import household_table
    from tests.sql_reference import differences_in_bulk, expected, mismatched_rows
    from tests.sql_support import evaluation_day

    ruleset = tarifrules.load(path)
    day = evaluation_day(ruleset)
    table = household_table(ruleset, rows)
    parquet = folder / f"{path.stem}.parquet"
    pq.write_table(table, parquet, row_group_size=100_000)
    spark.read.parquet(str(parquet)).createOrReplaceTempView("menages")
    query = to_sql(ruleset, dialect="spark", date=day, keep=("__id",), pretty=False).rstrip(";")
    got = to_arrow(spark.sql(f"SELECT * FROM ({query}) AS r ORDER BY `__id`"))
    wanted = expected(ruleset, table, day)
    mismatched = mismatched_rows(wanted, got)
    differing = len(set().union(*(rows.tolist() for rows in mismatched.values())))
    found = differences_in_bulk(wanted, got) if mismatched else []
    if repeats:  # warm-up: Spark generates and compiles its code
        spark.sql(query).write.format("noop").mode("overwrite").save()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        spark.sql(query).write.format("noop").mode("overwrite").save()
        times.append(time.perf_counter() - start)
    return {"file": path.stem, "rows": rows, "differing": differing, "differences": found, "times": times}


def spaced(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def markdown(results: list[dict[str, Any]], spark: Any, command: str) -> str:
    java = spark.sparkContext._jvm.System.getProperty("java.version")
    lines = [
        "# La requête SQL sur Spark (mode local)",
        "",
        f"Écrit par `benchmarks/spark_bench.py` le {datetime.datetime.now():%d/%m/%Y à %H:%M}, commande : `{command}`.",
        "",
        f"Machine : {os.cpu_count()} cœurs logiques, {platform.processor() or platform.machine()}, "
        f"{platform.system()} {platform.release()} ; Python {platform.python_version()}, Spark {spark.version} "
        f"(`{spark.sparkContext.master}`, parallélisme {spark.sparkContext.defaultParallelism}), Java {java}.",
        "",
        "Pour chaque fichier, des foyers tirés par le générateur des tests (`tests/sql_households.py` : bornes des "
        "grilles ± un pas, demi-centimes, 12 % de données inconnues, valeurs refusées) sont écrits en Parquet, lus "
        "par Spark comme la table `menages` et calculés par la requête de `tarifrules sql --dialect spark`, avec "
        + ", ".join(f"`{k}={v}`" for k, v in SETTINGS.items())
        + " (voir [docs/sql.md](../docs/sql.md#sur-le-cluster-spark-dun-département)). **Lignes différentes** : "
        "lignes dont un résultat ou le `statut` diffère de `RuleSet.evaluate_table` (toutes les lignes sont "
        "comparées). **Foyers/s** : la requête sur le fichier Parquet, écrite dans le puits `noop` de Spark (chaque "
        "colonne de chaque ligne calculée, rien de rapatrié), temps mural médian, après une exécution de mise en "
        "route ; Spark calcule ses décimaux en objets, si bien que les fichiers aux nombreux calculs (taux "
        "d'effort, quotients gardés à 20 décimales) sont bien plus lents que les cantines à tarifs fixes.",
        "",
        "| fichier | foyers | lignes différentes | foyers/s (médiane) | temps médian (s) | répétitions |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        median = statistics.median(r["times"])
        lines.append(f"| {r['file']} | {spaced(r['rows'])} | {r['differing']} | {spaced(r['rows'] / median)} "
                     f"| {median:.2f} | {len(r['times'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="fichiers .tarif (défaut : les exemples)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="foyers par fichier")
    parser.add_argument("--repeats", type=int, default=3, help="répétitions chronométrées (médiane)")
    parser.add_argument("--master", default="local[*]", help="maître Spark (défaut : local[*])")
    parser.add_argument("--no-write", action="store_true", help="n'écrit pas benchmarks/RESULTS-spark.md")
    args = parser.parse_args(argv)
    reason = unavailable()
    if reason is not None:
        print(reason)
        return 0
    sys.path.insert(0, str(ROOT))  # the generator and the reference of the tests
    files = args.files or sorted(EXAMPLES.glob("*.tarif"))
    spark = session(args.master)
    try:
        results = []
        with tempfile.TemporaryDirectory(prefix="tarifrules-spark-") as folder:
            for path in files:
                result = check_file(spark, path, args.rows, args.repeats, Path(folder))
                results.append(result)
                median = statistics.median(result["times"])
                print(f"{result['file']:32} {result['rows']:>10,} foyers  {result['rows'] / median:>12,.0f} foyers/s  "
                      f"lignes différentes {result['differing']}", flush=True)
                for line in result["differences"][:25]:
                    print("    " + line)
        command = "python benchmarks/spark_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
        section = markdown(results, spark, command.strip())
    finally:
        spark.stop()
    print(section)
    if not args.no_write:
        RESULTS.write_text(section, encoding="utf-8")
    return 1 if any(r["differing"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
