"""Columnar benchmarks, run by bench.py: `RuleSet.evaluate_table` and `tarifrules batch` on a Parquet file.

Households are drawn with NumPy (seed 3, as the D2 contract check): QF uniform 0..3000,
5 % unknown, 10 % job seekers. Each engine's prices are compared exactly (integer cents)
with a hand-written NumPy pass, itself checked on a sample against hand-written `Decimal`
Python; the hand-written NumPy pass is also the baseline of the ratios.
"""

from __future__ import annotations

import datetime
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "deliberations"
DAY = datetime.date(2025, 9, 1)
FILES = {"cantine": ("restauration-scolaire.tarif", "tarif_repas"),
         "taux_effort": ("accueil-loisirs-taux-effort.tarif", "tarif_journee")}
CEILINGS = np.array([400, 700, 1000, 1300, 1700])
CENTS = np.array([100, 210, 320, 410, 480, 540])


@dataclass
class TableResult:
    what: str
    workload: str
    rows: int
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)  # the hand-written NumPy pass, same run
    mismatches: int = 0
    note: str = ""


def population(n: int) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(3)
    qf = rng.integers(0, 3001, n)
    known = rng.random(n) >= 0.05
    job = rng.random(n) < 0.10
    return qf, known, job


def numpy_cents(workload: str, qf: Any, known: Any, job: Any) -> Any:
    """The hand-written NumPy pass: integer cents, exact."""
    if workload == "cantine":
        base = CENTS[np.searchsorted(CEILINGS, qf, side="right")]
        return np.where(known, np.where(job, np.maximum(base // 2, 100), base), 540)
    cents = (qf * 45 + 50) // 100  # QF × 0,45 % in cents, half up
    return np.where(known, np.clip(cents, 80, 650), 650)


def _timed(run: Callable[[], Any], reps: int) -> tuple[list[float], list[float], Any]:
    run()  # warm-up
    times: list[float] = []
    cpu: list[float] = []
    out = None
    for _ in range(reps):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return times, cpu, out


Reference = Callable[[int | None, bool], Decimal]


def _decimal_cantine(qf: int | None, job: bool) -> Decimal:
    if qf is None:
        return Decimal("5.40")
    price = Decimal(int(CENTS[np.searchsorted(CEILINGS, qf, side="right")])) / 100
    return max(price * Decimal("0.5"), Decimal("1.00")) if job else price


def _decimal_taux(qf: int | None, job: bool) -> Decimal:
    from decimal import ROUND_HALF_UP

    if qf is None:
        return Decimal("6.50")
    price = min(max(qf * Decimal("0.0045"), Decimal("0.80")), Decimal("6.50"))
    return price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def bench_evaluate_table(n: int, reps: int, log: Callable[[str], None],
                         references: dict[str, Reference] | None = None) -> list[TableResult]:
    """`references`: hand-written `Decimal` Python per workload (bench.py's), for the sample check."""
    references = references or {"cantine": _decimal_cantine, "taux_effort": _decimal_taux}
    import pyarrow as pa

    import tarifrules

    qf, known, job = population(n)
    table = pa.table({"quotient_familial": pa.array(qf, mask=~known), "demandeur_emploi": job})
    results = []
    for workload, (file, output) in FILES.items():
        ruleset = tarifrules.load(EXAMPLES / file)
        data = table if workload == "cantine" else table.select(["quotient_familial"])
        r = TableResult("evaluate_table", workload, n)
        r.times, r.cpu, out = _timed(lambda rs=ruleset, d=data: rs.evaluate_table(d, date=DAY), reps)
        r.baseline, _, expected = _timed(lambda w=workload: numpy_cents(w, qf, known, job), reps)
        scaled = out.outputs[output].scaled()
        assert scaled is not None
        values, scale = scaled
        got = values * 10 ** (2 - scale) if scale <= 2 else values // 10 ** (scale - 2)
        r.mismatches = int(np.count_nonzero((got != expected) | (out.status != 0)))
        sample = np.random.default_rng(4).choice(n, size=min(n, 20_000), replace=False)
        r.mismatches += sum(
            Decimal(int(expected[i])) / 100 != references[workload](int(qf[i]) if known[i] else None, bool(job[i]))
            for i in sample)
        r.note = "vectorised" if out.vectorised else "row by row (fallback)"
        results.append(r)
        log(f"  evaluate_table {workload:11s} {n / statistics.median(r.times):14,.0f} rows/s "
            f"mismatches={r.mismatches}")
    return results


BATCH_NUMPY = r"""
import sys, time
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
t0 = time.perf_counter()
tab = pq.read_table(sys.argv[1]); q = tab["quotient_familial"].to_numpy(zero_copy_only=False)
ceil = np.array([400, 700, 1000, 1300, 1700]); cents = np.array([100, 210, 320, 410, 480, 540])
base = cents[np.searchsorted(ceil, np.nan_to_num(q), side="right")]
res = np.where(np.isnan(q), 540, np.where(tab["demandeur_emploi"].to_numpy(), np.maximum(base // 2, 100), base))
pq.write_table(pa.table({"tarif_repas": res}), sys.argv[2])
print(time.perf_counter() - t0)
"""


def bench_batch(n: int, reps: int, log: Callable[[str], None], *, cached: bool) -> TableResult:
    """`tarifrules batch` end to end in a fresh process (start, imports, load, read, compute, write, summary);
    `cached`: the rule file was checked by an earlier command (rules cache), else the cache is off."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    qf, known, job = population(n)
    label = "checked rules from the cache" if cached else "rules cache off: checked by a child process"
    r = TableResult(f"tarifrules batch (Parquet → Parquet, new process, {label})", "cantine", n)
    cli = [sys.executable, "-m", "tarifrules.cli"]
    with tempfile.TemporaryDirectory() as folder:
        source, target = os.path.join(folder, "menages.parquet"), os.path.join(folder, "tarifs.parquet")
        pq.write_table(pa.table({"quotient_familial": pa.array(qf, mask=~known), "demandeur_emploi": job}), source)
        command = [*cli, "batch", str(EXAMPLES / FILES["cantine"][0]), source, "-o", target, "--date", "01/09/2025"]
        env = {**os.environ, "TARIFRULES_CACHE": os.path.join(folder, "cache") if cached else "non"}
        if cached:  # an earlier command checked the file (`tarifrules test`, `eval`…)
            subprocess.run([*cli, "test", str(EXAMPLES / FILES["cantine"][0])], capture_output=True, env=env,
                           check=True)
        for _ in range(reps):
            c0, t0 = _children_cpu(), time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env, preexec_fn=_every_core)
            r.times.append(time.perf_counter() - t0)
            r.cpu.append(_children_cpu() - c0)
            if done.returncode != 0:
                r.note = f"exit {done.returncode}: {done.stderr.strip()[-200:]}"
                r.mismatches = n
                return r
            numpy_run = subprocess.run([sys.executable, "-c", BATCH_NUMPY, source, os.path.join(folder, "np.parquet")],
                                       capture_output=True, text=True, check=True, preexec_fn=_every_core)
            r.baseline.append(float(numpy_run.stdout.strip()))
        prices = pq.read_table(target).column("tarif_repas")
        cents = np.array([int(v * 100) if v is not None else -1 for v in prices.to_pylist()])
        r.mismatches = int(np.count_nonzero(cents != numpy_cents("cantine", qf, known, job)))
    r.note = "baseline: the hand-written NumPy pass reads and writes the Parquet files (timed in its process)"
    log(f"  tarifrules batch ({label})  {statistics.median(r.times):.2f} s for {n:,} rows, "
        f"mismatches={r.mismatches}")
    return r


def _every_core() -> None:
    """In the child: every core, as a user's command runs (bench.py pins itself, and so its children, to one)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))


def _count(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ")


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report_lines(results: list[TableResult]) -> list[str]:
    lines = ["## Columnar evaluation (`RuleSet.evaluate_table`) and `tarifrules batch`\n",
             "Households drawn with NumPy (seed 3, as the D2 contract check: QF uniform 0..3000, 5 % unknown, "
             "10 % job seekers), evaluated at 01/09/2025. *× NumPy* compares median wall times with a "
             "hand-written NumPy pass in integer cents over the same columns, in the same run (> 1 = slower). "
             "*CPU* is the median CPU time of a repetition (of the child process for `tarifrules batch`): on a "
             "shared machine (CPU share well under 100 %) wall times are pessimistic, so the rows/s target is "
             "judged on rows per CPU-second, the 5 s target on wall time. "
             "Mismatches: rows whose price (exact cents) differs from that pass or that are not `ok`, plus a "
             "20 000-row sample of the pass checked against hand-written `Decimal` Python. Targets (issue 6): "
             "evaluate_table ≥ 20 M rows/s on both workloads; `tarifrules batch` on a 1 M-row Parquet file "
             "under 5 s end to end; contract check D2 also wants it within 4 × the hand-written NumPy pass. "
             "`tarifrules batch` and its NumPy pass run on every core, as a user starts them.\n",
             "| measure | workload | rows | rows/s (median wall) | rows per CPU-second | median wall (s) | "
             "median CPU (s) | CPU share | hand-written NumPy, wall (s) | × NumPy (wall) | target | mismatches | "
             "reps |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in results:
        wall = statistics.median(r.times)
        base = statistics.median(r.baseline) if r.baseline else float("nan")
        cpu = statistics.median(r.cpu) if r.cpu else float("nan")
        share = f"{sum(r.cpu) / sum(r.times):.0%}" if r.cpu else "–"
        if r.rows < 1_000_000:
            target = "– (1 M rows)"
        elif r.what == "evaluate_table":
            target = "met (≥ 20 M/s)" if r.rows / cpu >= 20e6 else "NOT met (≥ 20 M/s)"
        else:  # the issue's 5 s, and contract check D2's ratio to the hand-written pass
            target = (f"{'met' if wall < 5 else 'NOT met'} (< 5 s); "
                      f"{'met' if wall <= 4 * base else 'NOT met'} (≤ 4 × NumPy, check D2)")
        lines.append(f"| {r.what} | {r.workload} | {_count(r.rows)} | {_count(r.rows / wall)} | "
                     f"{_count(r.rows / cpu) if r.cpu else '–'} | {wall:.3f} | {cpu:.3f} | {share} | {base:.3f} | "
                     f"{wall / base:.1f} | {target} | {r.mismatches} | {len(r.times)} |")
    notes = [f"- {r.what} / {r.workload}: {r.note}" for r in results if r.note]
    return [*lines, "", *notes, ""]
