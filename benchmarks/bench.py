#!/usr/bin/env python
"""Benchmark of tarifrules against hand-written Python and peer rule engines.

    python benchmarks/bench.py            # 100 000 households, writes benchmarks/RESULTS.md
    python benchmarks/bench.py --quick    # 10 000 households, fewer repetitions (CI speed)
    python benchmarks/bench.py --quick --households 200 --no-write --json out.json   # smoke

Everything runs in one process, pinned to one core when the OS allows it
(`os.sched_setaffinity`), timed with `time.perf_counter`; each measurement is repeated and
reported as best and median. Measured:

(a) load + check (`tarifrules.load`) of every `examples/deliberations/*.tarif`: first load of
    the file in this process and warm reloads; plus fresh processes (import, first load
    including the construction of the parser, first evaluation);
(b) throughput of `RuleSet.evaluate` (compiled code, full result object), of the keyword function
    `RuleSet.function(name)` and of the reference interpreter `RuleSet.interpret` on the households
    of the shared peer benchmark (same generator and seed as `../shared/peerbench/dataset.py`: QF uniform 0..3000,
    5 % unknown, 10 % job seekers) for the two reference files;
(c) the same with `.missing` and with `.explain()` on every result (the explanation path);
(d) peers on the same households, in the same process and run: hand-written plain Python
    (floats / integer cents, as peerbench `engine_plain.py`), hand-written `Decimal` Python,
    and, when importable, `rule_engine` and `zen` (zen-engine) with the peer benchmark's
    rules. Peers are never dependencies of tarifrules: a missing one is skipped with a note.

Timed per repetition, for every engine: building its input from the in-memory rows (a
situation dict for tarifrules), evaluating, extracting the price. Every engine's prices are
compared exactly (as decimals) with tarifrules' and the mismatches counted; the exit status
is 1 when there is any mismatch. Numbers are never asserted: they are printed and written to
RESULTS.md (the section below the peerbench marker, written by run_peerbench.py, is kept).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "deliberations"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PEERBENCH_DIR = Path(os.environ.get("PEERBENCH_DIR", ROOT.parent / "shared" / "peerbench"))
PEERBENCH_MARKER = "<!-- peerbench: everything below is written by run_peerbench.py and kept by bench.py -->"

SEED = 20250101  # peerbench dataset.py: the same stream of households
DAY = datetime.date(2025, 9, 1)  # both reference files apply from 01/09/2025
# workload -> (rule file, output, situation keys)
WORKLOADS = {
    "cantine": ("restauration-scolaire.tarif", "tarif_repas"),
    "taux_effort": ("accueil-loisirs-taux-effort.tarif", "tarif_journee"),
}

Row = tuple[int | None, bool]
Runner = Callable[[Sequence[Row]], list[Any]]


class Skip(Exception):
    """A peer that cannot run here (not installed, rules not found)."""


# --- data ------------------------------------------------------------------------------
def households(n: int, seed: int = SEED) -> list[Row]:
    """(qf or None, demandeur_emploi): peerbench dataset.households, same seed and stream."""
    import random

    rng = random.Random(seed)
    rows: list[Row] = []
    for _ in range(n):
        missing = rng.random() < 0.05
        qf = rng.randint(0, 3000)  # drawn even when missing, as in peerbench
        de = rng.random() < 0.10
        rows.append((None if missing else qf, de))
    return rows


# --- engines -----------------------------------------------------------------------------
@dataclass
class Engine:
    name: str
    description: str
    prepare: Callable[[str], Runner]  # workload -> runner; may raise Skip
    version: Callable[[], str]
    reference: bool = False  # tarifrules `evaluate`: the row the others are compared with
    heavy: bool = False  # slow path: fewer repetitions
    workloads: tuple[str, ...] = tuple(WORKLOADS)
    # own correctness check (out, rows) -> (mismatches, examples), instead of "same prices as tarifrules"
    check: Callable[[list[Any], Sequence[Row]], tuple[int, list[str]]] | None = None


def _ruleset(workload: str) -> Any:
    import tarifrules

    return tarifrules.load(EXAMPLES / WORKLOADS[workload][0])


def tarifrules_evaluate(workload: str, *, today: bool = False) -> Runner:
    rs = _ruleset(workload)
    ev, out = rs.evaluate, WORKLOADS[workload][1]
    day = None if today else DAY
    if workload == "cantine":
        return lambda rows: [ev({"quotient_familial": qf, "demandeur_emploi": de}, date=day).outputs[out].value
                             for qf, de in rows]
    return lambda rows: [ev({"quotient_familial": qf}, date=day).outputs[out].value for qf, _ in rows]


def tarifrules_interpret(workload: str) -> Runner:
    """The reference interpreter (`RuleSet.interpret`: closures over the AST, no generated code)."""
    rs = _ruleset(workload)
    it, out = rs.interpret, WORKLOADS[workload][1]
    if workload == "cantine":
        return lambda rows: [it({"quotient_familial": qf, "demandeur_emploi": de}, date=DAY).outputs[out].value
                             for qf, de in rows]
    return lambda rows: [it({"quotient_familial": qf}, date=DAY).outputs[out].value for qf, _ in rows]


def tarifrules_function(workload: str) -> Runner:
    """`RuleSet.function(name, date=…)`: the data as keyword arguments, the value back."""
    f = _ruleset(workload).function(WORKLOADS[workload][1], date=DAY)
    if workload == "cantine":
        return lambda rows: [f(quotient_familial=qf, demandeur_emploi=de) for qf, de in rows]
    return lambda rows: [f(quotient_familial=qf) for qf, _ in rows]


def tarifrules_explaining(workload: str, *, missing: bool, explain: bool) -> Runner:
    rs = _ruleset(workload)
    ev, out = rs.evaluate, WORKLOADS[workload][1]
    cantine = workload == "cantine"

    def run(rows: Sequence[Row]) -> list[Any]:
        prices = []
        for qf, de in rows:
            e = ev({"quotient_familial": qf, "demandeur_emploi": de} if cantine else {"quotient_familial": qf},
                   date=DAY)
            if missing:
                e.missing  # noqa: B018 (computed lazily: this is what is measured)
            if explain:
                e.explain()
            prices.append(e.outputs[out].value)
        return prices

    return run


def tarifrules_unknown_job(workload: str) -> Runner:
    """Cantine with `demandeur_emploi` left out: unknown for QF >= 400, so `.missing` traces."""
    rs = _ruleset(workload)
    ev, out = rs.evaluate, WORKLOADS[workload][1]

    def run(rows: Sequence[Row]) -> list[Any]:
        results = []
        for qf, _ in rows:
            e = ev({"quotient_familial": qf}, date=DAY)
            results.append((e.outputs[out].value, e.missing))
        return results

    return run


def check_unknown_job(out: list[Any], rows: Sequence[Row]) -> tuple[int, list[str]]:
    """A value only when both answers agree (and it is that price), else `missing` = the job datum."""
    bad = 0
    examples: list[str] = []
    for (value, missing), (qf, _) in zip(out, rows, strict=True):
        yes, no = _decimal_cantine(qf, True), _decimal_cantine(qf, False)
        ok = (missing == () and value == yes) if yes == no else (value is None and missing == ("demandeur_emploi",))
        if not ok:
            bad += 1
            if len(examples) < 3:
                examples.append(f"QF={qf}: {value!r} missing={missing!r} (expected {yes} / {no})")
    return bad, examples


# Plain Python, as peerbench engine_plain.py: floats for the grid, integer cents for the rate.
CEILINGS = (400, 700, 1000, 1300, 1700)
PRICES = (1.00, 2.10, 3.20, 4.10, 4.80, 5.40)


def _plain_cantine(qf: int | None, demandeur_emploi: bool) -> float:
    if qf is None:
        return 5.40
    price = PRICES[bisect_right(CEILINGS, qf)]
    return max(price * 0.5, 1.00) if demandeur_emploi else price


def _plain_taux(qf: int | None, demandeur_emploi: bool) -> float:
    if qf is None:
        return 6.50
    cents = (qf * 45 + 50) // 100  # QF x 0.0045 EUR in cents, half up, exact integers
    return min(max(cents, 80), 650) / 100


def plain(workload: str) -> Runner:
    f = _plain_cantine if workload == "cantine" else _plain_taux
    return lambda rows: [f(qf, de) for qf, de in rows]


# Hand-written exact Python: Decimal, as the spec (peerbench dataset.ref_*).
D_PRICES = tuple(Decimal(p) for p in ("1.00", "2.10", "3.20", "4.10", "4.80", "5.40"))
D_HALF, D_FLOOR, D_UNKNOWN_CANTINE = Decimal("0.5"), Decimal("1.00"), Decimal("5.40")
D_TAUX, D_MIN, D_MAX, D_CENT = Decimal("0.0045"), Decimal("0.80"), Decimal("6.50"), Decimal("0.01")


def _decimal_cantine(qf: int | None, demandeur_emploi: bool) -> Decimal:
    if qf is None:
        return D_UNKNOWN_CANTINE
    price = D_PRICES[bisect_right(CEILINGS, qf)]
    return max(price * D_HALF, D_FLOOR) if demandeur_emploi else price


def _decimal_taux(qf: int | None, demandeur_emploi: bool) -> Decimal:
    if qf is None:
        return D_MAX
    return min(max(qf * D_TAUX, D_MIN), D_MAX).quantize(D_CENT, rounding=ROUND_HALF_UP)


def decimal_python(workload: str) -> Runner:
    f = _decimal_cantine if workload == "cantine" else _decimal_taux
    return lambda rows: [f(qf, de) for qf, de in rows]


def _peerbench_module(name: str) -> Any:
    path = PEERBENCH_DIR / f"{name}.py"
    if not path.is_file():
        raise Skip(f"{path} not found (set PEERBENCH_DIR)")
    sys.path.insert(0, str(PEERBENCH_DIR))  # the engine scripts import harness/dataset
    try:
        spec = importlib.util.spec_from_file_location(f"peerbench_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(PEERBENCH_DIR))


def rule_engine_peer(workload: str) -> Runner:
    try:
        import rule_engine  # type: ignore[import-untyped]
    except ImportError as exc:
        raise Skip("rule_engine not installed (pip install rule-engine)") from exc
    rules = _peerbench_module("engine_ruleengine").RULES  # the peer benchmark's expressions
    rule = rule_engine.Rule(rules[workload])
    return lambda rows: [rule.evaluate({"qf": qf, "demandeur_emploi": de}) for qf, de in rows]


def zen_peer(workload: str) -> Runner:
    try:
        import zen
    except ImportError as exc:
        raise Skip("zen not installed (pip install zen-engine)") from exc
    jdm = PEERBENCH_DIR / "rules" / f"{workload}.jdm.json"
    if not jdm.is_file():
        raise Skip(f"{jdm} not found (set PEERBENCH_DIR)")
    content = json.loads(jdm.read_text(encoding="utf-8"))
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {workload: content}}})
    ev = engine.evaluate
    return lambda rows: [ev(workload, {"qf": qf, "demandeur_emploi": de})["result"]["prix"] for qf, de in rows]


def _version(dist: str) -> Callable[[], str]:
    def get() -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"{dist} {version(dist)}"
        except PackageNotFoundError:
            return "not installed"

    return get


PY = f"CPython {platform.python_version()}"
ENGINES = [
    Engine("tarifrules", "`RuleSet.evaluate(situation, date=01/09/2025)`, then `.outputs[name].value`",
           tarifrules_evaluate, _version("tarifrules"), reference=True),
    Engine("tarifrules function()", "`RuleSet.function(name, date=01/09/2025)` called with the data as keyword "
           "arguments (`f(quotient_familial=qf, demandeur_emploi=de)`), returning the `Decimal` (compiled code)",
           tarifrules_function, _version("tarifrules")),
    Engine("tarifrules interpret", "`RuleSet.interpret(situation, date=…)`: the reference interpreter (closures "
           "over the AST) that the compiled `evaluate` and `function()` are checked against",
           tarifrules_interpret, _version("tarifrules")),
    Engine("tarifrules date=None", "same, `date` left out (today: one `date.today()` per call)",
           lambda w: tarifrules_evaluate(w, today=True), _version("tarifrules")),
    Engine("tarifrules + .missing", "same, then `Evaluation.missing` on every result",
           lambda w: tarifrules_explaining(w, missing=True, explain=False), _version("tarifrules")),
    Engine("tarifrules + .explain()", "same, then `Evaluation.explain()` on every result (tracing re-run)",
           lambda w: tarifrules_explaining(w, missing=False, explain=True), _version("tarifrules"), heavy=True),
    Engine("tarifrules + .missing, job unknown",
           "cantine with `demandeur_emploi` left out of the situation (unknown result for QF ≥ 400 €), "
           "then `.missing` (tracing re-run). Checked against the spec: a value only when both answers agree, "
           "else `missing == ('demandeur_emploi',)`; ratios are not like-for-like",
           tarifrules_unknown_job, _version("tarifrules"), workloads=("cantine",), check=check_unknown_job),
    Engine("plain-python", "hand-written: bisect + floats (grid), integer cents (rate), as peerbench",
           plain, lambda: PY),
    Engine("python-decimal", "hand-written: bisect + `Decimal`, `quantize(ROUND_HALF_UP)` (exact)",
           decimal_python, lambda: PY),
    Engine("rule-engine", "peerbench expression, `Rule.evaluate(dict)` per household",
           rule_engine_peer, _version("rule-engine")),
    Engine("zen", "peerbench JDM, `ZenEngine.evaluate(key, ctx)` per household",
           zen_peer, _version("zen-engine")),
]


# --- measuring -----------------------------------------------------------------------------
@dataclass
class Settings:
    n: int
    min_reps: int
    max_reps: int
    time_cap: float  # stop repeating after min_reps once this many seconds were spent
    heavy_max_reps: int
    load_reps: int
    cold_reps: int


@dataclass
class Result:
    engine: str
    workload: str
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # process CPU time of each repetition
    mismatches: int = 0
    examples: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def cpu_share(self) -> float:
        """CPU time / wall time: well under 1 means the process was kept off its core."""
        return sum(self.cpu) / sum(self.times)


def timed(run: Runner, rows: Sequence[Row], min_reps: int, max_reps: int,
          cap: float) -> tuple[list[float], list[float], list[Any]]:
    """Wall times, CPU times and the last output of the repetitions."""
    run(rows[:1000])  # warm-up: first-call effects are measured in (a), not here
    times: list[float] = []
    cpu: list[float] = []
    out: list[Any] = []
    for rep in range(max_reps):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        out = run(rows)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if rep + 1 >= min_reps and sum(times) > cap:
            break
    return times, cpu, out


def as_decimal(value: Any) -> Decimal | None:
    """Exact comparison: floats by their shortest repr (1.05 → Decimal('1.05'))."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    return None


def compare(reference: list[Any], got: list[Any], rows: Sequence[Row]) -> tuple[int, list[str]]:
    bad = 0
    examples: list[str] = []
    for i, (ref, value) in enumerate(zip(reference, got, strict=True)):
        a, b = as_decimal(ref), as_decimal(value)
        if a is None or b is None or a != b:
            bad += 1
            if len(examples) < 3:
                examples.append(f"QF={rows[i][0]} DE={rows[i][1]}: {value!r} vs tarifrules {ref!r}")
    return bad, examples


def bench_throughput(rows: list[Row], s: Settings, log: Callable[[str], None]) -> list[Result]:
    results = []
    for workload in WORKLOADS:
        reference: list[Any] | None = None
        for engine in ENGINES:
            if workload not in engine.workloads:
                continue
            r = Result(engine.name, workload)
            try:
                run = engine.prepare(workload)
            except Skip as exc:
                r.skipped = str(exc)
                results.append(r)
                log(f"  {engine.name:26s} {workload:11s} skipped: {exc}")
                continue
            max_reps = s.heavy_max_reps if engine.heavy else s.max_reps
            r.times, r.cpu, out = timed(run, rows, s.min_reps, max_reps, s.time_cap)
            if engine.check is not None:
                r.mismatches, r.examples = engine.check(out, rows)
            elif engine.reference:
                reference = out
                # tarifrules itself must give a value for every household of these workloads
                r.mismatches = sum(1 for v in out if as_decimal(v) is None)
            else:
                assert reference is not None
                r.mismatches, r.examples = compare(reference, out, rows)
            results.append(r)
            log(f"  {engine.name:26s} {workload:11s} {len(rows) / r.median:12,.0f} evals/s "
                f"(median of {len(r.times)}, CPU {r.cpu_share:.0%}) mismatches={r.mismatches}")
    return results


@dataclass
class LoadResult:
    file: str
    lines: int
    first: float
    warm: list[float]
    compile: list[float] = field(default_factory=list)  # `RuleSet.compile()` after a load


WARM_UP = """délibération "Préchauffage"
  applicable à partir du 01/09/2025

données
  quotient_familial : montant entier au minimum 0 €, quotient familial CAF

résultats
  tarif : montant, prix

article 1 "Tarif"
  tarif : grille selon quotient_familial
    moins de 400 €      : 1,00 €
    à partir de 400 €   : 2,00 €
    à défaut            : 2,00 €
"""


def bench_loads(s: Settings) -> list[LoadResult]:
    import tarifrules

    # One-time costs of the process (the parser, the catalogue, the checks' modules) are paid
    # by a small file first; they are measured on their own in a fresh process (below).
    tarifrules.load(WARM_UP).compile()
    out = []
    for path in sorted(EXAMPLES.glob("*.tarif")):
        gc.collect()
        t0 = time.perf_counter()
        tarifrules.load(path)
        first = time.perf_counter() - t0
        warm = []
        for _ in range(s.load_reps):
            t0 = time.perf_counter()
            tarifrules.load(path)
            warm.append(time.perf_counter() - t0)
        compile_times = []
        for _ in range(max(1, s.load_reps // 4)):
            rules = tarifrules.load(path)
            t0 = time.perf_counter()
            rules.compile()
            compile_times.append(time.perf_counter() - t0)
        lines = len(path.read_text(encoding="utf-8").splitlines())
        out.append(LoadResult(path.name, lines, first, warm, compile_times))
    return out


COLD_CODE = r"""
import datetime, json, sys, time
t0 = time.perf_counter()
import tarifrules
t1 = time.perf_counter()
rs = tarifrules.load(sys.argv[1])
t2 = time.perf_counter()
tarifrules.load(sys.argv[1])
t3 = time.perf_counter()
rs.evaluate({"quotient_familial": 650, "demandeur_emploi": True}, date=datetime.date(2025, 9, 1))
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_load": t2 - t1, "second_load": t3 - t2, "first_eval": t4 - t3}))
"""


def bench_cold(s: Settings) -> dict[str, list[float]]:
    """Fresh interpreters (inherit the CPU pinning): import, first load (builds the parser)."""
    runs: dict[str, list[float]] = {}
    path = str(EXAMPLES / WORKLOADS["cantine"][0])
    for _ in range(s.cold_reps):
        p = subprocess.run([sys.executable, "-c", COLD_CODE, path], capture_output=True, text=True, check=True)
        for k, v in json.loads(p.stdout.strip().splitlines()[-1]).items():
            runs.setdefault(k, []).append(v)
    return runs


EVAL_ONE = ["eval", str(EXAMPLES / WORKLOADS["cantine"][0]), "--set", "quotient_familial=650",
            "--set", "demandeur_emploi=non", "--date", "01/09/2025"]
CLI_COMMANDS = {  # label -> (arguments after the interpreter, or after `tarifrules`; rules cache used)
    "`python -c pass` (the interpreter alone)": (["-c", "pass"], False),
    "`tarifrules --version`": (["--version"], False),
    "`tarifrules eval` of one household (cantine), rules cache off": (EVAL_ONE, False),
    "`tarifrules eval` of one household (cantine), checked rules from the cache": (EVAL_ONE, True),
}


@dataclass
class CliResult:
    label: str
    walls: list[float]
    peak_kib: int


def bench_cli(s: Settings) -> list[CliResult]:
    """Fresh processes of the command line, as a user starts them: wall time and peak RSS (os.wait4).
    With the rules cache, a first (untimed) run checks the file and fills it."""
    script = str(Path(sys.executable).with_name("tarifrules"))
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for label, (args, cached) in CLI_COMMANDS.items():
            command = [sys.executable, *args] if args[0] == "-c" else [script, *args]
            env = {**os.environ, "TARIFRULES_CACHE": os.path.join(folder, "cache") if cached else "non"}
            if cached:
                subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
            walls, peak = [], 0
            for _ in range(max(5, 2 * s.cold_reps)):
                t0 = time.perf_counter()
                child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                _, status, usage = os.wait4(child.pid, 0)
                walls.append(time.perf_counter() - t0)
                child.returncode = os.waitstatus_to_exitcode(status)
                if child.returncode != 0:
                    raise RuntimeError(f"{command} exited with {child.returncode}")
                peak = max(peak, usage.ru_maxrss)
            out.append(CliResult(label, walls, peak))
    return out


def cli_lines(results: list[CliResult]) -> list[str]:
    if not results:
        return []
    base = statistics.median(results[0].walls)
    bytecode = ("`PYTHONDONTWRITEBYTECODE` is set: modules without an up-to-date `.pyc` are compiled from "
                "source at every start" if os.environ.get("PYTHONDONTWRITEBYTECODE") else
                "bytecode caches (`.pyc`) written and reused as usual")
    L = ["## Command line: cold start and memory\n",
         f"Fresh processes ({len(results[0].walls)} each), wall time from start to exit; peak RSS from `os.wait4`; "
         f"× interpreter = median over the median of `python -c pass`. {bytecode}. Target of issue 6: "
         "`tarifrules --version` ≤ 150 ms. *Rules cache off*: `TARIFRULES_CACHE=non`, each start parses and "
         "checks the file; *from the cache*: an earlier command checked it (docs/cli.md, « Cache des fichiers "
         "vérifiés »).\n",
         "| command | best (ms) | median (ms) | × interpreter | peak RSS (MiB) | target |",
         "|---|---:|---:|---:|---:|---|"]
    for r in results:
        median = statistics.median(r.walls)
        target = (("met" if median <= 0.150 else "NOT met") + " (≤ 150 ms)") if "--version" in r.label else ""
        L.append(f"| {r.label} | {ms(min(r.walls))} | {ms(median)} | {median / base:.1f} | "
                 f"{r.peak_kib / 1024:.1f} | {target} |")
    L.append("")
    return L


# --- report --------------------------------------------------------------------------------
def pin_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (os.sched_setaffinity unavailable)"
    try:
        cpus = sorted(os.sched_getaffinity(0))
        cpu = cpus[-1]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu} (of {len(cpus)} available)"
    except OSError as exc:
        return f"not pinned ({exc})"


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "?"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def git_describe() -> str:
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" (src/ with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def rate(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ")


def ms(x: float) -> str:
    return f"{x * 1e3:.2f}"


def report(rows_n: int, loads: list[LoadResult], cold: dict[str, list[float]], results: list[Result],
           pinning: str, command: str, loadavg: tuple[str, str], table: list[Any] | None = None,
           cli: list[CliResult] | None = None) -> str:
    L: list[str] = []
    L.append("# Benchmarks of tarifrules\n")
    L.append(f"Generated {datetime.datetime.now():%Y-%m-%d %H:%M} by `{command}` (run from the repository root).\n")
    L.append(f"- Machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}; "
             f"process {pinning}; load average (1 min) {loadavg[0]} at start, {loadavg[1]} at the end")
    L.append(f"- Python: {sys.implementation.name} {platform.python_version()}; tarifrules "
             f"{_version('tarifrules')().split()[-1]} at commit {git_describe()}")
    peers = ", ".join(f"{d} {_version(d)().split()[-1]}" for d in ("rule-engine", "zen-engine"))
    L.append(f"- Peers: {peers}; peer rules from `{os.path.relpath(PEERBENCH_DIR, ROOT)}`")
    L.append(f"- Households: {rows_n:,} (peerbench generator, seed {SEED}: QF uniform 0..3000, 5 % unknown, "
             "10 % job seekers), evaluated at 01/09/2025\n")
    L.append("Timings: `time.perf_counter` (wall) and `time.process_time` (CPU of this process), repeated; "
             "**median** (and best) over the repetitions. A repetition covers building each engine's input from "
             "the in-memory rows, evaluating and extracting the price. *CPU share* = CPU time / wall time over "
             "the repetitions: well under 100 % means other processes kept this one off its core (shared "
             "machine) and the wall-time rate is pessimistic. µs per evaluation and the ratios (> 1 = slower) "
             "are therefore computed on the median **CPU** time per repetition, between engines of this run "
             "only. Nothing here is asserted by the tests (`tests/test_benchmarks.py` only runs a tiny version "
             "and checks 0 mismatches).\n")

    def cost(r: Result) -> float:
        return r.cpu_median if r.cpu_median > 0 else r.median

    ref = {r.workload: r for r in results if r.engine == "tarifrules" and r.times}
    base = {r.workload: r for r in results if r.engine == "plain-python" and r.times}
    L.append("## Evaluation throughput (one core, per household)\n")
    L.append("Mismatches: prices different from tarifrules' `evaluate` (compared exactly as decimals); "
             "for tarifrules itself, households without a value; for *job unknown*, results that differ from the "
             "spec (see Engines).\n")
    L.append("| engine | workload | evaluations/s (median wall) | best (wall) | CPU share | evaluations per "
             "CPU-second | µs per evaluation (CPU) | × tarifrules | × plain Python | mismatches | reps |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if r.skipped:
            L.append(f"| {r.engine} | {r.workload} | skipped: {r.skipped} | | | | | | | | |")
            continue
        xt = f"{cost(r) / cost(ref[r.workload]):.2f}" if r.workload in ref else "–"
        xp = f"{cost(r) / cost(base[r.workload]):.1f}" if r.workload in base else "–"
        L.append(f"| {r.engine} | {r.workload} | {rate(rows_n / r.median)} | {rate(rows_n / r.best)} | "
                 f"{r.cpu_share:.0%} | {rate(rows_n / cost(r))} | {cost(r) / rows_n * 1e6:.2f} | {xt} | {xp} | "
                 f"{r.mismatches} | {len(r.times)} |")
    L.append("")
    examples = [f"- {r.engine} / {r.workload}: " + "; ".join(r.examples) for r in results if r.examples]
    if examples:
        L.append("Mismatch examples:\n")
        L += examples
        L.append("")
    L.append("Engines:\n")
    for e in ENGINES:
        L.append(f"- **{e.name}** ({e.version()}): {e.description}")
    L.append("")

    if table:
        from bench_table import report_lines

        L += report_lines(table)

    L.append("## Load + check (`tarifrules.load`)\n")
    L.append("In this process, after one small file was loaded and compiled (the parser, the catalogue and the "
             "checks are then built; their one-time cost is the fresh-process table below): first load of each "
             "file, then warm reloads "
             "(best / median). Target of issue 3: under 50 ms.\n")
    L.append("| file | lines | first load (ms) | warm best (ms) | warm median (ms) | < 50 ms | compile median (ms) |")
    L.append("|---|---:|---:|---:|---:|---|---:|")
    for lr in loads:
        worst = max(lr.first, statistics.median(lr.warm))
        L.append(f"| {lr.file} | {lr.lines} | {ms(lr.first)} | {ms(min(lr.warm))} | "
                 f"{ms(statistics.median(lr.warm))} | {'yes' if worst < 0.05 else 'NO'} | "
                 f"{ms(statistics.median(lr.compile)) if lr.compile else '–'} |")
    L.append("")
    if cold:
        L.append(f"Fresh interpreter ({len(cold['import'])} processes, `{WORKLOADS['cantine'][0]}`): best / median.\n")
        L.append("| step | best (ms) | median (ms) |")
        L.append("|---|---:|---:|")
        labels = {"import": "`import tarifrules`",
                  "first_load": "first `load` (includes building the lark parser)",
                  "second_load": "second `load` of the same file",
                  "first_eval": "first `evaluate`"}
        for k, label in labels.items():
            L.append(f"| {label} | {ms(min(cold[k]))} | {ms(statistics.median(cold[k]))} |")
        L.append("")

    L += cli_lines(cli or [])

    L.append("## Targets of issue 3\n")
    if "cantine" in ref:
        v = rows_n / ref["cantine"].median
        r = ref["cantine"]
        L.append(f"- `RuleSet.evaluate`, cantine, one core: {rate(v)} evaluations/s (median wall time; best "
                 f"{rate(rows_n / r.best)}, {rate(rows_n / r.cpu_median)} per CPU-second, CPU share "
                 f"{r.cpu_share:.0%}) — target ≥ 100 000: {'met' if v >= 100_000 else 'NOT met'}")
    L.append("")
    L.append("## Targets of issue 6 (compiled evaluation)\n")
    L.append("Per CPU-second (median CPU time per repetition), so that a busy machine does not hide the ratios; "
             "\"× plain\" is the CPU time per household against hand-written plain Python in the same run "
             "(the contract check D1 asks ≤ 3.3× on cantine, ≤ 2.5× on taux d'effort).\n")
    rows_by = {(r.engine, r.workload): r for r in results if r.times}
    for engine, workload, target, ratio in (("tarifrules function()", "cantine", 2_000_000, 3.3),
                                            ("tarifrules function()", "taux_effort", 1_000_000, 2.5),
                                            ("tarifrules", "cantine", 300_000, None),
                                            ("tarifrules", "taux_effort", 300_000, None)):
        r = rows_by.get((engine, workload))
        if r is None:
            continue
        v = rows_n / cost(r)
        line = (f"- `{'RuleSet.function' if 'function' in engine else 'RuleSet.evaluate (full result object)'}`, "
                f"{workload}: {rate(v)} evaluations per CPU-second — target ≥ {rate(target)}: "
                f"{'met' if v >= target else 'NOT met'}")
        if workload in base:
            x = cost(r) / cost(base[workload])
            line += f"; {x:.2f}× plain Python" + (f" (≤ {ratio}×: {'met' if x <= ratio else 'NOT met'})"
                                                  if ratio else "")
        interpreted = rows_by.get(("tarifrules interpret", workload))
        if engine == "tarifrules" and interpreted is not None:
            line += f"; {cost(interpreted) / cost(r):.1f}× faster than the interpreter"
        L.append(line)
    compiled = [lr.compile for lr in loads if lr.compile]
    if compiled:
        worst = max(max(lr.first, statistics.median(lr.warm)) + statistics.median(lr.compile) for lr in loads)
        L.append(f"- load + check + compile, slowest file: {ms(worst)} ms (warm load median + compile median) — "
                 f"target ≤ 20 ms: {'met' if worst <= 0.02 else 'NOT met'}")
    worst_warm = max(statistics.median(lr.warm) for lr in loads)
    worst_first = max(lr.first for lr in loads)
    L.append(f"- load + check, slowest file: {ms(worst_first)} ms first load, {ms(worst_warm)} ms warm median — "
             f"target < 50 ms: {'met' if max(worst_first, worst_warm) < 0.05 else 'NOT met'}")
    version = next((r for r in cli or [] if "--version" in r.label), None)
    if version is not None:
        median = statistics.median(version.walls)
        L.append(f"- CLI cold start `tarifrules --version`: {ms(median)} ms median — target ≤ 150 ms: "
                 f"{'met' if median <= 0.150 else 'NOT met'}")
    if cold:
        fl = statistics.median(cold["first_load"])
        L.append(f"- first load in a fresh process (parser construction included): {ms(fl)} ms median "
                 f"({'under' if fl < 0.05 else 'over'} 50 ms)")
    L.append("")
    return "\n".join(L)


def kept_sections(text: str) -> list[str]:
    """Sections other scripts write above the peerbench marker, between `<!-- keep: NAME … -->` and
    `<!-- /keep: NAME -->` (benchmarks/sql_bench.py): rewriting the report keeps them."""
    top = text.split(PEERBENCH_MARKER, 1)[0]
    return [match.group(0) for match in re.finditer(r"<!-- keep: (\w+).*?-->.*?<!-- /keep: \1 -->", top, re.S)]


def write_results(text: str, path: Path) -> None:
    tail = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        for section in kept_sections(old):
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        if PEERBENCH_MARKER in old:
            tail = old[old.index(PEERBENCH_MARKER):]
    if not tail:
        tail = (PEERBENCH_MARKER + "\n\n## Shared peer benchmark (peerbench)\n\n"
                "Not run yet: `python benchmarks/run_peerbench.py` (see benchmarks/README.md).\n")
    path.write_text(text + "\n" + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 000 households, fewer repetitions")
    ap.add_argument("--households", type=int, help="number of households (default 100 000, --quick 10 000)")
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/RESULTS.md")
    ap.add_argument("--output", type=Path, default=RESULTS, help="where to write the Markdown report")
    ap.add_argument("--json", type=Path, help="also dump the raw measurements to this JSON file")
    ap.add_argument("--table-rows", type=int,
                    help="rows for evaluate_table and `tarifrules batch` (default 1 000 000; "
                         "--quick 100 000; 10 × --households when that is given)")
    a = ap.parse_args(argv)

    if a.quick:
        s = Settings(n=10_000, min_reps=3, max_reps=5, time_cap=3.0, heavy_max_reps=3, load_reps=5, cold_reps=2)
    else:
        s = Settings(n=100_000, min_reps=3, max_reps=9, time_cap=20.0, heavy_max_reps=3, load_reps=20, cold_reps=5)
    if a.households:
        s.n = a.households
    command = "python benchmarks/bench.py" + "".join(" " + shlex.quote(x) for x in (argv if argv is not None
                                                                                   else sys.argv[1:]))

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    pinning = pin_one_core()
    load_start = load_average()
    log(f"{pinning}; {s.n:,} households")
    rows = households(s.n)
    log("load + check ...")
    cold = bench_cold(s)
    cli = bench_cli(s)
    loads = bench_loads(s)
    log("throughput ...")
    results = bench_throughput(rows, s, log)
    from bench_table import bench_batch, bench_evaluate_table

    table_rows = a.table_rows or (10 * s.n if a.households else 100_000 if a.quick else 1_000_000)
    log(f"columnar, {table_rows:,} rows ...")
    references = {"cantine": _decimal_cantine, "taux_effort": _decimal_taux}
    table = [*bench_evaluate_table(table_rows, s.min_reps if a.quick else 7, log, references),
             *(bench_batch(table_rows, 1 if a.quick else 7, log, cached=cached) for cached in (False, True))]

    text = report(s.n, loads, cold, results, pinning, command, (load_start, load_average()), table, cli)
    print(text)
    if not a.no_write:
        write_results(text, a.output)
        log(f"wrote {a.output}")
    if a.json:
        a.json.write_text(json.dumps({
            "households": s.n,
            "pinning": pinning,
            "throughput": [{"engine": r.engine, "workload": r.workload, "times_s": r.times, "cpu_s": r.cpu,
                            "mismatches": r.mismatches, "examples": r.examples, "skipped": r.skipped}
                           for r in results],
            "loads": [{"file": lr.file, "first_s": lr.first, "warm_s": lr.warm, "compile_s": lr.compile}
                      for lr in loads],
            "cold": cold,
            "table": [{"measure": t.what, "workload": t.workload, "rows": t.rows, "times_s": t.times,
                       "numpy_s": t.baseline, "mismatches": t.mismatches} for t in table],
        }, indent=1), encoding="utf-8")
    return 1 if any(r.mismatches for r in results) or any(t.mismatches for t in table) else 0


if __name__ == "__main__":
    sys.exit(main())
