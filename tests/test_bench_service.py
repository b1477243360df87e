"""Smoke test of benchmarks/bench_service.py: it runs to the end, the service answers exactly
what the Python API computes, and no request gets a 5xx. Timings are never asserted: they
live in benchmarks/RESULTS-service.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .helpers import ROOT, benchmark_script


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
    assert "other_cores" in row and "socket_errors" in row
    assert "objectif atteint dans " in run.stdout and " scénario(s) sur 1" in run.stdout


def _bench() -> Any:
    return benchmark_script("bench_service")


def _row(processes: int, connections: int, rps: float, p99: float, errors: int = 0, server: int = 0) -> dict[str, Any]:
    return {"processes": processes, "connections": connections, "requests": int(rps * 10), "rps": rps,
            "p50_ms": p99 / 3, "p90_ms": p99 / 2, "p99_ms": p99, "non_2xx": server, "server_errors": server,
            "socket_errors": errors, "load_before": 0.1, "other_cores": 0.02}


def test_the_summary_says_which_scenarios_meet_the_target_and_why_the_others_do_not() -> None:
    bench = _bench()
    rows = [_row(1, 8, 3500, 6.3), _row(2, 128, 4000, 213.8), _row(1, 2, 600, 7.0), _row(2, 4, 3000, 3.0, errors=2),
            _row(2, 8, 900, 25.0, server=1), _row(2, 16, 1000, 19.9)]
    assert bench.summary(rows) == (
        "objectif atteint dans 2 scénario(s) sur 6 : 1×8, 2×16 ; non atteint : 2×128 (p99 213.8 ms) ; "
        "1×2 (600 requêtes/s) ; 2×4 (2 erreur(s) de connexion) ; 2×8 (900 requêtes/s, p99 25.0 ms, 1 5xx)")
    table = bench.report(rows, "wrk", 10, 0, "python benchmarks/bench_service.py")
    assert f"- **{bench.summary(rows)}**" in table
    assert "| 2 | 128 | 40000 | 4000 | 71.3 | 106.9 | 213.8 | 0 | 0 | 0 | 0.1 | 0.02 | non atteint |" in table
