"""Find a household for which some conditions hold (or none does), by exhaustive search.

The data a set of conditions reads are enumerated over the values that can change a
result: both booleans, every choice of a list, and for numbers their domain's lower
end and each threshold written in the rules, one step (the datum's granularity) below
and above. For the comparisons with constants that tariffs are made of, this search is
exact; it is skipped (nothing is claimed) when the space is too large.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from .. import nodes as n
from ..diagnostics import TarifError
from ..evaluate import Compiler, Env, literal_value
from ..nodes import UNIT_OF_KIND
from ..symbols import dependency_parts, references
from ..values import spell
from .context import Context

MAX_HOUSEHOLDS = 20_000
_CONTINUOUS_STEP = Decimal("0.0001")


def reachable_data(context: Context, exprs: list[n.Expr]) -> list[str]:
    """Data read by the expressions, directly or through the names they use."""
    found = {ref.name for part in dependency_parts(context.symbols, exprs) for ref in references(part)}
    return [name for name in context.symbols.data if name in found]


def _thresholds(context: Context, name: str) -> Iterator[Any]:
    """Constants a datum is compared with, anywhere in the file."""
    for article in context.program.articles:
        for definition in article.definitions:
            for part in n.definition_parts(definition):
                for node in n.walk(part):
                    yield from _node_thresholds(node, name)


def _node_thresholds(node: n.Expr | n.Grid | n.Cases, name: str) -> Iterator[Any]:
    match node:
        case n.Compare(left=n.Ref(name=ref), right=n.Number() as number) | n.Compare(
            right=n.Ref(name=ref), left=n.Number() as number
        ) if ref == name:
            yield literal_value(number)
        case n.IsOneOf(subject=n.Ref(name=ref), choices=choices) if ref == name:
            yield from (Decimal(c) for c in choices if c.isdigit())
        case n.Grid(selector=n.Ref(name=ref), rows=rows) if ref == name:
            for row in rows:
                for bound in (row.lower, row.upper):
                    if bound is not None and isinstance(bound.value, n.Number):
                        yield literal_value(bound.value)


def candidates(context: Context, name: str) -> list[Any]:
    declaration = context.symbols.data[name]
    spec = declaration.type
    if spec.kind is n.Kind.BOOLEEN:
        return [False, True]
    if spec.kind is n.Kind.ENUM:
        return list(spec.choices)
    if spec.kind is n.Kind.DATE:
        return []  # dates are not enumerated: no claim is made on date conditions
    low, high = context.domain(name)
    step = context.step(name) or _CONTINUOUS_STEP
    values = {low} if low is not None else set()
    for threshold in _thresholds(context, name):
        values.update((threshold - step, threshold, threshold + step))
    return sorted(v for v in values if (low is None or v >= low) and (high is None or v <= high))


class Undecided:
    """The search could not look at every meaningful household: nothing is proven."""

    __slots__ = ()


UNDECIDED = Undecided()


def search(context: Context, conditions: list[n.Expr],
           accept: Callable[[list[Any]], bool]) -> dict[str, Any] | Undecided | None:
    """A household (data → value) for which `accept(values of conditions)` is true; None when
    there is none (proven), `UNDECIDED` when the households cannot all be enumerated."""
    names = reachable_data(context, conditions)
    domains = [candidates(context, name) for name in names]
    if any(not d for d in domains) or not _enumerable(context, conditions):
        return UNDECIDED
    total = 1
    for domain in domains:
        total *= len(domain)
    if total > MAX_HOUSEHOLDS:
        return UNDECIDED
    compiler = Compiler(context.symbols)
    functions = [compiler.expr(c) for c in conditions]
    for values in itertools.product(*domains):
        data = dict(zip(names, values, strict=True))
        env = Env(data)
        try:
            results = [f(env) for f in functions]
        except (TarifError, ArithmeticError, TypeError):
            continue
        if accept(results):
            return data
    return None


def _enumerable(context: Context, conditions: list[n.Expr]) -> bool:
    """True when results only change at the thresholds `candidates` tries: numbers from the
    data are compared or graded as they are, never computed on first."""
    data = context.symbols.data
    for part in dependency_parts(context.symbols, conditions):
        for node in n.walk(part):
            computed = isinstance(node, (n.Arith, n.Extremum, n.Limit, n.Round))
            if computed and any(data[ref.name].type.kind in _NUMERIC for ref in references(node) if ref.name in data):
                return False
    return True


_NUMERIC = {n.Kind.MONTANT, n.Kind.NOMBRE, n.Kind.DECIMAL, n.Kind.TAUX}


def describe(context: Context, household: dict[str, Any]) -> str:
    """`quotient_familial = 650 €, demandeur_emploi = non` (values of one household)."""
    parts = []
    for name, value in household.items():
        spec = context.symbols.data[name].type
        text = spell(value, UNIT_OF_KIND.get(spec.kind), whole_euros=spec.granularity is n.Granularity.ENTIER)
        parts.append(f"{name} = {text}")
    return ", ".join(parts) if parts else "toujours"
