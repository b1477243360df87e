"""Smoke test of benchmarks/sql_bench.py: it runs, and the query agrees with the evaluator.

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
