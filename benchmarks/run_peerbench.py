#!/usr/bin/env python
"""Run the shared peer benchmark (../shared/peerbench) with tarifrules added, and copy its
table into benchmarks/RESULTS.md (below the peerbench marker; bench.py keeps that part).

    python benchmarks/run_peerbench.py                       # sizes 1,1000,100000
    python benchmarks/run_peerbench.py --sizes 1,1000 --engines plain-python,tarifrules

Peers run from the virtual environments that peerbench's `run_all.sh --install-only`
creates under $PEERS (default /tmp/peers); by default every peer whose environment exists
is kept (plus tarifrules and tarifrules-explain), the others are left out with a note.
tarifrules runs with this interpreter (`python` is put first on PATH for the child
processes). The peer benchmark's own RESULTS.md is never touched: its output goes to
--out-dir. Each (engine, workload, N) is a fresh process; numbers are never asserted.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import PEERBENCH_DIR, PEERBENCH_MARKER, RESULTS, ROOT

EXTRA = ROOT / "benchmarks" / "peerbench-extra.json"
PEERS = Path(os.environ.get("PEERS", "/tmp/peers"))
# peer -> what it needs under $PEERS (zen-batch / zen-decision are left out by default: slow, same engine)
NEEDS = {
    "plain-python": "venv-base/bin/python",
    "numpy": "venv-base/bin/python",
    "openfisca": "venv-openfisca/bin/python",
    "zen": "venv-zen/bin/python",
    "rule-engine": "venv-ruleengine/bin/python",
    "publicodes": "node/node_modules/publicodes",
}
OURS = ("tarifrules", "tarifrules-explain", "tarifrules-function", "tarifrules-table")
API = {  # peerbench report.py only describes its own engines
    "tarifrules": "`.tarif` reference file, RuleSet.evaluate(situation dict) per household, `.outputs[name].value`",
    "tarifrules-explain": "same, plus `.missing` and `.explain()` per household",
    "tarifrules-function": "`RuleSet.function(name)`: the compiled callable, data as keyword arguments, per household",
    "tarifrules-table": "`RuleSet.evaluate_table` on the NumPy columns (masked QF), exact decimal128 prices",
}


def default_engines() -> tuple[list[str], list[str]]:
    keep: list[str] = []
    missing: list[str] = []
    for name, need in NEEDS.items():
        (keep if (PEERS / need).exists() else missing).append(name)
    return keep + list(OURS), missing


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "?"


def targets(raw: Path) -> list[str]:
    """Issue 6's columnar target read from peerbench's raw results: at 1 M households, evaluate_table at
    ≥ 20 M/s and ≥ 2× OpenFisca, on both workloads; and mismatches of our engines at every size."""
    import json
    import statistics

    runs = [json.loads(line) for line in raw.read_text(encoding="utf-8").splitlines() if line.strip()]
    rate = {(r["engine"], r["workload"], r["n"]): r["n"] / statistics.median(r["times_s"])
            for r in runs if "times_s" in r}
    lines = []
    for workload in ("cantine", "taux_effort"):
        ours, peer = rate.get(("tarifrules-table", workload, 1_000_000)), rate.get(("openfisca", workload, 1_000_000))
        if ours is None or peer is None:
            continue
        met = ours >= 20e6 and ours >= 2 * peer
        lines.append(f"Issue 6 target, {workload}, 1 M households: `evaluate_table` {ours / 1e6:.1f} M/s, "
                     f"{ours / peer:.1f}× OpenFisca ({peer / 1e6:.1f} M/s) — ≥ 20 M/s and ≥ 2×: "
                     f"{'met' if met else 'NOT met'}.")
    ours = [r for r in runs if str(r["engine"]).startswith("tarifrules")]
    if ours:
        bad = sum(int(r.get("mismatches", 0)) for r in ours) + sum("error" in r for r in ours)
        lines.append(f"tarifrules engines: {bad} mismatching or failed run(s) over {len(ours)} "
                     "(engine, workload, N) processes.")
    return lines


def merge(peer_results: Path, command: str, notes: list[str]) -> None:
    text = peer_results.read_text(encoding="utf-8")
    for name, api in API.items():
        text = re.sub(rf"^(\| {re.escape(name)} \| [^|]+ \|) *\|$", rf"\1 {api} |", text, flags=re.M)
    text = text.split("## How the benchmark is built", 1)[0].rstrip()  # NOTES.md: linked, not copied
    text = re.sub(r"^# Peer benchmark.*\n+", "", text)
    text = re.sub(r"^(#+) ", r"#\1 ", text, flags=re.M)  # one level down: a section of RESULTS.md
    text = text.replace("by `run_all.sh` (bench.py + report.py)", "by peerbench bench.py + report.py")
    head = [
        PEERBENCH_MARKER, "",
        "## Shared peer benchmark (peerbench), with tarifrules", "",
        f"Run {datetime.datetime.now():%Y-%m-%d %H:%M} with `{command}` from the repository root "
        f"(peer benchmark: `{os.path.relpath(PEERBENCH_DIR, ROOT)}`, engine script "
        "`benchmarks/peerbench_tarifrules.py`, listed in `benchmarks/peerbench-extra.json`). "
        "Each (engine, workload, N) is a fresh process, not pinned to a core; its prices are checked "
        "against the exact spec of peerbench `dataset.py`. `tarifrules-explain` also computes `.missing` and "
        "`.explain()` for every household. Protocol and encoding notes: peerbench `NOTES.md`. "
        "Ratios are only meaningful within this run.", "",
    ]
    head += [f"- {n}" for n in notes] + ([""] if notes else [])
    section = "\n".join(head) + "\n" + text + "\n"
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks of tarifrules\n\n"
    top = old.split(PEERBENCH_MARKER, 1)[0].rstrip() + "\n\n"
    RESULTS.write_text(top + section, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,1000,100000")
    ap.add_argument("--engines", help="comma-separated peerbench engine names (default: every installed one)")
    ap.add_argument("--out-dir", type=Path, default=Path("/tmp/tarifrules-peerbench"))
    ap.add_argument("--no-merge", action="store_true", help="leave benchmarks/RESULTS.md alone")
    ap.add_argument("--min-reps", type=int, help="peerbench's PEERBENCH_MIN_REPS (default 3): repetitions per "
                    "process before its time cap applies; 1 bounds the slow engines (Publicodes: ~200 s per 1 M)")
    a = ap.parse_args(argv)

    if not (PEERBENCH_DIR / "bench.py").is_file():
        print(f"peer benchmark not found in {PEERBENCH_DIR} (set PEERBENCH_DIR)", file=sys.stderr)
        return 2
    notes = []
    if a.engines:
        engines = a.engines.split(",")
    else:
        engines, missing = default_engines()
        if missing:
            notes.append(f"Not installed under `{PEERS}`, left out: {', '.join(missing)} "
                         f"(`bash {os.path.relpath(PEERBENCH_DIR, ROOT)}/run_all.sh --install-only`).")
    a.out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ,
               PEERS=str(PEERS),
               PEERBENCH_EXTRA=str(EXTRA),
               PEERBENCH_ENGINES=",".join(engines),
               PEERBENCH_SIZES=a.sizes,
               PEERBENCH_OUT_DIR=str(a.out_dir),
               **({"PEERBENCH_MIN_REPS": str(a.min_reps)} if a.min_reps else {}),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    command = "python benchmarks/run_peerbench.py" + "".join(" " + shlex.quote(x) for x in
                                                            (argv if argv is not None else sys.argv[1:]))
    print(f"PEERBENCH_ENGINES={env['PEERBENCH_ENGINES']} PEERBENCH_SIZES={a.sizes} "
          f"PEERBENCH_OUT_DIR={a.out_dir} PEERBENCH_EXTRA={EXTRA} python {PEERBENCH_DIR / 'bench.py'}", flush=True)
    load_start = load_average()
    p = subprocess.run([sys.executable, str(PEERBENCH_DIR / "bench.py")], env=env)
    notes.append(f"Load average (1 min) of the machine: {load_start} at start, {load_average()} at the end "
                 f"({os.cpu_count()} logical CPUs).")
    if p.returncode != 0:
        return p.returncode
    notes += targets(a.out_dir / "results.jsonl")
    if not a.no_merge:
        merge(a.out_dir / "RESULTS.md", command, notes)
        print(f"merged {a.out_dir / 'RESULTS.md'} into {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
