"""tarifrules: délibérations tarifaires en règles exécutables, expliquées, minimales en données.

Public API (pinned by tests/test_public_api.py):

* `load(path_or_text) -> RuleSet` — read, parse and check a `.tarif` file;
* `RuleSet.evaluate(situation, *, date=None) -> Evaluation`;
* `Evaluation.outputs[name]` (`.status`, `.value`, `.unit`), `.missing`, `.explain()`;
* `RuleSet.function(name, *, date=None)` — a fast function of the data as keyword arguments,
  returning the value or `INCONNU` (the unknown marker, `repr` « inconnu »);
* `TarifError` (carries `.diagnostics`), `Diagnostic`, `Severity`;
* `check(path_or_text) -> list[Diagnostic]` — every diagnostic, without raising for check errors;
* `format_source(text) -> str` — the canonical layout of a file.
"""

from .api import check, format_source
from .diagnostics import Diagnostic, Severity, TarifError
from .ruleset import Evaluation, Output, RuleSet, load
from .values import UNKNOWN as INCONNU

__version__ = "0.1.0"

__all__ = [
    "INCONNU",
    "Diagnostic",
    "Evaluation",
    "Output",
    "RuleSet",
    "Severity",
    "TarifError",
    "__version__",
    "check",
    "format_source",
    "load",
]
