"""Differential testing of the SQL compilation: generated households, loaded into an engine,
computed by the query and by `RuleSet.evaluate`, compared value by value.

Households are drawn around every number the file writes (grid bounds ± one step,
half-cent ties come from taux d'effort on whole euros), with unknown data (NULL) and a
few values the situation reader refuses (negative, too many decimals, unknown choice).
"""

from __future__ import annotations

import csv
import datetime
import os
import random
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from tarifrules import nodes as n
from tarifrules.diagnostics import TarifError
from tarifrules.ruleset import RuleSet
from tarifrules.sql.query import STATUS, build_query
from tarifrules.sql.typed import DIV_SCALE

SLOW = os.environ.get("TARIFRULES_SLOW") == "1"
HOUSEHOLDS = 100_000 if SLOW else 2_000
"""Households per example file: 100 000 with TARIFRULES_SLOW=1, a few thousand by default."""

COLUMN_TYPES = {
    n.Kind.MONTANT: "DECIMAL(24, 6)", n.Kind.NOMBRE: "DECIMAL(24, 6)", n.Kind.DECIMAL: "DECIMAL(24, 6)",
    n.Kind.TAUX: "DECIMAL(24, 6)", n.Kind.BOOLEEN: "BOOLEAN", n.Kind.DATE: "DATE", n.Kind.ENUM: "VARCHAR",
}


def evaluation_day(ruleset: RuleSet) -> datetime.date:
    """A day inside the validity period (the first one: also inside any mid-October window)."""
    return ruleset.valid_from


def _literals(ruleset: RuleSet) -> list[Decimal]:
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


def _numeric(spec: n.TypeSpec, rng: random.Random, literals: list[Decimal]) -> Decimal:
    low = spec.minimum.value if spec.minimum else Decimal(0)
    high = spec.maximum.value if spec.maximum else None
    places = {n.Granularity.ENTIER: 0, n.Granularity.CENTIME: 2}.get(spec.granularity or n.Granularity.CONTINU, 3)
    if spec.kind is n.Kind.NOMBRE:
        places = 0
    step = Decimal(1).scaleb(-places)
    draw = rng.random()
    if draw < 0.35 and literals:
        value = rng.choice(literals) + rng.choice((-step, Decimal(0), step))
    elif spec.kind is n.Kind.NOMBRE:
        value = low + rng.randint(0, 9)
    elif draw < 0.9:
        value = Decimal(rng.randint(0, 4_000 * 10**places)).scaleb(-places)
    else:
        value = Decimal(rng.randint(0, 200_000 * 10**places)).scaleb(-places)
    value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value.quantize(step) if places else Decimal(int(value))


def _invalid(spec: n.TypeSpec, rng: random.Random) -> Any:
    if spec.kind is n.Kind.ENUM:
        return "hors_liste"
    if spec.kind in (n.Kind.BOOLEEN, n.Kind.DATE):
        return None
    low = spec.minimum.value if spec.minimum else Decimal(0)
    if rng.random() < 0.5 or spec.kind in (n.Kind.DECIMAL, n.Kind.TAUX):
        return low - 1
    return low + Decimal("0.5") if spec.granularity is not n.Granularity.CENTIME else low + Decimal("0.125")


def households(ruleset: RuleSet, count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    literals = _literals(ruleset)
    declarations = ruleset.program.data
    for _ in range(count):
        household: dict[str, Any] = {}
        for declaration in declarations:
            spec = declaration.type
            draw = rng.random()
            if draw < 0.12:
                value: Any = None
            elif draw < 0.125:
                value = _invalid(spec, rng)
            elif spec.kind is n.Kind.BOOLEEN:
                value = rng.random() < 0.5
            elif spec.kind is n.Kind.ENUM:
                value = rng.choice(spec.choices)
            elif spec.kind is n.Kind.DATE:
                value = datetime.date(2025, 1, 1) + datetime.timedelta(days=rng.randint(0, 800))
            else:
                value = _numeric(spec, rng, literals)
            household[declaration.name] = value
        yield household


def write_csv(ruleset: RuleSet, rows: list[dict[str, Any]], path: Path) -> None:
    names = [d.name for d in ruleset.program.data]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["__id", *names])
        for index, row in enumerate(rows):
            writer.writerow([index, *("" if row[k] is None else _csv(row[k]) for k in names)])


def _csv(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def column_types(ruleset: RuleSet) -> dict[str, str]:
    return {"__id": "BIGINT", **{d.name: COLUMN_TYPES[d.type.kind] for d in ruleset.program.data}}


def python_row(ruleset: RuleSet, household: dict[str, Any], day: datetime.date) -> tuple[dict[str, Any], str | None]:
    """Outputs and statut as the SQL query should give them, from the Python evaluator."""
    situation = {k: v for k, v in household.items() if v is not None}
    try:
        evaluation = ruleset.evaluate(situation, date=day)
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
                day: datetime.date) -> list[str]:
    """Every disagreement between the query's rows (keyed by `__id`) and the evaluator."""
    approximate = build_query(ruleset, date=day).approximate
    found: list[str] = []
    for index, household in enumerate(rows):
        outputs, status = python_row(ruleset, household, day)
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
