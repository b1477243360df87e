"""Smoke tests of benchmarks/sql_bench.py (it runs, and the query agrees with the evaluator) and of
benchmarks/spark_bench.py without pyspark.

Timings are never asserted: they live in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import subprocess
import sys

from .helpers import ROOT


def test_sql_bench_runs_without_mismatch() -> None:
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sql_bench.py"), "--rows", "30000", "--repeats", "1",
                        "--no-write"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "| cantine | 30 000 |" in p.stdout
    assert "mismatches 0" in p.stdout


def test_spark_bench_without_pyspark_says_so_and_writes_nothing() -> None:
    """`python -S`: no site-packages, so no pyspark; the bench explains and exits 0."""
    results = ROOT / "benchmarks" / "RESULTS-spark.md"
    before = results.read_bytes() if results.exists() else None
    p = subprocess.run([sys.executable, "-S", str(ROOT / "benchmarks" / "spark_bench.py"), "--rows", "10"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "pyspark n'est pas installé" in p.stdout and "rien n'est écrit" in p.stdout
    assert (results.read_bytes() if results.exists() else None) == before
