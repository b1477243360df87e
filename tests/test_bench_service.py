"""Smoke test of benchmarks/bench_service.py: it runs to the end, the service answers exactly
what the Python API computes, and no request gets a 5xx. Timings are never asserted: they
live in benchmarks/RESULTS-service.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_service_runs_without_mismatch_nor_5xx(tmp_path: Path) -> None:
    raw = tmp_path / "service.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_service.py"), "--duration", "1", "--scenarios", "1x2",
         "--tool", "httpx", "--no-write", "--json", str(raw)],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    data = json.loads(raw.read_text(encoding="utf-8"))
    assert data["mismatches"] == 0
    [row] = data["rows"]
    assert row["requests"] > 0 and row["non_2xx"] == 0 and row["server_errors"] == 0
