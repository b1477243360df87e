"""The Spark-dialect query run by Spark itself, in local mode (optional: needs pyspark and Java).

Skipped unless `pyspark` is importable and Java is installed (pyspark is not a dependency of
tarifrules; `pip install pyspark`, Debian package openjdk-17-jre-headless). One small example
and the rounding ties are computed on generated households by `benchmarks/spark_bench.py`'s
check and compared row by row with the evaluator; and the query is shown to stop, naming the
setting, when Spark would round decimals (`allowPrecisionLoss=true`, Spark's default).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import tarifrules
from tarifrules.sql import to_sql
from tarifrules.sql.query import SPARK_PRECISION_LOSS

from .helpers import EXAMPLES, benchmark_script
from .sql_support import TIES

pytest.importorskip("pyspark", reason="pyspark absent : le contrôle sur Spark est facultatif "
                                      "(pip install pyspark, et Java 17 ou plus récent)")
if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
    pytest.skip("Java absent : pyspark a besoin de Java 17 ou plus récent (paquet openjdk-17-jre-headless)",
                allow_module_level=True)

ROWS = 5_000


def bench_module() -> ModuleType:
    return benchmark_script("spark_bench")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return bench_module()


@pytest.fixture(scope="module")
def spark(bench: ModuleType) -> Iterator[Any]:
    session = bench.session("local[2]")
    try:
        yield session
    finally:
        session.stop()


@pytest.mark.parametrize("name", ["restauration-scolaire", "arrondis"])
def test_spark_gives_the_evaluator_results(name: str, bench: ModuleType, spark: Any, tmp_path: Path) -> None:
    path = EXAMPLES / f"{name}.tarif"
    if name == "arrondis":
        path = tmp_path / "arrondis.tarif"
        path.write_text(TIES, encoding="utf-8")
    result = bench.check_file(spark, path, ROWS, 0, tmp_path)  # compared, not timed
    assert result["differing"] == 0, "\n".join(result["differences"][:40])
    assert result["rows"] == ROWS


def test_spark_stops_rather_than_round_decimals(spark: Any) -> None:
    ruleset = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    spark.sql("SELECT 650 AS quotient_familial, true AS demandeur_emploi").createOrReplaceTempView("menages")
    query = to_sql(ruleset, dialect="spark", date=ruleset.valid_from).rstrip(";")
    assert spark.sql(query).collect()[0]["tarif_repas"] is not None  # exact decimals: the query runs
    spark.conf.set(SPARK_PRECISION_LOSS, "true")
    try:
        with pytest.raises(Exception, match=f"{SPARK_PRECISION_LOSS}=false"):
            spark.sql(query).collect()
    finally:
        spark.conf.set(SPARK_PRECISION_LOSS, "false")
