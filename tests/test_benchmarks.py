"""Smoke test of benchmarks/bench.py: it runs to the end and every engine agrees with tarifrules.

Only correctness is asserted (0 mismatches); timings are never asserted — they live in
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_quick_runs_without_mismatch(tmp_path: Path) -> None:
    raw = tmp_path / "bench.json"
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--households", "200",
         "--no-write", "--json", str(raw)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    data = json.loads(raw.read_text(encoding="utf-8"))
    assert data["households"] == 200
    measured = [r for r in data["throughput"] if not r["skipped"]]
    assert {(r["engine"], r["workload"]) for r in measured} >= {
        ("tarifrules", "cantine"), ("tarifrules", "taux_effort"),
        ("plain-python", "cantine"), ("python-decimal", "taux_effort"),
        ("tarifrules + .explain()", "cantine"),
        ("tarifrules function()", "cantine"), ("tarifrules function()", "taux_effort"),
        ("tarifrules interpret", "cantine"),
    }
    assert all(r["times_s"] for r in measured)
    assert [(r["engine"], r["workload"], r["examples"]) for r in measured if r["mismatches"]] == []
    assert len(data["loads"]) >= 2
    assert "| tarifrules | cantine |" in p.stdout


def test_fetch_bench_smoke_has_no_429_and_no_wrong_tariff() -> None:
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fetch_bench.py"), "--households", "60", "--rate", "400",
         "--no-write"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "| HTTP 429 answered | 0 (target 0) |" in p.stdout
    assert "| tariffs differing from the household's true data (all of it) | 0 (target 0) |" in p.stdout
