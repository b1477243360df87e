"""Differential testing of the SQL compilation: sizes, the numbers a file writes, and the
row-by-row comparison of the query's rows with `RuleSet.evaluate` or `RuleSet.interpret`.

The households themselves are drawn by `sql_households`; the bulk comparison is in
`sql_reference`.
"""

from __future__ import annotations

import datetime
import os
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from tarifrules import nodes as n
from tarifrules.diagnostics import TarifError
from tarifrules.ruleset import RuleSet
from tarifrules.sql.query import STATUS, build_query
from tarifrules.sql.typed import DIV_SCALE

SLOW = os.environ.get("TARIFRULES_SLOW") == "1"
HOUSEHOLDS = 1_000_000 if SLOW else 100_000
"""Households per example file compared in bulk with `evaluate_table`: 1 000 000 with TARIFRULES_SLOW=1."""
SAMPLE = 100_000 if SLOW else 2_000
"""Households per example file also computed by the interpreter, one by one."""


TIES = """\
délibération "Arrondis aux demis"
  collectivité : "Commune d'Essai"
  applicable à partir du 01/01/2025
  note : "montants fictifs"

données
  x : décimal, déclaré par la famille
  d : décimal au minimum 1, déclaré par la famille

résultats
  proche : montant, arrondi au centime le plus proche
  dessous : montant, arrondi au centime inférieur
  dessus : montant, arrondi au centime supérieur
  cinq : montant, arrondi aux 5 centimes
  euro : montant, arrondi à l'euro
  quotient : montant, quotient arrondi
  brut : montant, quotient non arrondi

article 1 "Arrondis"
  ecart : (x − 5) × 1 €
  proche : ecart, arrondi au centime le plus proche
  dessous : ecart, arrondi au centime inférieur
  dessus : ecart, arrondi au centime supérieur
  cinq : ecart, arrondi au multiple de 0,05 € le plus proche
  euro : ecart, arrondi à l'euro le plus proche
  quotient : ecart / d, arrondi au centime le plus proche
  brut : ecart / d
"""
"""Rounding ties: positive and negative halves, every rounding mode, quotients (kept and rounded)."""


def evaluation_day(ruleset: RuleSet) -> datetime.date:
    """A day inside the validity period (the first one: also inside any mid-October window)."""
    return ruleset.valid_from


def literals(ruleset: RuleSet) -> list[Decimal]:
    """Every number the file writes: grid bounds and literals (households are drawn around them)."""
    found: set[Decimal] = set()
    for article in ruleset.program.articles:
        for definition in article.definitions:
            for part in n.definition_parts(definition):
                for node in n.walk(part):
                    if isinstance(node, n.Grid):
                        for row in node.rows:
                            for bound in (row.lower, row.upper):
                                if bound is not None:
                                    found.add(bound.value.value)
                    if isinstance(node, n.Number):
                        found.add(node.value)
    return sorted(found)


def python_row(ruleset: RuleSet, household: dict[str, Any], day: datetime.date, *,
               interpret: bool = False) -> tuple[dict[str, Any], str | None]:
    """Outputs and statut as the SQL query should give them, from the Python evaluator
    (`RuleSet.evaluate`, or the reference interpreter `RuleSet.interpret`)."""
    situation = {k: v for k, v in household.items() if v is not None and k in ruleset.data_names}
    evaluate = ruleset.interpret if interpret else ruleset.evaluate
    try:
        evaluation = evaluate(situation, date=day)
    except TarifError as exc:
        code = exc.diagnostics[0].code
        return dict.fromkeys(ruleset.output_names), f"erreur {code}"
    outputs = {name: (o.value if o.status == "value" else None) for name, o in evaluation.outputs.items()}
    if all(v is not None for v in outputs.values()):
        return outputs, None
    missing = evaluation.missing
    return outputs, ("manque : " + ", ".join(missing)) if missing else "indéterminé"


def same(expected: Any, actual: Any, approximate: bool) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, (int, Decimal)):
        wanted = Decimal(expected)
        if approximate:
            wanted = wanted.quantize(Decimal(1).scaleb(-DIV_SCALE), rounding=ROUND_HALF_EVEN)
        return isinstance(actual, Decimal) and actual == wanted
    return bool(expected == actual)


def differences(ruleset: RuleSet, rows: list[dict[str, Any]], result: dict[int, dict[str, Any]],
                day: datetime.date, *, interpret: bool = False) -> list[str]:
    """Every disagreement between the query's rows (keyed by `__id`) and the evaluator."""
    approximate = build_query(ruleset, date=day).approximate
    found: list[str] = []
    for index, household in enumerate(rows):
        outputs, status = python_row(ruleset, household, day, interpret=interpret)
        got = result[index]
        for name, value in outputs.items():
            if not same(value, got[name], name in approximate):
                found.append(f"{household}: {name} attendu {value!r}, SQL {got[name]!r}")
        sql_status = got[STATUS]
        if status is None or not status.startswith("erreur"):
            if sql_status != status:
                found.append(f"{household}: statut attendu {status!r}, SQL {sql_status!r}")
        elif not (isinstance(sql_status, str) and sql_status.startswith(status)):
            found.append(f"{household}: statut attendu {status!r}…, SQL {sql_status!r}")
    return found
