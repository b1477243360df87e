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

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import check, format_source
    from .diagnostics import Diagnostic, Severity, TarifError
    from .ruleset import Evaluation, Output, RuleSet, load
    from .values import UNKNOWN as INCONNU

__version__ = "0.1.0"

# Imported on first use (PEP 562): `tarifrules --version` and `import tarifrules.cli` must not
# build the grammar, the checks and the catalogue models.
_LAZY = {"check": "api", "format_source": "api", "Diagnostic": "diagnostics", "Severity": "diagnostics",
         "TarifError": "diagnostics", "Evaluation": "ruleset", "Output": "ruleset", "RuleSet": "ruleset",
         "load": "ruleset", "INCONNU": "values"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tarifrules' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), "UNKNOWN" if name == "INCONNU" else name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

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
