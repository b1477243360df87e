#!/usr/bin/env python
"""tarifrules as an engine of the shared peer benchmark (../shared/peerbench).

Follows the protocol of peerbench `harness.py`:

    python benchmarks/peerbench_tarifrules.py --workload cantine|taux_effort --n N
        --reps R --min-reps M --time-cap S --out FILE [--variant evaluate|explain]

prints one JSON line and writes one price per line. Variants: `evaluate` (the default),
`explain`, `function` (`RuleSet.function`, the compiled callable) and `table`
(`RuleSet.evaluate_table` on the harness's NumPy columns; prices are read from the exact
Arrow decimal column it returns). `load` (timed by the harness) covers
`import tarifrules` and `tarifrules.load` of the reference file; each repetition builds one
situation dict per household, calls `RuleSet.evaluate` (date 01/09/2025) and reads
`.outputs[name].value` (a `Decimal`; the harness writes it as a float). Variant `explain`
also computes `.missing` and `.explain()` for every household.

The harness is imported from $PEERBENCH_DIR (default: ../shared/peerbench from the
repository root). To run the peer benchmark with this engine, see benchmarks/README.md
(`peerbench-extra.json`, `run_peerbench.py`).
"""

import datetime
import os
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PEERBENCH_DIR = Path(os.environ.get("PEERBENCH_DIR", ROOT.parent / "shared" / "peerbench"))
sys.path.insert(0, str(PEERBENCH_DIR))
import harness  # type: ignore[import-not-found]  # noqa: E402

EXAMPLES = ROOT / "examples" / "deliberations"
FILES = {"cantine": ("restauration-scolaire.tarif", "tarif_repas"),
         "taux_effort": ("accueil-loisirs-taux-effort.tarif", "tarif_journee")}
DAY = datetime.date(2025, 9, 1)


Rows = Sequence[tuple[int | None, bool]]


def load(workload: str, variant: str = "evaluate") -> Callable[[Rows], list[Any]]:
    import tarifrules

    name, out = FILES[workload]
    ev = tarifrules.load(EXAMPLES / name).evaluate
    cantine = workload == "cantine"
    if variant == "evaluate":
        if cantine:
            return lambda rows: [ev({"quotient_familial": qf, "demandeur_emploi": de}, date=DAY).outputs[out].value
                                 for qf, de in rows]
        return lambda rows: [ev({"quotient_familial": qf}, date=DAY).outputs[out].value for qf, _ in rows]

    def explaining(rows: Rows) -> list[Any]:
        prices = []
        for qf, de in rows:
            e = ev({"quotient_familial": qf, "demandeur_emploi": de} if cantine else {"quotient_familial": qf},
                   date=DAY)
            e.missing  # noqa: B018 (lazy: computing it is what is measured)
            e.explain()
            prices.append(e.outputs[out].value)
        return prices

    return explaining


def load_function(workload: str) -> Callable[[Rows], list[Any]]:
    """Variant `function`: `RuleSet.function(name)`, the compiled callable for hot loops."""
    import tarifrules

    name, out = FILES[workload]
    f = tarifrules.load(EXAMPLES / name).function(out, date=DAY)
    if workload == "cantine":
        return lambda rows: [f(quotient_familial=qf, demandeur_emploi=de) if qf is not None
                             else f(demandeur_emploi=de) for qf, de in rows]
    return lambda rows: [f(quotient_familial=qf) if qf is not None else f() for qf, _ in rows]


class _Prices:
    """An exact Arrow decimal column read as the harness reads prices (after timing)."""

    def __init__(self, column: Any):
        self.column = column

    def __iter__(self) -> Any:
        return (value.as_py() for value in self.column)


def load_table(workload: str) -> Callable[[Any], Any]:
    """Variant `table`: `RuleSet.evaluate_table` on the columns (layout `columns` of the harness)."""
    import numpy as np

    import tarifrules

    name, out = FILES[workload]
    ruleset = tarifrules.load(EXAMPLES / name)

    def evaluate(columns: Any) -> Any:
        qf, qf_known, de = columns
        table = {"quotient_familial": np.ma.masked_array(qf, mask=~qf_known)}
        if workload == "cantine":
            table["demandeur_emploi"] = de
        return _Prices(ruleset.evaluate_table(table, date=DAY).outputs[out].to_arrow())

    return evaluate


def version() -> str:
    from importlib.metadata import version as dist_version

    return f"tarifrules {dist_version('tarifrules')} (CPython {platform.python_version()})"


if __name__ == "__main__":
    chosen = sys.argv[sys.argv.index("--variant") + 1] if "--variant" in sys.argv else "evaluate"
    if chosen == "table":
        harness.run("tarifrules", version, lambda workload, variant: load_table(workload), layout="columns",
                    variants=("table",))
    elif chosen == "function":
        harness.run("tarifrules", version, lambda workload, variant: load_function(workload), variants=("function",))
    else:
        harness.run("tarifrules", version, load, variants=("evaluate", "explain"))
